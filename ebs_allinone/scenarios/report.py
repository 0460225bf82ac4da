"""What the all-in-one prints: steps with their time, progress, summary."""

import contextlib
import sys
import time

PASS = 'PASS'
FAIL = 'FAIL'
NOT_RUN = 'NOT RUN'


class StepFailed(Exception):
    """A step's check did not hold; the message says what was expected."""


class Reporter(object):
    """Numbered steps, progress lines while waiting, a final summary.

    :param out: a text stream (standard output by default).
    :param progress_every: seconds between two progress lines of a wait.
    """

    def __init__(self, out=None, progress_every=2.0):
        self.out = out or sys.stdout
        self.progress_every = progress_every
        self.results = []
        self.started = time.monotonic()
        self._step = None
        self._last_progress = 0.0

    def say(self, text=''):
        self.out.write(text + '\n')
        self.out.flush()

    def detail(self, text):
        """Indented lines under the current step."""
        for line in str(text).splitlines() or ['']:
            self.say('      ' + line)

    def progress(self, what, waited):
        """A progress line, at most one every ``progress_every`` seconds."""
        now = time.monotonic()
        if now - self._last_progress >= self.progress_every:
            self._last_progress = now
            self.say('      ... %s (%.1f s)' % (what, waited))

    def progress_for(self, what):
        """A callback ``f(seconds waited)`` printing progress for ``what``."""
        return lambda waited: self.progress(what, waited)

    @contextlib.contextmanager
    def step(self, title):
        """Run one step; record PASS or FAIL and its time.

        Exceptions propagate after the step is recorded as failed.
        """
        number = len(self.results) + 1
        self.say('[%2d] %s' % (number, title))
        start = time.monotonic()
        self._last_progress = start
        try:
            yield
        except BaseException as exc:
            elapsed = time.monotonic() - start
            reason = str(exc) or exc.__class__.__name__
            self.results.append((title, FAIL, elapsed, reason))
            # A child's failure: the first line, then the end of its log.
            first, _sep, more = reason.partition('\n')
            self.say('     FAIL after %.2f s: %s' % (elapsed, first))
            if more:
                self.detail(more)
            raise
        elapsed = time.monotonic() - start
        self.results.append((title, PASS, elapsed, ''))
        self.say('     ok (%.2f s)' % elapsed)

    def not_run(self, titles):
        for title in titles:
            self.results.append((title, NOT_RUN, 0.0, ''))

    def passed(self):
        return bool(self.results) and all(
            status == PASS for _t, status, _e, _r in self.results)

    def summary(self):
        """Print the summary table; return True when every step passed."""
        total = time.monotonic() - self.started
        self.say()
        self.say('Summary')
        self.say('-------')
        for number, (title, status, elapsed, reason) in enumerate(
                self.results, 1):
            line = '%-8s %2d. %-58s %7.2f s' % (status, number, title,
                                                elapsed)
            self.say(line.rstrip())
            if reason:
                self.say('            %s' % reason.splitlines()[0])
        ok = self.passed()
        self.say('%s: %d of %d steps passed in %.1f s' % (
            PASS if ok else FAIL,
            sum(1 for r in self.results if r[1] == PASS),
            len(self.results), total))
        return ok
