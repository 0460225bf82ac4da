"""Retry decisions, backoff bounds and polling of the EBS client."""

from unittest import mock

import ddt
import fixtures
import tenacity
import testtools

from cinder_ebs_driver.client import backoff
from cinder_ebs_driver import exception
from tests.unit.client import fakes


def _state(attempt_number, error=None, elapsed=0.0):
    """A tenacity retry state after a failed attempt."""
    state = tenacity.RetryCallState(None, None, (), {})
    state.attempt_number = attempt_number
    state.start_time = 0.0
    state.outcome_timestamp = elapsed
    future = tenacity.Future(attempt_number)
    future.set_exception(error or exception.EBSServerError(code='X'))
    state.outcome = future
    return state


@ddt.ddt
class RetryDecisionTestCase(testtools.TestCase):

    @ddt.unpack
    @ddt.data(
        (exception.EBSThrottled(code='Throttling.User'), True),
        (exception.EBSServerError(code='InternalError'), True),
        (exception.EBSConnectionError(action='X', reason='refused'), True),
        (exception.EBSNotFound(code='InvalidDiskId.NotFound'), False),
        (exception.EBSInvalidParameter(code='InvalidParameter'), False),
        (exception.EBSIncorrectStatus(code='IncorrectDiskStatus'), False),
        (exception.EBSQuotaExceeded(code='QuotaExceed.Disk'), False),
        (exception.EBSAuthError(code='SignatureDoesNotMatch'), False),
        (exception.EBSTimeout('x', 'y', 1), False),
        (exception.EBSBackendError(code='OperationDenied'), False),
        (ValueError('not a backend error'), False),
    )
    def test_is_retryable(self, error, expected):
        self.assertEqual(expected, backoff.is_retryable(error))

    def test_retryable_from_sdk(self):
        for sdk_error in (fakes.throttled(),
                          fakes.client_error('Throttling.Api'),
                          fakes.client_error('ServiceUnavailable',
                                             status=503),
                          fakes.client_error('InternalError', status=500),
                          fakes.unanswered()):
            self.assertTrue(backoff.is_retryable(
                exception.from_sdk_error('CreateDisk', sdk_error)))
        for code, status in (('InvalidParameter', 400),
                             ('InvalidDiskId.NotFound', 404),
                             ('IncorrectDiskStatus', 403),
                             ('Forbidden.RAM', 403)):
            self.assertFalse(backoff.is_retryable(exception.from_sdk_error(
                'CreateDisk', fakes.client_error(code, status=status))))


class RetryWaitTestCase(testtools.TestCase):

    def test_bounds(self):
        wait = backoff.wait_for_retry(0.5)
        for attempt in range(1, 12):
            base = min(0.5 * 2 ** (attempt - 1), backoff.MAX_RETRY_INTERVAL)
            with mock.patch('random.uniform', return_value=0.0):
                self.assertEqual(base, wait(_state(attempt)))
            with mock.patch('random.uniform', return_value=0.5):
                self.assertEqual(min(base + 0.5, backoff.MAX_RETRY_INTERVAL),
                                 wait(_state(attempt)))
            for _i in range(20):
                delay = wait(_state(attempt))
                self.assertGreaterEqual(delay, base)
                self.assertLessEqual(delay, min(base + 0.5,
                                                backoff.MAX_RETRY_INTERVAL))

    def test_large_attempt_numbers_stay_capped(self):
        wait = backoff.wait_for_retry(1.0, cap=7.0)
        self.assertLessEqual(wait(_state(5000)), 7.0)

    def test_zero_interval(self):
        wait = backoff.wait_for_retry(0)
        self.assertEqual(0, wait(_state(3)))

    def test_retry_after_hint(self):
        wait = backoff.wait_for_retry(0.1)
        error = exception.EBSThrottled(code='Throttling')
        error.retry_after = 2500
        with mock.patch('random.uniform', return_value=0.0):
            self.assertEqual(2.5, wait(_state(1, error)))
            error.retry_after = 10 ** 9
            self.assertEqual(backoff.MAX_RETRY_INTERVAL,
                             wait(_state(1, error)))
            error.retry_after = 1
            self.assertEqual(0.1, wait(_state(1, error)))


class ApiRetryingTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sleeps = []

    def _run(self, outcomes, retries=3, interval=0.25):
        calls = []

        def call():
            calls.append(None)
            outcome = outcomes[min(len(calls), len(outcomes)) - 1]
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        retrying = backoff.api_retrying(retries, interval,
                                        sleep=self.sleeps.append)
        try:
            return retrying(call), calls
        finally:
            self.calls = calls

    def test_retries_then_succeeds(self):
        result, calls = self._run([exception.EBSThrottled(code='T'),
                                   exception.EBSServerError(code='E'),
                                   'done'])
        self.assertEqual('done', result)
        self.assertEqual(3, len(calls))
        self.assertEqual(2, len(self.sleeps))
        self.assertTrue(0.25 <= self.sleeps[0] <= 0.5)
        self.assertTrue(0.5 <= self.sleeps[1] <= 0.75)

    def test_gives_up_after_retries(self):
        error = exception.EBSThrottled(code='Throttling.User')
        self.assertRaises(exception.EBSThrottled, self._run, [error],
                          retries=4)
        self.assertEqual(5, len(self.calls))
        self.assertEqual(4, len(self.sleeps))

    def test_no_retries(self):
        self.assertRaises(exception.EBSServerError, self._run,
                          [exception.EBSServerError(code='E')], retries=0)
        self.assertEqual(1, len(self.calls))

    def test_client_errors_are_not_retried(self):
        error = exception.EBSInvalidParameter(code='InvalidParameter')
        raised = self.assertRaises(exception.EBSInvalidParameter, self._run,
                                   [error, 'done'])
        self.assertIs(error, raised)
        self.assertEqual(1, len(self.calls))
        self.assertEqual([], self.sleeps)


class PollTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = fakes.FakeClock()
        self.useFixture(fixtures.MonkeyPatch('time.monotonic',
                                             self.clock.monotonic))

    def _poll(self, states, interval=1.0, timeout=60):
        states = list(states)
        reads = []

        def fetch():
            reads.append(self.clock.now)
            return states.pop(0) if len(states) > 1 else states[0]
        try:
            return backoff.poll(fetch, lambda s: s == 'ready', interval,
                                timeout, 'the thing to be ready',
                                describe=lambda s: 'state %s' % s,
                                sleep=self.clock.sleep)
        finally:
            self.reads = reads

    def test_returns_when_done(self):
        self.assertEqual('ready',
                         self._poll(['creating', 'creating', 'ready']))
        self.assertEqual(3, len(self.reads))
        self.assertEqual([1.0, 2.0], self.clock.sleeps)

    def test_interval_doubles_up_to_ten_times(self):
        self.assertRaises(exception.EBSTimeout, self._poll, ['creating'],
                          interval=0.5, timeout=30)
        self.assertEqual([0.5, 1.0, 2.0, 4.0, 5.0, 5.0],
                         self.clock.sleeps[:6])
        self.assertEqual(5.0, max(self.clock.sleeps))

    def test_timeout(self):
        error = self.assertRaises(exception.EBSTimeout, self._poll,
                                  ['creating'], interval=1.0, timeout=20)
        self.assertEqual('state creating', error.last_state)
        self.assertEqual('the thing to be ready', error.waited_for)
        self.assertIn('Timed out after 20 s waiting for the thing to be '
                      'ready; last seen: state creating', str(error))
        # The last wait is cut short: the last read is at the deadline.
        self.assertEqual(1000.0 + 20, self.reads[-1])
        self.assertEqual(20.0, sum(self.clock.sleeps))

    def test_first_delay_before_the_first_read(self):
        states = ['creating', 'ready']
        reads = []

        def fetch():
            reads.append(self.clock.now)
            return states.pop(0)
        self.assertEqual('ready', backoff.poll(
            fetch, lambda s: s == 'ready', 1.0, 60, 'x',
            sleep=self.clock.sleep, first_delay=2.5))
        self.assertEqual([1002.5, 1003.5], reads)
        self.assertEqual([2.5, 1.0], self.clock.sleeps)

    def test_first_delay_counts_in_the_timeout(self):
        error = self.assertRaises(
            exception.EBSTimeout, backoff.poll, lambda: 'creating',
            lambda s: s == 'ready', 1.0, 10, 'x', sleep=self.clock.sleep,
            first_delay=4)
        self.assertEqual(10, error.timeout)
        self.assertEqual(10.0, sum(self.clock.sleeps))

    def test_fetch_errors_propagate(self):
        def fetch():
            raise exception.EBSNotFound(code='InvalidDiskId.NotFound')
        self.assertRaises(exception.EBSNotFound, backoff.poll, fetch,
                          bool, 1, 10, 'x', sleep=self.clock.sleep)
        self.assertEqual([], self.clock.sleeps)

    def test_passing_read_failures_do_not_end_the_wait(self):
        # The change was accepted: a throttled or failed read of its
        # progress is no answer about it (issue: a detach reported failed
        # while ECS finished it).
        answers = [exception.EBSThrottled(code='Throttling'),
                   exception.EBSServerError(code='InternalError',
                                            http_status=500),
                   exception.EBSConnectionError(),
                   'creating', 'ready']

        def fetch():
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        self.assertEqual('ready', backoff.poll(
            fetch, lambda s: s == 'ready', 1.0, 60, 'x',
            sleep=self.clock.sleep))
        self.assertEqual([], answers)

    def test_reads_failing_until_the_timeout(self):
        def fetch():
            raise exception.EBSThrottled(code='Throttling',
                                         error_message='flow control')
        error = self.assertRaises(
            exception.EBSTimeout, backoff.poll, fetch, bool, 1.0, 10,
            'the thing', sleep=self.clock.sleep)
        self.assertIn('the last read failed', error.last_state)
        self.assertIn('Throttling', error.last_state)
        self.assertEqual(10.0, sum(self.clock.sleeps))
