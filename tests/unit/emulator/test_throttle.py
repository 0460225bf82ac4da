"""The per-disk limit of the data path, on a clock the test moves."""

import threading

import testtools

from ebs_emulator import throttle


class FakeClock(object):

    def __init__(self):
        self.now = 100.0
        self.slept = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        # Time passes for this caller only: sleeping callers overlap.
        self.slept += seconds


class TestDiskThrottle(testtools.TestCase):

    def make(self, iops=None, bps=None, burst=0.0):
        self.clock = FakeClock()
        return throttle.DiskThrottle(iops, bps, burst=burst,
                                     clock=self.clock,
                                     sleep=self.clock.sleep)

    def test_iops(self):
        limit = self.make(iops=100)
        waits = [limit.take(4096) for _ in range(200)]
        # 200 operations at 100 a second end 2 s later: the last waits
        # 1.99 s, having started at once with the others.
        self.assertAlmostEqual(1.99, waits[-1], places=6)
        self.assertEqual(0.0, waits[0])

    def test_throughput(self):
        limit = self.make(bps=1024 * 1024)
        for _ in range(8):
            wait = limit.take(256 * 1024)
        # 2 MiB at 1 MiB/s: the eighth quarter starts after 1.75 s.
        self.assertAlmostEqual(1.75, wait, places=6)

    def test_the_tighter_limit_holds(self):
        limit = self.make(iops=1000, bps=1024 * 1024)
        for _ in range(4):
            wait = limit.take(1024 * 1024)
        self.assertAlmostEqual(3.0, wait, places=6)

    def test_idle_credit_is_bounded(self):
        limit = self.make(iops=10, burst=0.5)
        self.clock.now += 3600
        waits = [limit.take(0) for _ in range(10)]
        # Half a second of credit: five operations at once, then 10 a
        # second.
        self.assertEqual([0.0] * 6, waits[:6])
        self.assertAlmostEqual(0.4, waits[-1], places=6)

    def test_no_limit(self):
        limit = self.make()
        self.assertEqual(0.0, max(limit.take(1 << 30) for _ in range(100)))
        limit.set(1, None)
        limit.take(1)
        self.assertAlmostEqual(1.0, limit.take(1), places=6)

    def test_shared_by_threads(self):
        limit = self.make(iops=50)
        waits = []

        def host():
            for _ in range(25):
                waits.append(limit.take(4096))

        threads = [threading.Thread(target=host) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # 100 operations from four hosts at 50 a second: the last starts
        # 1.98 s after the first, whichever host it came from.
        self.assertAlmostEqual(1.98, max(waits), places=6)
