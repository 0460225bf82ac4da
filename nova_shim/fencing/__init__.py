"""Persistent-reservation fencing and the lease agent (``ebs-lease-agent``).

Runs on compute hosts that share a multi-attach disk: one host at a time
is primary, holding the disk's write-exclusive persistent reservation and
refreshing a lease record on it; a standby that takes over preempts the
old primary's key, so the device itself cuts off a host that lost the
lease. Nothing here depends on the attach side of :mod:`nova_shim`.
"""
