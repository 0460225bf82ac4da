"""Each instance's own view of its attached disks, served through FUSE.

The file system holds one regular file per attached (instance, disk)::

    <mount>/<instance id>/<serial>

All views of a disk read and write the same disk file, and each view
knows its instance, so the data path applies the disk's persistent
reservations per instance: a read or write the reservation forbids fails
with EBADE (what the block layer answers for a reservation conflict), and
the ``<linux/pr.h>`` ioctls issued on a view are that instance's
Reservation Register / Acquire / Release commands. The mount uses
``direct_io`` so that no view is served from a stale page cache, and
never the kernel's FUSE passthrough, which would bypass these checks.

Each disk's I/O through all its views is held to its IOPS and throughput
when the emulator gives them (``--performance-scale``): one
:class:`~ebs_emulator.throttle.DiskThrottle` per disk, as the multi-attach
guide says the attached instances share the disk's performance.

The reservation state of a disk is kept in memory for the I/O checks and
written through to the emulator's database by the ``store`` callbacks on
every change, so that it survives a restart.
"""

import collections
import ctypes
import errno
import os
import stat
import threading
import time

import mfusepy

from ebs_emulator import reservations
from ebs_emulator import throttle
from nova_shim.fencing import pr_abi

Status = reservations.Status

# Flags each call accepts, as the block layer checks them.
_ALLOWED_FLAGS = {
    pr_abi.IOC_PR_REGISTER: pr_abi.PR_FL_IGNORE_KEY,
    pr_abi.IOC_PR_RESERVE: pr_abi.PR_FL_IGNORE_KEY,
    pr_abi.IOC_PR_RELEASE: 0,
    pr_abi.IOC_PR_PREEMPT: 0,
    pr_abi.IOC_PR_PREEMPT_ABORT: 0,
    pr_abi.IOC_PR_CLEAR: 0,
}

COUNTERS = ('reads', 'writes', 'reads_refused', 'writes_refused',
            'pr_calls', 'pr_refused')


class ViewTable(object):
    """Views, open handles and reservation states, shared by all threads.

    :param load: ``load(disk_id)`` returns the stored
        :class:`~ebs_emulator.reservations.DiskReservations` of a disk.
    :param save: ``save(disk_id, state)`` stores it (None: forget it).
    """

    def __init__(self, load, save):
        self._load = load
        self._save = save
        self._mutex = threading.Lock()
        self._views = {}        # (instance, serial) -> (disk id, file)
        self._states = {}       # disk id -> DiskReservations
        self._handles = {}      # fh -> (instance, serial, disk id)
        self._counts = collections.defaultdict(collections.Counter)
        self._throttles = {}    # disk id -> DiskThrottle

    # -- control -----------------------------------------------------------

    def expose(self, disk_id, instance_id, serial, disk_file):
        with self._mutex:
            if disk_id not in self._states:
                self._states[disk_id] = self._load(disk_id)
            self._views[(instance_id, serial)] = (disk_id, disk_file)

    def withdraw(self, disk_id, instance_id, serial, detached):
        """Remove a view; ``detached`` also drops the registration."""
        with self._mutex:
            self._views.pop((instance_id, serial), None)
            state = self._states.get(disk_id)
            if detached and state is not None and state.drop_host(
                    instance_id):
                self._save(disk_id, state)

    def set_limits(self, disk_id, iops, bytes_per_sec):
        """Hold the disk's I/O through all its views to these rates."""
        with self._mutex:
            limit = self._throttles.get(disk_id)
            if limit is None:
                self._throttles[disk_id] = throttle.DiskThrottle(
                    iops, bytes_per_sec)
            else:
                limit.set(iops, bytes_per_sec)

    def forget(self, disk_id):
        """The disk is deleted: drop every view and its reservations."""
        with self._mutex:
            self._throttles.pop(disk_id, None)
            for key, (disk, _file) in list(self._views.items()):
                if disk == disk_id:
                    del self._views[key]
            self._states.pop(disk_id, None)
            self._save(disk_id, None)

    def report(self, disk_id=None):
        with self._mutex:
            disks = [disk_id] if disk_id else sorted(self._states)
            out = {}
            for disk in disks:
                state = self._states.get(disk)
                if state is None:
                    continue
                entry = state.report()
                entry['counters'] = {
                    instance: dict(counts) for (d, instance), counts
                    in sorted(self._counts.items()) if d == disk}
                out[disk] = entry
            return out

    # -- file system side --------------------------------------------------

    def lookup(self, instance_id, serial):
        with self._mutex:
            return self._views.get((instance_id, serial))

    def instances(self):
        with self._mutex:
            return sorted({instance for instance, _s in self._views})

    def serials(self, instance_id):
        with self._mutex:
            return sorted(s for i, s in self._views if i == instance_id)

    def add_handle(self, fh, instance_id, serial, disk_id):
        with self._mutex:
            self._handles[fh] = (instance_id, serial, disk_id)

    def drop_handle(self, fh):
        with self._mutex:
            return self._handles.pop(fh, None)

    def limit_of(self, fh):
        """The limit of the disk behind ``fh`` (None: not limited).

        :returns: a :class:`~ebs_emulator.throttle.DiskThrottle` or None.
        """
        with self._mutex:
            return self._throttles.get(self._handle(fh)[2])

    def check_io(self, fh, write):
        """Raise the errno a read or write through ``fh`` gets, if any."""
        kind = 'writes' if write else 'reads'
        with self._mutex:
            instance_id, serial, disk_id = self._handle(fh)
            counts = self._counts[(disk_id, instance_id)]
            counts[kind] += 1
            if self._views.get((instance_id, serial), (None,))[0] != disk_id:
                # Detached (or deleted) while still open.
                raise mfusepy.FuseOSError(errno.EIO)
            state = self._states[disk_id]
            if not state.may_access(instance_id, write):
                counts[kind + '_refused'] += 1
                raise mfusepy.FuseOSError(errno.EBADE)

    def reservation_call(self, fh, cmd, request):
        """Apply one PR ioctl; return the ioctl's result."""
        with self._mutex:
            instance_id, _serial, disk_id = self._handle(fh)
            state = self._states[disk_id]
            counts = self._counts[(disk_id, instance_id)]
            counts['pr_calls'] += 1
            status = _apply(state, instance_id, cmd, request)
            if status is Status.SUCCESS:
                self._save(disk_id, state)
            if status is Status.CONFLICT:
                counts['pr_refused'] += 1
                return pr_abi.PRStatus.RESERVATION_CONFLICT
            if status is Status.INVALID:
                counts['pr_refused'] += 1
                raise mfusepy.FuseOSError(errno.EINVAL)
            return 0

    def held_reservation(self, fh):
        """``struct pr_held_reservation`` of the handle's disk."""
        with self._mutex:
            _instance, _serial, disk_id = self._handle(fh)
            state = self._states[disk_id]
            holders = state.holders()
            key = 0
            for host, host_key in state.registrants.items():
                if host in holders:
                    key = host_key
                    break
            return pr_abi.PrReadReservation(
                key=key, generation=state.generation,
                type=int(state.rtype or 0))

    def _handle(self, fh):
        try:
            return self._handles[fh]
        except KeyError:
            raise mfusepy.FuseOSError(errno.EBADF)


def _apply(state, host, cmd, request):
    if cmd == pr_abi.IOC_PR_REGISTER:
        return state.register(
            host, request.old_key, request.new_key,
            ignore_key=bool(request.flags & pr_abi.PR_FL_IGNORE_KEY))
    if cmd == pr_abi.IOC_PR_RESERVE:
        if request.flags & pr_abi.PR_FL_IGNORE_KEY:
            # NVMe refuses "ignore existing key" on Acquire.
            return Status.INVALID
        return state.reserve(host, request.key, request.type)
    if cmd == pr_abi.IOC_PR_RELEASE:
        if request.key == 0:
            return Status.INVALID
        return state.release(host, request.key, request.type)
    if cmd in (pr_abi.IOC_PR_PREEMPT, pr_abi.IOC_PR_PREEMPT_ABORT):
        # Nothing is queued in the emulator, so the abort has nothing to
        # abort: both preempt the same way.
        return state.preempt(host, request.old_key, request.new_key,
                             request.type)
    if cmd == pr_abi.IOC_PR_CLEAR:
        if request.key == 0:
            return Status.INVALID
        return state.clear(host, request.key)
    raise ValueError('not a reservation call: %#x' % cmd)


class InstanceViews(mfusepy.Operations):
    """The FUSE operations over a :class:`ViewTable`.

    No attribute here may be named like a FUSE operation it does not
    mean to implement (``lock``, ``read``...): the binding registers every
    such name as an operation.
    """

    use_ns = True

    def __init__(self, table, on_ready=None):
        self.table = table
        self._on_ready = on_ready
        self._started = time.time_ns()

    def init(self, path):
        if self._on_ready:
            self._on_ready()

    # -- names -------------------------------------------------------------

    def _split(self, path):
        parts = [p for p in path.split('/') if p]
        if len(parts) > 2:
            raise mfusepy.FuseOSError(errno.ENOENT)
        return parts

    def _view(self, path):
        parts = self._split(path)
        if len(parts) != 2:
            raise mfusepy.FuseOSError(errno.EISDIR if parts else errno.EPERM)
        view = self.table.lookup(*parts)
        if view is None:
            raise mfusepy.FuseOSError(errno.ENOENT)
        return parts, view

    def getattr(self, path, fh=None):
        parts = self._split(path)
        times = {'st_atime': self._started, 'st_mtime': self._started,
                 'st_ctime': self._started}
        if len(parts) < 2:
            if parts and parts[0] not in self.table.instances():
                raise mfusepy.FuseOSError(errno.ENOENT)
            return dict(times, st_mode=stat.S_IFDIR | 0o755, st_nlink=2)
        _parts, (_disk, disk_file) = self._view(path)
        size = os.stat(disk_file).st_size
        return dict(times, st_mode=stat.S_IFREG | 0o660, st_nlink=1,
                    st_size=size, st_blocks=(size + 511) // 512,
                    st_blksize=4096)

    def readdir(self, path, fh):
        parts = self._split(path)
        if not parts:
            names = self.table.instances()
        elif len(parts) == 1:
            names = self.table.serials(parts[0])
        else:
            raise mfusepy.FuseOSError(errno.ENOTDIR)
        return ['.', '..'] + names

    # -- files -------------------------------------------------------------

    def open(self, path, flags):
        (instance_id, serial), (disk_id, disk_file) = self._view(path)
        access = flags & os.O_ACCMODE
        fh = os.open(disk_file, access | os.O_CLOEXEC)
        self.table.add_handle(fh, instance_id, serial, disk_id)
        return fh

    def release(self, path, fh):
        if self.table.drop_handle(fh) is not None:
            os.close(fh)
        return 0

    def _wait_turn(self, fh, nbytes):
        # Before the checks: a reservation taken or a detach during the
        # wait must stop the I/O.
        limit = self.table.limit_of(fh)
        if limit:
            limit.take(nbytes)

    def read(self, path, size, offset, fh):
        self._wait_turn(fh, size)
        self.table.check_io(fh, write=False)
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self._wait_turn(fh, len(data))
        self.table.check_io(fh, write=True)
        return os.pwrite(fh, data, offset)

    def fsync(self, path, datasync, fh):
        # A flush is in the NVMe write command group.
        self.table.check_io(fh, write=True)
        os.fdatasync(fh)
        return 0

    def flush(self, path, fh):
        return 0

    def truncate(self, path, length, fh=None):
        # A disk's size changes through ResizeDisk only.
        raise mfusepy.FuseOSError(errno.EPERM)

    def chmod(self, path, mode):
        return 0

    def chown(self, path, uid, gid):
        # libvirt hands a disk file to QEMU's user; nothing to do here.
        return 0

    def utimens(self, path, times=None):
        return 0

    def statfs(self, path):
        return {'f_bsize': 4096, 'f_frsize': 4096, 'f_namemax': 255}

    def ioctl(self, path, cmd, arg, fh, flags, data):
        request_type = pr_abi.PR_OUT_REQUESTS.get(cmd)
        if request_type is not None:
            request = request_type.from_buffer_copy(
                ctypes.string_at(data, ctypes.sizeof(request_type)))
            allowed = _ALLOWED_FLAGS[cmd]
            if request.flags & ~allowed:
                raise mfusepy.FuseOSError(errno.EOPNOTSUPP)
            return self.table.reservation_call(fh, cmd, request)
        if cmd == pr_abi.IOC_PR_READ_RESERVATION:
            held = self.table.held_reservation(fh)
            ctypes.memmove(data, ctypes.addressof(held),
                           ctypes.sizeof(held))
            return 0
        # Calls with embedded pointers (IOC_PR_READ_KEYS, NVMe
        # passthrough) cannot cross FUSE's restricted ioctls.
        raise mfusepy.FuseOSError(errno.ENOTTY)
