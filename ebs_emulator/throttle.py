"""One disk's IOPS and throughput limit, shared by every instance's view.

The multi-attach guide: "the total performance of all attached instances
cannot exceed the maximum performance of the cloud disk". So each disk has
one :class:`DiskThrottle`, and a read or write through any instance's
view takes its share of it.

Each limit is kept as the time the work it admitted ends at its rate; an
operation starts when the work before it ends, and an idle limit lends at
most ``burst`` seconds of credit. A request
reserves its place under a lock and sleeps outside it, so concurrent
requests from several instances add up to the rate, not more.
"""

import threading
import time

# Seconds of idle credit a limit lends (a short burst, as a disk's queue).
DEFAULT_BURST = 0.05


class DiskThrottle(object):
    """Holds I/O to ``iops`` operations and ``bytes_per_sec`` bytes a second.

    A limit of 0 or None is no limit.
    """

    def __init__(self, iops=None, bytes_per_sec=None, burst=DEFAULT_BURST,
                 clock=time.monotonic, sleep=time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._burst = burst
        self._lock = threading.Lock()
        self._ops_end = self._bytes_end = float('-inf')
        self.set(iops, bytes_per_sec)

    def set(self, iops, bytes_per_sec):
        with self._lock:
            self.iops = iops or None
            self.bytes_per_sec = bytes_per_sec or None

    def _slot(self, end, cost, now):
        """(start, end) of the next operation of one limit."""
        start = max(end, now - self._burst)
        return start, start + cost

    def take(self, nbytes):
        """Wait until one operation of ``nbytes`` bytes may start.

        :returns: the seconds waited.
        """
        with self._lock:
            now = self._clock()
            start = now
            if self.iops:
                ops_start, self._ops_end = self._slot(
                    self._ops_end, 1.0 / self.iops, now)
                start = max(start, ops_start)
            if self.bytes_per_sec:
                bytes_start, self._bytes_end = self._slot(
                    self._bytes_end, float(nbytes) / self.bytes_per_sec, now)
                start = max(start, bytes_start)
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return wait
