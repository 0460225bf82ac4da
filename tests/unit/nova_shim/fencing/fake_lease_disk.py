"""A shared disk with NVMe reservation semantics, in memory, for tests.

Enough of the NVMe base specification's rules for the lease agent:
registration per host, a write-exclusive reservation (only the holder
writes; everyone reads), acquire, release (a no-op for a non-holder),
preempt and preempt-and-abort (preempting the holder's key moves the
reservation to the preemptor; preempting a key nobody has is refused), and
unregistering the holder drops the reservation.
"""

import errno
import os

from nova_shim.fencing import lease
from nova_shim.fencing import reservations

DEVICE = '/dev/fake-shared'
SIZE = 16 * lease.BLOCK_SIZE


def _conflict(operation):
    return reservations.ReservationConflict(DEVICE, operation, status=0x18)


class FakeDisk(object):

    def __init__(self, clock=None, abort_supported=True,
                 reservations_supported=True):
        self.clock = clock
        #: (time, host, operation) of every call, when a clock was given.
        self.call_times = []
        self.data = bytearray(SIZE)
        self.registrations = {}
        self.holder = None
        self.abort_supported = abort_supported
        self.reservations_supported = reservations_supported
        #: (host, operation, details) of every call, refused ones too.
        self.calls = []
        #: (host, block) of every accepted write.
        self.writes = []
        #: Hosts whose reads and writes fail with this errno.
        self.io_errors = {}

    def _log(self, host, operation, arg):
        self.calls.append((host, operation, arg))
        if self.clock is not None:
            self.call_times.append((self.clock.now, host, operation))

    def view(self, host):
        return FakeDevice(self, host)

    def holder_key(self):
        return self.registrations.get(self.holder)

    def _check(self, host, operation, key):
        self._log(host, operation, key)
        if not self.reservations_supported:
            raise reservations.ReservationNotSupported(
                DEVICE, operation, errno=errno.EOPNOTSUPP)
        if self.registrations.get(host) != key:
            raise _conflict(operation)

    # I/O of one host.

    def read(self, host, offset):
        self._log(host, 'read', offset)
        if host in self.io_errors:
            err = self.io_errors[host]
            raise OSError(err, os.strerror(err))
        return bytes(self.data[offset:offset + lease.BLOCK_SIZE])

    def write(self, host, offset, block):
        self._log(host, 'write', offset)
        if host in self.io_errors:
            err = self.io_errors[host]
            raise OSError(err, os.strerror(err))
        if self.holder is not None and self.holder != host:
            raise OSError(errno.EBADE, os.strerror(errno.EBADE))
        self.data[offset:offset + len(block)] = block
        self.writes.append((host, bytes(block)))

    # Reservation calls of one host.

    def register(self, host, key):
        self._log(host, 'register', key)
        if not self.reservations_supported:
            raise reservations.ReservationNotSupported(
                DEVICE, 'register', errno=errno.EOPNOTSUPP)
        self.registrations[host] = key

    def unregister(self, host, key):
        self._check(host, 'unregister', key)
        del self.registrations[host]
        if self.holder == host:
            self.holder = None

    def reserve(self, host, key):
        self._check(host, 'reserve', key)
        if self.holder not in (None, host):
            raise _conflict('reserve')
        self.holder = host

    def release(self, host, key):
        self._check(host, 'release', key)
        if self.holder == host:
            self.holder = None

    def preempt(self, host, key, victim, abort):
        self._check(host, 'preempt-abort' if abort else 'preempt', key)
        if abort and not self.abort_supported:
            raise reservations.ReservationError(DEVICE, 'preempt',
                                                errno=errno.EINVAL)
        victims = [h for h, k in self.registrations.items()
                   if k == victim and h != host]
        if not victims:
            raise _conflict('preempt')
        holder_preempted = self.holder_key() == victim
        for h in victims:
            del self.registrations[h]
        if holder_preempted:
            self.holder = host
        elif self.holder in victims:
            self.holder = None


class FakeDevice(object):
    """One host's view, with the methods of ``LeaseDevice``."""

    def __init__(self, disk, host, offset=SIZE - lease.BLOCK_SIZE):
        self.disk = disk
        self.host = host
        self.offset = offset
        self.path = DEVICE

    def read_record(self):
        return self.disk.read(self.host, self.offset)

    def write_record(self, block):
        self.disk.write(self.host, self.offset, block)

    def register(self, key):
        self.disk.register(self.host, key)

    def unregister(self, key):
        self.disk.unregister(self.host, key)

    def reserve(self, key):
        self.disk.reserve(self.host, key)

    def release(self, key):
        self.disk.release(self.host, key)

    def preempt(self, key, victim_key, abort=True):
        self.disk.preempt(self.host, key, victim_key, abort)


class FakeClock(object):
    """Time moves only in ``sleep``, running the events scheduled on it."""

    def __init__(self):
        self.now = 0.0
        self._events = []
        self._woken = False

    def monotonic(self):
        return self.now

    def at(self, when, func):
        self._events.append((when, len(self._events), func))
        self._events.sort()

    def every(self, start, interval, until, func):
        count = int((until - start) / interval + 1e-9)
        for i in range(count + 1):
            self.at(start + i * interval, func)

    def wake(self):
        self._woken = True

    def sleep(self, seconds):
        target = self.now + max(seconds, 0)
        while self._events and self._events[0][0] <= target:
            when, _, func = self._events.pop(0)
            self.now = max(self.now, when)
            func()
            if self._woken:
                self._woken = False
                return
        self.now = target
        if self._woken:
            self._woken = False


class FakeHooks(object):
    """Records the hooks; on promote, also who held the disk then."""

    def __init__(self, clock, disk=None):
        self.clock = clock
        self.disk = disk
        self.calls = []
        self.holders = []

    def promote(self, info):
        self.calls.append((self.clock.now, 'promote', dict(info)))
        if self.disk is not None:
            self.holders.append((self.disk.holder,
                                 dict(self.disk.registrations)))

    def demote(self, info):
        self.calls.append((self.clock.now, 'demote', dict(info)))

    def poll(self):
        pass
