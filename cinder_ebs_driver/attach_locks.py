"""The coordination locks that attach and detach hold.

ECS attaches one multi-attach disk to different instances concurrently and
enforces its own limit of 16 instances atomically (see
:mod:`ebs_emulator.actions_attach` for the evidence), so attachments of a
volume on different hosts need no lock between them. What must be atomic:

* everything one host does with the volume: two attachments on one host
  (two guests of one compute node) must not both send AttachDisk, and a
  detach from the host must not overlap an attach to it. One lock per
  (volume, host) covers the whole attach or detach, wait included;
* the count of the volume's hosts when ``ebs_max_attach_hosts`` is below
  ECS's limit: the count decides whether AttachDisk is sent, and since
  DescribeDisks lists an attachment only once it is complete, the count
  is exact only while no other attachment of the volume is in progress.
  The volume-wide lock (the one delete, extend and retype hold) then
  covers the attach too.

The locks come from :mod:`cinder.coordination`, so that they hold between
the volume services of an active-active cluster too (tooz).
"""

import contextlib

from cinder import coordination

# The volume-wide lock; also the name the driver's @synchronized methods
# (delete, extend, revert, retype) format with their ``volume`` argument.
VOLUME_LOCK = 'ebs-{volume.id}'
HOST_LOCK = 'ebs-{volume.id}-host-{host}'


def volume_lock_name(volume):
    return VOLUME_LOCK.format(volume=volume)


def host_lock_name(volume, host):
    return HOST_LOCK.format(volume=volume, host=host)


def attach_lock_names(volume, host, counts_hosts):
    """The names of the locks an attach holds, in acquisition order."""
    names = [host_lock_name(volume, host)]
    if counts_hosts:
        names.append(volume_lock_name(volume))
    return names


@contextlib.contextmanager
def held(names):
    """Hold the coordination locks ``names``, taken in the given order.

    Every caller takes the host lock before the volume lock, so two
    callers never wait for each other's second lock.
    """
    with contextlib.ExitStack() as stack:
        for name in names:
            stack.enter_context(coordination.COORDINATOR.get_lock(name))
        yield
