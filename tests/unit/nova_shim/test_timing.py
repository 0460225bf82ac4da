"""Unit tests of nova_shim.timing."""

import testtools

from nova_shim import timing


class FakeClock(object):

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class PhaseTimerTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        self.timer = timing.PhaseTimer(clock=self.clock)

    def _spend(self, name, seconds):
        with self.timer.phase(name):
            self.clock.now += seconds

    def test_sums_per_phase_in_order_first_seen(self):
        self._spend('b', 0.5)
        self._spend('a', 0.25)
        self._spend('b', 1.0)
        self.assertEqual({'b': 1.5, 'a': 0.25}, self.timer.seconds)
        self.assertEqual(['b', 'a'], list(self.timer.seconds))
        self.assertEqual(1.75, self.timer.total())
        self.assertEqual(0.25, self.timer.total(exclude=('b',)))

    def test_nested_phase_counts_once(self):
        with self.timer.phase('outer'):
            self.clock.now += 1.0
            with self.timer.phase('inner'):
                self.clock.now += 2.0
                self._spend('innermost', 4.0)
            self.clock.now += 8.0
        self.assertEqual({'outer': 9.0, 'inner': 2.0, 'innermost': 4.0},
                         self.timer.seconds)
        self.assertEqual(15.0, self.timer.total())

    def test_time_of_a_failing_step_is_counted(self):
        def fail():
            with self.timer.phase('x'):
                self.clock.now += 3.0
                raise RuntimeError('boom')
        self.assertRaises(RuntimeError, fail)
        self.assertEqual({'x': 3.0}, self.timer.seconds)

    def test_reset_and_summary(self):
        self._spend('connector', 0.0015)
        self._spend('XML build', 0.0002)
        self.assertEqual('connector 1.5 ms, XML build 0.2 ms',
                         self.timer.summary())
        self.timer.reset()
        self.assertEqual({}, self.timer.seconds)
        self._spend('y', 1.0)
        self.assertEqual({'y': 1.0}, self.timer.seconds)
