"""The simulated compute hosts and what runs on them.

``base`` declares the host surface; ``device`` is a host without a
hypervisor, ``guest`` one with a private libvirtd (``libvirt_daemons``)
and a tiny QEMU guest (``guests``, ``guest_image``, ``guest_iobench``,
``guest_support``). ``appwriter``, ``direct_io`` and ``shared_disk`` are
what the hosts' applications write with.
"""
