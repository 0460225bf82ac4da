"""The emulated ECS disk service: state, rules and actions.

:class:`EmulatorService` is what the HTTP server calls: one
``call(action, params)`` per request, with the flat parameters the SDK
sent.  It returns the response body (without RequestId) or raises
:class:`ebs_emulator.exception.EcsError`.

Requests are served one at a time under a service-wide lock: each one is
a single database transaction, so parallel callers (16 AttachDisk on one
disk at once) always see and leave a consistent state.
"""

import collections
import os
import threading
import time

from oslo_log import log as logging

from ebs_emulator import actions_attach
from ebs_emulator import actions_disks
from ebs_emulator import actions_inventory
from ebs_emulator import actions_snapshots
from ebs_emulator import actions_tags
from ebs_emulator import blockstore
from ebs_emulator import db
from ebs_emulator import devices
from ebs_emulator import exception
from ebs_emulator import overlaps
from ebs_emulator import params as params_mod
from ebs_emulator import performance
from ebs_emulator import rules
from ebs_emulator import transitions

LOG = logging.getLogger(__name__)

ACTIONS = {}
for _module in (actions_disks, actions_attach, actions_snapshots,
                actions_inventory, actions_tags):
    ACTIONS.update(_module.ACTIONS)


class Request(object):
    """What an action handler gets: parameters, session and service."""

    def __init__(self, service, session, params):
        self.service = service
        self.session = session
        self.params = params
        self.now = time.time()
        # Side effects that must wait until the transaction is committed.
        self.after_commit = []
        self.started_transition = False

    def applies(self, rule):
        """Whether ``rule`` holds under the service's readings."""
        return rule.applies(self.service.readings)

    def due(self):
        """When a transition started by this request completes."""
        self.started_transition = True
        return self.now + self.service.transition_delay


class EmulatorService(object):

    def __init__(self, state_dir, instances, region_id='emu-region-1',
                 zone_id='emu-zone-a', transition_delay=0.2,
                 use_loop_devices=None, use_fuse=None, readings=None,
                 performance_scale=0.0, block_device_instances=()):
        """Open the state directory and start the transition worker.

        :param readings: the reading of each disputed rule (see
            :mod:`ebs_emulator.rules`); the defaults when None.
        :param performance_scale: hold attached disks' I/O to their IOPS
            and throughput times this factor (0: no limit).
        :param block_device_instances: instances whose disks appear as
            loop devices over their FUSE views (see
            :class:`devices.DeviceExposer`).
        """
        self.state_dir = os.path.abspath(state_dir)
        self.performance_scale = float(performance_scale or 0.0)
        self.readings = rules.default_readings()
        self.readings.update(readings or {})
        os.makedirs(self.state_dir, exist_ok=True)
        self.region_id = region_id
        self.zone_id = zone_id
        self.transition_delay = max(float(transition_delay), 0.0)
        self.instances = collections.OrderedDict()
        for instance in instances or ():
            entry = dict(instance)
            entry.setdefault('ZoneId', zone_id)
            entry['ZoneId'] = entry['ZoneId'] or zone_id
            self.instances[entry['InstanceId']] = entry
        self.zones = sorted({zone_id} | {
            entry['ZoneId'] for entry in self.instances.values()})
        self._lock = threading.RLock()
        self._closed = False
        self.overlaps = overlaps.OverlapRecorder()
        self.db = db.Database(self.state_dir)
        self.blocks = blockstore.BlockStore(self.state_dir)
        self.devices = devices.DeviceExposer(
            self.state_dir, self.blocks.disk_dir, use_loop_devices,
            use_fuse, block_instances=block_device_instances)
        self._recover()
        self._worker = transitions.TransitionWorker(self)
        self._worker.start()

    # -- requests -------------------------------------------------------------
    def call(self, action, params):
        handler = ACTIONS.get(action) if isinstance(action, str) else None
        if handler is None:
            raise exception.invalid_action()
        parsed = params_mod.Params(params if params is not None else {})
        with self.overlaps.track(action, params) as tracked:
            result, started_transition = self._call(action, handler, parsed,
                                                    tracked)
        if started_transition:
            # Only then: a woken worker takes the service's lock, which
            # the next request (often a poll) would wait for.
            self._worker.wake()
        return result

    def _call(self, action, handler, parsed, tracked):
        try:
            with self._lock:
                if self._closed:
                    raise exception.EcsError(
                        'ServiceUnavailable', 'The emulator is stopping.',
                        503)
                with self.db.session() as session:
                    request = Request(self, session, parsed)
                    result = handler(request)
                    tracked.answered(result, session)
                for callback in request.after_commit:
                    callback()
        except exception.EcsError:
            raise
        except Exception:
            LOG.exception('%s failed', action)
            raise exception.internal_error()
        return result, request.started_transition

    # -- transitions and devices ----------------------------------------------
    def run_transitions(self):
        """Apply due transitions (called by the worker thread)."""
        with self._lock:
            if self._closed:
                return None
            after_commit = []
            with self.db.session() as session:
                next_due = transitions.apply_due(self, session, time.time(),
                                                 after_commit)
            for callback in after_commit:
                callback()
            return next_due

    def expose(self, disk_id, instance_id):
        """Expose a disk on an instance, degrading to the plain file."""
        disk_file = self.blocks.disk_path(disk_id)
        try:
            return self.devices.expose(disk_id, instance_id, disk_file)
        except OSError as exc:
            LOG.warning('Loop device for %s on %s failed (%s); exposing the '
                        'file itself', disk_id, instance_id, exc)
            self.devices.use_loop_devices = False
            return self.devices.expose(disk_id, instance_id, disk_file)

    def apply_limits(self, disk):
        """Hold an attached disk's data path to its performance (scaled).

        :param disk: the disk's database row.
        """
        if not self.performance_scale:
            return
        iops, mbps = performance.ceiling(
            disk.category, disk.performance_level, disk.size,
            disk.provisioned_iops, disk.bursting_enabled, self.readings)
        # Never rounded down to 0, which would mean no limit.
        self.devices.limit(
            disk.id, max(1, int(iops * self.performance_scale)) if iops
            else 0,
            max(1, int(mbps * performance.MIB * self.performance_scale))
            if mbps else 0)

    def device_path(self, disk_id, instance_id):
        return self.devices.path(disk_id, instance_id)

    def reservation_report(self):
        """The reservations of every exposed disk (None: not enforced)."""
        return self.devices.reservations()

    def debug_state(self):
        """Counts for the server's /_emulator/state debugging endpoint."""
        with self._lock, self.db.session() as session:
            return {
                'disks': session.query(db.Disk).count(),
                'attachments': session.query(db.Attachment).count(),
                'snapshots': session.query(db.Snapshot).count(),
                'chunks': session.query(db.Chunk).count(),
                'readings': dict(self.readings),
                'use_loop_devices': self.devices.use_loop_devices,
                'reservations_enforced': self.devices.enforces_reservations,
                'exposed': self.devices.exposed(),
            }

    def _recover(self):
        """Bring files and devices in line with the database.

        Runs at start: after a restart or a crash, orphan files and loop
        devices go, and attached disks are exposed again.
        """
        self.devices.release_stale()
        with self.db.session() as session:
            self.blocks.collect_garbage(db.known_chunks(session))
            known_disks = {row.id for row in session.query(db.Disk.id)}
            for name in os.listdir(self.blocks.disk_dir):
                if name.endswith('.img') and name[:-4] not in known_disks:
                    os.unlink(os.path.join(self.blocks.disk_dir, name))
            shown = session.query(db.Attachment).filter(
                db.Attachment.state.in_(('attached', 'detaching')))
            for attachment in shown:
                self.expose(attachment.disk_id, attachment.instance_id)
                self.apply_limits(session.get(db.Disk, attachment.disk_id))

    def close(self):
        """Stop the worker and free loop devices; the state stays."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._worker.stop()
        self.devices.close()
        self.db.dispose()
