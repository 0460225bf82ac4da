"""Where the time of one attach goes, phase by phase.

:class:`PhaseTimer` adds up the wall-clock time spent in named phases; the
attach code wraps its steps in :meth:`PhaseTimer.phase` and logs the sums
at debug level. A benchmark can hand its own timer to the attacher and
read the figures of every attach.
"""

import contextlib
import time


class PhaseTimer(object):
    """Sums of seconds per phase name, in the order first seen.

    :param clock: a monotonic clock returning seconds.
    """

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.seconds = {}
        # Seconds of the phases closed so far, nested ones folded into
        # their outermost phase.
        self._closed = 0.0

    @contextlib.contextmanager
    def phase(self, name):
        """Add the time spent in the ``with`` block to ``name``.

        Time spent in a phase opened inside another one counts for the
        inner phase only, so that the sums never count a second twice.
        """
        start = self.clock()
        closed_before = self._closed
        try:
            yield
        finally:
            elapsed = self.clock() - start
            nested = self._closed - closed_before
            self.seconds[name] = (self.seconds.get(name, 0.0) +
                                  elapsed - nested)
            self._closed = closed_before + elapsed

    def reset(self):
        """Forget every sum (for the next attach)."""
        self.seconds = {}
        self._closed = 0.0

    def total(self, exclude=()):
        """The sum over every phase not named in ``exclude``."""
        return sum(value for name, value in self.seconds.items()
                   if name not in exclude)

    def summary(self):
        """``name 1.2 ms, ...`` for a log line."""
        return ', '.join('%s %.1f ms' % (name, value * 1000)
                         for name, value in self.seconds.items())
