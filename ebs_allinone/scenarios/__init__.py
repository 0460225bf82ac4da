"""What ``ebs-allinone`` runs on a started stack, and how it reports.

``demo``, ``serve`` and ``failover`` are the commands; ``startup`` their
common first steps; ``failover_steps`` and ``failover_run`` the fenced
failover; ``backend`` the checks against the EBS backend; ``report`` the
output; ``prerequisites`` what an option needs installed.
"""
