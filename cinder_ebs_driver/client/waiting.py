"""Waiting for disks, attachments and snapshots to reach a state.

The waiters poll with an interval starting at ``ebs_state_poll_interval``
and doubling up to ten times that, and give up after ``ebs_state_timeout``
seconds with :class:`~cinder_ebs_driver.exceptions.EBSTimeout`.  A wait
for the end of a transition (an attach, a detach, a deletion, a snapshot)
reads the state first when the same kind of transition took to finish
last time (a little earlier, so that the estimate follows a backend that
became faster), not right after the call that started it.
"""

import functools
import time

from cinder_ebs_driver import backoff
from cinder_ebs_driver.client import disks
from cinder_ebs_driver.client import snapshots
from cinder_ebs_driver import exceptions
from cinder_ebs_driver.i18n import _

# The first read of a transition's wait comes at this share of the time
# the last transition of its kind took.
FIRST_POLL_SHARE = 0.8


class Waiters(object):
    """State waits; mixed into :class:`~cinder_ebs_driver.client.EBSClient`.

    Needs the disk and snapshot reads (``get_disk``, ``_find_disk``,
    ``get_snapshot``) and the options read by
    :class:`~cinder_ebs_driver.client.calls.BaseClient`.
    """

    def _poll(self, fetch, done, waited_for, describe, timeout,
              transition=None):
        """Poll; ``transition`` names the kind of change waited for.

        The first read of a transition's wait comes at
        FIRST_POLL_SHARE of the time the last one of its kind took.
        """
        expected = self._transition_times.get(transition, 0.0)
        start = time.monotonic()
        result = backoff.poll(
            fetch, done, self._poll_interval,
            self._state_timeout if timeout is None else timeout,
            waited_for, describe=describe, sleep=self._sleep,
            first_delay=expected * FIRST_POLL_SHARE)
        if transition is not None:
            self._transition_times[transition] = time.monotonic() - start
        return result

    def wait_for_disk_status(self, disk_id, statuses, timeout=None,
                             transition=None):
        """Wait until a disk is in one of ``statuses``; answer the disk.

        :param statuses: a status or a collection of them.
        :param timeout: seconds; ``ebs_state_timeout`` by default.
        :param transition: the kind of change waited for (``'create'``
            ...), when a call just started one: the first read then comes
            when the last change of that kind was done.
        :raises EBSTimeout: not in time.
        :raises EBSNotFound: the disk disappeared.
        """
        if isinstance(statuses, str):
            statuses = (statuses,)
        statuses = tuple(statuses)
        return self._poll(
            lambda: self.get_disk(disk_id),
            lambda disk: disk.get('Status') in statuses,
            _('disk %(disk)s to reach status %(statuses)s') % {
                'disk': disk_id, 'statuses': ' or '.join(statuses)},
            disks.describe_disk, timeout, transition=transition)

    def wait_for_attachment(self, disk_id, instance_id, attached=True,
                            timeout=None):
        """Wait until a disk is attached to (or detached from) an instance.

        Attached means the instance is listed in the disk's attachments;
        detached means it is not listed (or the disk is gone).  A
        multi-attach disk lists an attachment once it is complete; for
        other disks the disk must also have left ``Attaching`` or
        ``Detaching``.  Answers the disk (None when waiting for a detach
        of a deleted disk).

        :raises EBSTimeout: not in time.
        """
        def settled(disk, transient):
            return (disk.get('MultiAttach') == disks.MULTI_ATTACH_ENABLED
                    or disk.get('Status') != transient)

        if attached:
            def done(disk):
                return (instance_id in disks.attached_instance_ids(disk)
                        and settled(disk, disks.DISK_ATTACHING))
            fetch = functools.partial(self.get_disk, disk_id)
            waited_for = _('disk %(disk)s to be attached to %(instance)s')
            transition = 'attach'
        else:
            def done(disk):
                return disk is None or (
                    instance_id not in disks.attached_instance_ids(disk)
                    and settled(disk, disks.DISK_DETACHING))
            fetch = functools.partial(self._find_disk, disk_id)
            waited_for = _('disk %(disk)s to be detached from %(instance)s')
            transition = 'detach'
        return self._poll(
            fetch, done,
            waited_for % {'disk': disk_id, 'instance': instance_id},
            disks.describe_disk, timeout, transition=transition)

    def wait_for_snapshot(self, snapshot_id, timeout=None):
        """Wait until a snapshot is ``accomplished``; answer the snapshot.

        :raises EBSBackendError: the snapshot failed.
        :raises EBSTimeout: not in time.
        """
        def fetch():
            snapshot = self.get_snapshot(snapshot_id)
            if snapshot.get('Status') == snapshots.SNAPSHOT_FAILED:
                raise exceptions.EBSBackendError(
                    action='CreateSnapshot', code='SnapshotFailed',
                    error_message=_('The snapshot %s failed.') % snapshot_id)
            return snapshot

        def describe(snapshot):
            return _('status %(status)s, progress %(progress)s') % {
                'status': snapshot.get('Status'),
                'progress': snapshot.get('Progress')}

        return self._poll(
            fetch,
            lambda snapshot: (snapshot.get('Status')
                              == snapshots.SNAPSHOT_ACCOMPLISHED),
            _('snapshot %s to be accomplished') % snapshot_id,
            describe, timeout, transition='snapshot')

    def wait_for_disk_deleted(self, disk_id, timeout=None):
        """Wait until a disk is no longer listed.

        :raises EBSTimeout: not in time.
        """
        self._poll(
            lambda: self._find_disk(disk_id),
            lambda disk: disk is None,
            _('disk %s to be deleted') % disk_id,
            disks.describe_disk, timeout, transition='delete')
