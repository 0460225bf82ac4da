"""Retry and polling policies of the EBS client, built on tenacity.

Two policies:

* :func:`api_retrying` repeats one ECS API call that failed for a reason
  that may go away (throttling, HTTP 5xx, no answer), with exponential
  backoff and jitter, and never repeats a call the service refused;
* :func:`poll` reads a state until it is the expected one, with an
  interval that starts small and doubles up to ten times its start (or a
  given cap), and gives up with
  :class:`~cinder_ebs_driver.exception.EBSTimeout`.
"""

import random
import time

import tenacity

from cinder_ebs_driver import exception
from cinder_ebs_driver.i18n import _

# Upper bound of one wait between two attempts of an API call, seconds.
MAX_RETRY_INTERVAL = 30.0
# The polling interval grows up to this multiple of its start.
POLL_INTERVAL_GROWTH = 10


def is_retryable(error):
    """Whether a failed API call may be repeated."""
    return (isinstance(error, exception.EBSBackendError)
            and bool(error.retryable))


class wait_for_retry(tenacity.wait.wait_base):
    """Exponential backoff with jitter that honours a throttling hint.

    Attempt ``n`` (from 1) waits ``min(interval * 2 ** (n - 1), cap)`` plus
    a random jitter in ``[0, interval]``, never more than ``cap``.  When the
    service said how long to back off (the ``x-acs-retry-after`` header of
    a throttled answer, kept as ``retry_after`` in milliseconds), the wait
    is at least that long, within the same cap.
    """

    def __init__(self, interval, cap=MAX_RETRY_INTERVAL):
        self.interval = max(0.0, float(interval))
        self.cap = max(self.interval, float(cap))

    def __call__(self, retry_state):
        exponent = min(retry_state.attempt_number - 1, 64)
        delay = min(self.interval * 2 ** exponent, self.cap)
        delay = min(delay + random.uniform(0, self.interval), self.cap)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        hint = getattr(error, 'retry_after', None)
        if hint:
            delay = max(delay, min(hint / 1000.0, self.cap))
        return delay


def api_retrying(retries, interval, before_sleep=None, sleep=None):
    """A tenacity controller for one API call.

    :param retries: how many times a failed call is repeated (so at most
        ``retries + 1`` attempts).
    :param interval: base backoff, seconds (see :class:`wait_for_retry`).
    :param before_sleep: called with the retry state before each wait.
    :param sleep: the sleep function (tests); tenacity's by default.
    """
    kwargs = {}
    if sleep is not None:
        kwargs['sleep'] = sleep
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_retryable),
        stop=tenacity.stop_after_attempt(max(0, int(retries)) + 1),
        wait=wait_for_retry(interval),
        before_sleep=before_sleep,
        reraise=True,
        **kwargs)


class wait_for_poll(tenacity.wait.wait_base):
    """Doubling poll interval, capped, that never sleeps past a deadline.

    The interval starts at ``interval`` and doubles up to ``max_interval``
    (``growth`` times ``interval`` by default); the last wait is shortened
    so that the last poll happens right at ``timeout`` seconds after the
    first one.
    """

    def __init__(self, interval, timeout, growth=POLL_INTERVAL_GROWTH,
                 max_interval=None):
        self.timeout = float(timeout)
        if max_interval is None:
            max_interval = float(interval) * growth
        self._exp = tenacity.wait_exponential(
            multiplier=float(interval),
            max=max(float(max_interval), float(interval)))

    def __call__(self, retry_state):
        remaining = self.timeout - (retry_state.seconds_since_start or 0.0)
        return max(0.0, min(self._exp(retry_state), remaining))


def poll(fetch, done, interval, timeout, waited_for, describe=str,
         sleep=None, first_delay=0.0, max_interval=None):
    """Call ``fetch()`` until ``done(result)``; return that result.

    :param fetch: reads the current state. A read that failed for a
        passing reason (a retryable backend error: throttling, HTTP 5xx,
        no answer, after the call's own retries) counts as "not there
        yet": the call that started the change was accepted, so the wait
        goes on until ``timeout``. Other exceptions propagate.
    :param done: predicate on what ``fetch`` returned.
    :param interval: first wait between two reads, seconds.
    :param timeout: seconds after which to give up.
    :param waited_for: what is expected, in words, for the timeout error.
    :param describe: renders a state in words for the timeout error.
    :param sleep: the sleep function (tests); tenacity's by default.
    :param first_delay: seconds to wait before the first read (when the
        state is not expected to change sooner); part of ``timeout``.
    :param max_interval: the longest wait between two reads; ten times
        ``interval`` by default.
    :raises EBSTimeout: when ``done`` is still false after ``timeout``.
    """
    kwargs = {}
    if sleep is not None:
        kwargs['sleep'] = sleep
    total = timeout
    first_delay = min(max(float(first_delay or 0.0), 0.0), float(timeout))
    if first_delay:
        (sleep or time.sleep)(first_delay)
    remaining = float(timeout) - first_delay
    retrying = tenacity.Retrying(
        retry=(tenacity.retry_if_result(lambda result: not done(result)) |
               tenacity.retry_if_exception(_passing_failure)),
        stop=tenacity.stop_after_delay(remaining),
        wait=wait_for_poll(interval, remaining,
                           max_interval=max_interval),
        **kwargs)
    try:
        return retrying(fetch)
    except tenacity.RetryError as error:
        last = error.last_attempt
        if last.failed:
            state = _('the last read failed: %s') % getattr(
                last.exception(), 'msg', last.exception())
        else:
            state = describe(last.result())
        raise exception.EBSTimeout(waited_for, state, total)


def _passing_failure(error):
    """A failed read that a later read may get past."""
    return (isinstance(error, exception.EBSBackendError)
            and error.retryable)
