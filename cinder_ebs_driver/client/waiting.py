"""Waiting for disks, attachments and snapshots to reach a state.

A wait gives up after ``ebs_state_timeout`` seconds with
:class:`~cinder_ebs_driver.exception.EBSTimeout`.  A wait for the end of
a transition (a create, an attach, a detach, a deletion, a snapshot) is
timed by the last transition of its kind:

* its first read comes when the last one was seen done (when the read
  that saw it done was sent, so that reads' durations do not pile up in
  the estimate); when that read sees it done too, the next wait reads a
  little earlier (``FIRST_POLL_SHARE``), so that the estimate follows a
  backend that became faster;
* when it is not done yet, the next read comes a tenth of the expected
  time later (``FOLLOW_UP_SHARE``; between a fiftieth of
  ``ebs_state_poll_interval`` and that interval), and the gap doubles
  from there up to ten times ``ebs_state_poll_interval``: a slow backend
  is read less and less often.

So a backend whose transitions take about the same time is read once or
twice per transition.  Before the first transition of a kind, and for
waits that name none, the state is read at once, then after a quarter of
``ebs_state_poll_interval`` (the whole interval for unnamed waits),
doubling.
"""

import functools
import time

from cinder_ebs_driver.client import backoff
from cinder_ebs_driver.client import disks
from cinder_ebs_driver.client import snapshots
from cinder_ebs_driver import exception
from cinder_ebs_driver.i18n import _

# After a first read that saw the transition done, the next wait of its
# kind reads first at this share of the time that read came at.
FIRST_POLL_SHARE = 0.9
# After a first read that came too early, the next one comes this share
# of the expected time later, within these shares of the poll interval.
FOLLOW_UP_SHARE = 0.1
MIN_GAP_SHARE = 0.02
MAX_GAP_SHARE = 1.0
# Before the first transition of a kind: the gap after the first read, as
# a share of the poll interval.
UNKNOWN_GAP_SHARE = 0.25


class Waiters(object):
    """State waits; mixed into :class:`~cinder_ebs_driver.client.EBSClient`.

    Needs the disk and snapshot reads (``get_disk``, ``_find_disk``,
    ``get_snapshot``) and the options read by
    :class:`~cinder_ebs_driver.client.calls.BaseClient`.
    """

    def _poll(self, fetch, done, waited_for, describe, timeout,
              transition=None):
        """Poll; ``transition`` names the kind of change waited for.

        See the module's description for when the reads come.
        """
        interval = self._poll_interval
        expected = (self._transition_times.get(transition)
                    if transition is not None else None)
        if expected is None:
            first_delay = 0.0
            gap = interval * (UNKNOWN_GAP_SHARE if transition is not None
                              else 1.0)
        else:
            first_delay = expected
            gap = min(max(expected * FOLLOW_UP_SHARE,
                          interval * MIN_GAP_SHARE),
                      interval * MAX_GAP_SHARE)
        # When each read was sent: the state it answers is the state of
        # that moment, not of when the answer came back.
        reads = []

        def counted_fetch():
            reads.append(time.monotonic())
            return fetch()

        start = time.monotonic()
        result = backoff.poll(
            counted_fetch, done, gap,
            self._state_timeout if timeout is None else timeout,
            waited_for, describe=describe, sleep=self._sleep,
            first_delay=first_delay,
            max_interval=interval * backoff.POLL_INTERVAL_GROWTH)
        if transition is not None:
            # Timed up to the read that saw it done, not past its answer:
            # otherwise every estimate would grow by a read's duration.
            seen_done = reads[-1] - start
            if expected is not None and len(reads) == 1:
                # Done at the first read: it might have been earlier.
                seen_done *= FIRST_POLL_SHARE
            self._transition_times[transition] = seen_done
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
                raise exception.EBSBackendError(
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
