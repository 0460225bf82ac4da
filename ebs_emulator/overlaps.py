"""Per-disk record of mutating calls, and the conflicting overlaps.

A mutating call is *in flight* on a disk from the moment the service
takes the request until the disk's transition that the call started is
over: AttachDisk until the attachment is ``attached``, DetachDisk until
it is gone, CreateDisk and ResetDisk until the disk is ``Available``,
CreateSnapshot until the snapshot is ``accomplished``. A call that starts
no transition (ResizeDisk, DeleteDisk, ModifyDiskSpec, ModifyDiskAttribute,
TagResources, UntagResources, and every refused call) is in flight until
its answer. A client that serializes its work on a disk waits for the
transition before it sends the next call, so its calls never overlap.

The rule, by what a call touches:

* ``disk``: CreateDisk, DeleteDisk, ResizeDisk, ModifyDiskSpec and
  ResetDisk change the whole disk; one of them in flight conflicts with
  any other call in flight on the same disk;
* ``instance``: AttachDisk and DetachDisk conflict with each other only
  for the same instance: ECS attaches a multi-attach disk to several
  instances at once, so attachments to different instances may overlap;
* ``snapshot`` (CreateSnapshot) and ``metadata`` (ModifyDiskAttribute,
  TagResources, UntagResources with disks) conflict only with the
  ``disk`` calls: ECS itself refuses a second snapshot of a disk while
  one is in progress.

Refused calls count too: a refusal that arrives while a conflicting call
is in flight means the client sent both at once.

The record lives in memory: it starts empty with each start of the
emulator and holds the calls in flight, the finished calls that may still
overlap one in flight, and the last :data:`MAX_REPORTED` overlaps.
"""

import collections
import contextlib
import re
import threading
import time

from ebs_emulator import db
from ebs_emulator import exception

DISK = 'disk'
INSTANCE = 'instance'
SNAPSHOT = 'snapshot'
METADATA = 'metadata'

SCOPES = {
    'CreateDisk': DISK,
    'DeleteDisk': DISK,
    'ResizeDisk': DISK,
    'ModifyDiskSpec': DISK,
    'ResetDisk': DISK,
    'AttachDisk': INSTANCE,
    'DetachDisk': INSTANCE,
    'CreateSnapshot': SNAPSHOT,
    'ModifyDiskAttribute': METADATA,
    'TagResources': METADATA,
    'UntagResources': METADATA,
}

RULE = ('A mutating call is in flight on a disk from its arrival to the '
        'end of the transition it started (its answer when it starts '
        'none). Two calls in flight on one disk at once conflict when one '
        'of them is CreateDisk, DeleteDisk, ResizeDisk, ModifyDiskSpec or '
        'ResetDisk, or when both are AttachDisk/DetachDisk for the same '
        'instance. Attachments to different instances, snapshots and '
        'metadata changes may overlap each other.')

MAX_REPORTED = 100
_RESOURCE_ID = re.compile(r'^ResourceId\.\d+$')


def conflict(first, second):
    """Whether two operations on one disk may not be in flight together."""
    if DISK in (first.scope, second.scope):
        return True
    if first.scope == second.scope == INSTANCE:
        return first.instance_id == second.instance_id
    return False


def overlap(first, second):
    """Whether two finished operations were in flight at the same time."""
    return first.started < second.ended and second.started < first.ended


class Operation(object):
    """One mutating call on one disk."""

    __slots__ = ('action', 'disk_id', 'scope', 'instance_id', 'started',
                 'ended', 'error', 'settles_on')

    def __init__(self, action, disk_id, instance_id, started):
        self.action = action
        self.disk_id = disk_id
        self.scope = SCOPES[action]
        self.instance_id = instance_id
        self.started = started
        self.ended = None
        self.error = None
        # The transition that ends it: (kind, id...), see settled().
        self.settles_on = None

    def view(self):
        return {'action': self.action, 'disk_id': self.disk_id,
                'scope': self.scope, 'instance_id': self.instance_id,
                'started': self.started, 'ended': self.ended,
                'error': self.error}


def _disk_ids(action, params):
    """The disks a call names in its parameters (none for CreateDisk)."""
    if action in ('TagResources', 'UntagResources'):
        if str(params.get('ResourceType', '')).lower() != 'disk':
            return []
        return [value for key, value in sorted(params.items())
                if _RESOURCE_ID.match(key) and value]
    if action == 'ModifyDiskAttribute' and params.get('DiskIds'):
        return re.findall(r'[\w.-]+', str(params['DiskIds']))
    disk_id = params.get('DiskId')
    return [disk_id] if disk_id else []


def _transition(operation, result, session):
    """What ends an accepted operation: a pending transition, or None."""
    action = operation.action
    if action in ('AttachDisk', 'DetachDisk'):
        row = session.get(db.Attachment,
                          (operation.disk_id, operation.instance_id))
        if row is not None and row.due_at is not None:
            return ('attachment', operation.disk_id, operation.instance_id)
    elif action in ('CreateDisk', 'ResetDisk'):
        row = session.get(db.Disk, operation.disk_id)
        if row is not None and row.due_at is not None:
            return ('disk', operation.disk_id)
    elif action == 'CreateSnapshot':
        row = session.get(db.Snapshot, result.get('SnapshotId'))
        if row is not None and row.due_at is not None:
            return ('snapshot', row.id)
    return None


class Tracker(object):
    """The operations of one call, from its arrival to its answer."""

    def __init__(self, recorder, action, params):
        self._recorder = recorder
        self.action = action
        self.operations = []
        self._started = recorder.clock()
        if action in SCOPES:
            for disk_id in _disk_ids(action, params):
                self.operations.append(recorder.begin(
                    action, disk_id, params.get('InstanceId')))

    def answered(self, result, session):
        """The call succeeded; ``session`` still holds its changes."""
        if not isinstance(result, dict):
            return
        session.flush()
        if self.action == 'CreateDisk' and result.get('DiskId'):
            self.operations.append(self._recorder.begin(
                self.action, result['DiskId'], started=self._started))
        for operation in self.operations:
            operation.settles_on = _transition(operation, result, session)

    def finish(self, error=None):
        """The answer is sent: end what does not wait for a transition."""
        for operation in self.operations:
            if error is not None:
                operation.error = error
                operation.settles_on = None
            if operation.settles_on is None:
                self._recorder.end(operation)


class OverlapRecorder(object):
    """Mutating calls per disk; reports conflicting overlaps."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._open = collections.defaultdict(list)
            self._finished = collections.defaultdict(list)
            self._overlaps = collections.deque(maxlen=MAX_REPORTED)
            self.recorded = collections.Counter()
            self.conflicts = 0

    @contextlib.contextmanager
    def track(self, action, params):
        """Around one call: ``yield`` a :class:`Tracker`."""
        tracker = Tracker(self, action, params or {})
        try:
            yield tracker
        except exception.EcsError as e:
            tracker.finish(e.code)
            raise
        except Exception:
            tracker.finish('InternalError')
            raise
        tracker.finish()

    def begin(self, action, disk_id, instance_id=None, started=None):
        with self._lock:
            # Taken under the lock: _prune() relies on no operation
            # starting before its horizon once that is computed.
            operation = Operation(action, disk_id, instance_id,
                                  self.clock() if started is None
                                  else started)
            self._open[disk_id].append(operation)
            self.recorded[action] += 1
        return operation

    def end(self, operation, ended=None):
        """An operation is over: compare it with the finished ones."""
        with self._lock:
            operation.ended = self.clock() if ended is None else ended
            disk_id = operation.disk_id
            self._open[disk_id].remove(operation)
            finished = self._finished[disk_id]
            for other in finished:
                if conflict(other, operation) and overlap(other, operation):
                    self.conflicts += 1
                    self._overlaps.append(tuple(sorted(
                        (other, operation), key=lambda op: op.started)))
            finished.append(operation)
            self._prune(disk_id)

    def settled(self, *key):
        """A transition is over: end what waited for it.

        ``key`` is ``('attachment', disk_id, instance_id)``,
        ``('disk', disk_id)`` or ``('snapshot', snapshot_id)``.
        """
        with self._lock:
            waiting = [operation for operations in self._open.values()
                       for operation in operations
                       if operation.settles_on == key]
        now = self.clock()
        for operation in waiting:
            self.end(operation, now)

    def _prune(self, disk_id):
        """Drop finished operations that no later one can overlap."""
        starts = [op.started for op in self._open[disk_id]]
        horizon = min(starts) if starts else self.clock()
        kept = [op for op in self._finished[disk_id] if op.ended > horizon]
        if kept:
            self._finished[disk_id] = kept
        else:
            del self._finished[disk_id]
        if not self._open[disk_id]:
            del self._open[disk_id]

    def report(self):
        """The overlaps found, and what is in flight now."""
        with self._lock:
            return {
                'rule': RULE,
                'recorded': dict(self.recorded),
                'conflicts': self.conflicts,
                'overlaps': [{'disk_id': first.disk_id,
                              'first': first.view(),
                              'second': second.view()}
                             for first, second in self._overlaps],
                'in_flight': [operation.view()
                              for operations in self._open.values()
                              for operation in operations],
            }
