"""Asynchronous status transitions, as on the real service.

Actions only record what has to happen and when (``due_at``); this
worker applies the transitions once they are due:

* disk Creating -> Available, ReIniting -> Available;
* attachment attaching -> attached (the device path appears),
  detaching -> gone (the device path disappears);
* snapshot progressing -> accomplished.

Because the pending work is in the database, a restart simply finishes
what was in flight.
"""

import functools
import threading
import time

from oslo_log import log as logging

from ebs_emulator import db

LOG = logging.getLogger(__name__)
# Upper bound of one sleep, so that a missed wake-up costs little.
MAX_SLEEP = 1.0


def apply_due(service, session, now, after_commit):
    """Apply every transition due at ``now``; return the next due time.

    Work that must wait until the transaction is committed is appended
    to ``after_commit``: dropping a detached instance's reservation
    registration writes to the database from the data path's process,
    and the calls that wait for a transition end once it is visible
    (:mod:`ebs_emulator.overlaps`).
    """
    settled = service.overlaps.settled
    for disk in session.query(db.Disk).filter(db.Disk.due_at <= now):
        disk.status = 'Available'
        disk.due_at = None
        after_commit.append(functools.partial(settled, 'disk', disk.id))
    for snapshot in session.query(db.Snapshot).filter(
            db.Snapshot.due_at <= now):
        snapshot.status = 'accomplished'
        snapshot.due_at = None
        after_commit.append(functools.partial(settled, 'snapshot',
                                              snapshot.id))
    for attachment in session.query(db.Attachment).filter(
            db.Attachment.due_at <= now):
        after_commit.append(functools.partial(
            settled, 'attachment', attachment.disk_id,
            attachment.instance_id))
        disk = session.get(db.Disk, attachment.disk_id)
        if attachment.state == 'attaching':
            service.expose(attachment.disk_id, attachment.instance_id)
            service.apply_limits(disk)
            attachment.state = 'attached'
            attachment.due_at = None
            disk.attached_at = now
        elif attachment.state == 'detaching':
            after_commit.append(functools.partial(
                service.devices.withdraw, attachment.disk_id,
                attachment.instance_id))
            session.delete(attachment)
            disk.detached_at = now
    return _next_due(session)


def _next_due(session):
    candidates = [
        session.query(db.Disk.due_at).filter(db.Disk.due_at.isnot(None)),
        session.query(db.Snapshot.due_at).filter(
            db.Snapshot.due_at.isnot(None)),
        session.query(db.Attachment.due_at).filter(
            db.Attachment.due_at.isnot(None)),
    ]
    times = [row[0] for query in candidates for row in query]
    return min(times) if times else None


class TransitionWorker(threading.Thread):
    """Background thread that runs :func:`apply_due` when work is due."""

    def __init__(self, service):
        super().__init__(name='ebs-emulator-transitions', daemon=True)
        self._service = service
        self._wakeup = threading.Event()
        self._stopping = False

    def wake(self):
        self._wakeup.set()

    def stop(self):
        self._stopping = True
        self._wakeup.set()
        if self.is_alive():
            self.join(timeout=30)

    def run(self):
        while not self._stopping:
            self._wakeup.clear()
            try:
                next_due = self._service.run_transitions()
            except Exception:
                LOG.exception('Applying status transitions failed')
                next_due = None
            sleep = MAX_SLEEP
            if next_due is not None:
                sleep = min(max(next_due - time.time(), 0.0), MAX_SLEEP)
            if sleep > 0:
                self._wakeup.wait(sleep)
