"""Classification and formatting of backend errors."""

import copy
import pickle

from cinder import exception as cinder_exception
import ddt
import testtools

from cinder_ebs_driver import exception
from tests.unit.client import fakes


@ddt.ddt
class ClassifyTestCase(testtools.TestCase):

    @ddt.unpack
    @ddt.data(
        ('InvalidDiskId.NotFound', 404, exception.EBSNotFound),
        ('InvalidSnapshotId.NotFound', 404, exception.EBSNotFound),
        ('InvalidInstanceId.NotFound', 404, exception.EBSNotFound),
        ('Throttling', 400, exception.EBSThrottled),
        ('Throttling.User', 400, exception.EBSThrottled),
        ('Throttling.Api', 400, exception.EBSThrottled),
        ('ServiceUnavailable', 503, exception.EBSThrottled),
        ('IncorrectDiskStatus', 403, exception.EBSIncorrectStatus),
        ('IncorrectDiskStatus.Initializing', 403,
         exception.EBSIncorrectStatus),
        ('IncorrectInstanceStatus', 403, exception.EBSIncorrectStatus),
        ('InvalidParameter', 400, exception.EBSInvalidParameter),
        ('InvalidDiskCategory.NotSupported', 400,
         exception.EBSInvalidParameter),
        ('MissingParameter', 400, exception.EBSInvalidParameter),
        ('QuotaExceed.Disk', 403, exception.EBSQuotaExceeded),
        ('QuotaExceeded', 403, exception.EBSQuotaExceeded),
        ('InvalidAccessKeyId.NotFound', 404, exception.EBSAuthError),
        ('SignatureDoesNotMatch', 400, exception.EBSAuthError),
        ('Forbidden.RAM', 403, exception.EBSAuthError),
        ('InvalidRegionId.NotFound', 404, exception.EBSInvalidParameter),
        ('InvalidAction.NotFound', 404, exception.EBSInvalidParameter),
        ('InternalError', 500, exception.EBSServerError),
        ('SomethingElse', 502, exception.EBSServerError),
        ('SomethingElse', 429, exception.EBSThrottled),
        ('OperationDenied', 403, exception.EBSBackendError),
        (None, None, exception.EBSBackendError),
    )
    def test_classify(self, code, status, expected):
        self.assertIs(expected, exception.classify(code, status))

    def test_hierarchy_is_cinder_backend_error(self):
        for cls in (exception.EBSNotFound, exception.EBSThrottled,
                    exception.EBSIncorrectStatus,
                    exception.EBSInvalidParameter,
                    exception.EBSQuotaExceeded, exception.EBSAuthError,
                    exception.EBSServerError,
                    exception.EBSConnectionError, exception.EBSTimeout):
            self.assertTrue(issubclass(cls, exception.EBSBackendError))
        self.assertTrue(issubclass(
            exception.EBSBackendError,
            cinder_exception.VolumeBackendAPIException))


@ddt.ddt
class FromSdkErrorTestCase(testtools.TestCase):

    def test_client_error(self):
        error = exception.from_sdk_error('DeleteDisk', fakes.client_error(
            'InvalidDiskId.NotFound', 'The specified disk does not exist.',
            status=404, request_id='4A6C0E5B-1B1C-4F0E-9B5E-123456789ABC'))
        self.assertIsInstance(error, exception.EBSNotFound)
        self.assertIsInstance(error,
                              cinder_exception.VolumeBackendAPIException)
        self.assertEqual('DeleteDisk', error.action)
        self.assertEqual('InvalidDiskId.NotFound', error.code)
        self.assertEqual('4A6C0E5B-1B1C-4F0E-9B5E-123456789ABC',
                         error.request_id)
        self.assertEqual(404, error.http_status)
        self.assertEqual('The specified disk does not exist.',
                         error.error_message)
        self.assertEqual(
            'ECS DeleteDisk failed: InvalidDiskId.NotFound: The specified '
            'disk does not exist. (RequestId '
            '4A6C0E5B-1B1C-4F0E-9B5E-123456789ABC)', str(error))
        self.assertEqual(str(error), error.msg)
        self.assertFalse(error.retryable)

    def test_server_error_is_retryable(self):
        error = exception.from_sdk_error('CreateDisk', fakes.client_error(
            'InternalError', 'Unknown error.', status=500))
        self.assertIsInstance(error, exception.EBSServerError)
        self.assertTrue(error.retryable)
        self.assertEqual(500, error.http_status)

    def test_throttled_is_retryable(self):
        error = exception.from_sdk_error('DescribeDisks', fakes.throttled())
        self.assertIsInstance(error, exception.EBSThrottled)
        self.assertTrue(error.retryable)
        self.assertIsNone(error.retry_after)

    def test_throttling_exception_keeps_retry_after(self):
        error = exception.from_sdk_error(
            'DescribeDisks', fakes.throttled(retry_after=1500))
        self.assertIsInstance(error, exception.EBSThrottled)
        self.assertEqual(1500, error.retry_after)

    def test_throttling_exception_with_unknown_code(self):
        error = exception.from_sdk_error('DescribeDisks', fakes.throttled(
            retry_after=10, code='FlowControl'))
        self.assertIsInstance(error, exception.EBSThrottled)

    @ddt.data('LastTokenProcessing', 'OperationConflict')
    def test_transient_4xx_codes_are_retryable(self, code):
        error = exception.from_sdk_error(
            'CreateDisk', fakes.client_error(code, status=403))
        self.assertTrue(error.retryable)

    @ddt.data('InvalidParameter', 'IncorrectDiskStatus',
              'InvalidDiskId.NotFound', 'QuotaExceed.Disk',
              'SignatureDoesNotMatch', 'OperationDenied')
    def test_other_4xx_codes_are_not_retryable(self, code):
        error = exception.from_sdk_error(
            'CreateDisk', fakes.client_error(code, status=400))
        self.assertFalse(error.retryable)

    def test_connection_error(self):
        error = exception.from_sdk_error('AttachDisk', fakes.unanswered())
        self.assertIsInstance(error, exception.EBSConnectionError)
        self.assertTrue(error.retryable)
        self.assertIsNone(error.code)
        self.assertIsNone(error.request_id)
        self.assertIn('ECS AttachDisk failed: connection error: ', str(error))
        self.assertIn('Connection refused', str(error))

    def test_unreadable_answer(self):
        error = exception.from_sdk_error('DescribeDisks', fakes.unanswered(
            RuntimeError('Failed to parse the value as json format, '
                         'Value: "<html>bad gateway</html>".')))
        self.assertIsInstance(error, exception.EBSServerError)
        self.assertTrue(error.retryable)
        self.assertEqual('InvalidResponse', error.code)
        self.assertIn('bad gateway', str(error))

    def test_missing_fields(self):
        sdk_error = fakes.client_error('None', None, request_id='None')
        sdk_error.data = None
        error = exception.from_sdk_error('DeleteDisk', sdk_error)
        self.assertIsNone(error.code)
        self.assertIsNone(error.request_id)
        self.assertEqual(400, error.http_status)

    def test_translated_error_passes_through(self):
        original = exception.EBSNotFound(action='DeleteDisk', code='X')
        self.assertIs(original,
                      exception.from_sdk_error('DeleteDisk', original))

    def test_secret_is_masked(self):
        sdk_error = fakes.client_error(
            'SignatureDoesNotMatch',
            'Specified signature is not matched with our calculation. '
            'Key: %s' % fakes.SECRET)
        error = exception.from_sdk_error('DescribeDisks', sdk_error,
                                         secrets=(fakes.SECRET,))
        self.assertNotIn(fakes.SECRET, str(error))
        self.assertNotIn(fakes.SECRET, error.error_message)
        self.assertIn(exception.REDACTED, str(error))

    def test_secret_is_masked_in_connection_errors(self):
        error = exception.from_sdk_error(
            'DescribeDisks',
            fakes.unanswered(IOError('refused %s' % fakes.SECRET)),
            secrets=(fakes.SECRET,))
        self.assertIsInstance(error, exception.EBSConnectionError)
        self.assertNotIn(fakes.SECRET, str(error))


class TimeoutTestCase(testtools.TestCase):

    def test_message(self):
        error = exception.EBSTimeout(
            'disk d-1 to reach status Available', 'status Creating', 5)
        self.assertEqual(
            'Timed out after 5 s waiting for disk d-1 to reach status '
            'Available; last seen: status Creating', str(error))
        self.assertEqual('status Creating', error.last_state)
        self.assertEqual('disk d-1 to reach status Available',
                         error.waited_for)
        self.assertFalse(error.retryable)
        self.assertIsNone(error.code)


class RedactTestCase(testtools.TestCase):

    def test_redact(self):
        self.assertEqual('a *** b ***',
                         exception.redact('a xyz b xyz', ('xyz', None, '')))
        self.assertIsNone(exception.redact(None, ('xyz',)))
        self.assertEqual('12', exception.redact(12, ('xyz',)))


def _every_error():
    """One instance of every backend exception class, fully populated."""
    full = dict(action='DescribeDisks', code='InvalidDiskId.NotFound',
                error_message='no such disk', request_id='req-1',
                http_status=404)
    errors = [cls(**full) for cls in (
        exception.EBSBackendError, exception.EBSNotFound,
        exception.EBSThrottled, exception.EBSIncorrectStatus,
        exception.EBSInvalidParameter, exception.EBSQuotaExceeded,
        exception.EBSAuthError, exception.EBSServerError)]
    errors.append(exception.EBSConnectionError(
        action='DescribeDisks', reason='connection refused'))
    errors.append(exception.EBSCredentialsError(
        action='DescribeDisks', credential_type='ram_role_arn',
        reason='InvalidSecurityToken.Expired', code='X', request_id='r',
        http_status=400))
    errors.append(exception.EBSTimeout('disk d-1 to be attached',
                                       'status Attaching', 30))
    return errors


@ddt.ddt
class CopyAndPickleTestCase(testtools.TestCase):
    """Backend errors survive copy.copy, copy.deepcopy and pickling."""

    def test_every_class_is_covered(self):
        def subclasses(cls):
            for sub in cls.__subclasses__():
                yield sub
                yield from subclasses(sub)
        covered = {type(error) for error in _every_error()}
        self.assertEqual(
            {exception.EBSBackendError} | set(
                subclasses(exception.EBSBackendError)),
            covered)

    def _assert_same(self, original, copied):
        self.assertIs(type(original), type(copied))
        self.assertEqual(str(original), str(copied))
        self.assertEqual(original.msg, copied.msg)
        self.assertEqual(original.args, copied.args)
        self.assertEqual(vars(original), vars(copied))
        self.assertEqual(original.retryable, copied.retryable)

    @ddt.data(*_every_error())
    def test_copy(self, error):
        self._assert_same(error, copy.copy(error))

    @ddt.data(*_every_error())
    def test_deepcopy(self, error):
        self._assert_same(error, copy.deepcopy(error))

    @ddt.data(*_every_error())
    def test_pickle(self, error):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            self._assert_same(error,
                              pickle.loads(pickle.dumps(error, protocol)))

    def test_instance_attributes_survive(self):
        error = exception.EBSBackendError(
            action='AttachDisk', code='OperationConflict')
        error.retryable = True
        error.retry_after = 1500
        copied = pickle.loads(pickle.dumps(copy.copy(error)))
        self.assertTrue(copied.retryable)
        self.assertEqual(1500, copied.retry_after)
        self.assertEqual('OperationConflict', copied.code)

    def test_connection_error_message_not_doubled(self):
        error = exception.EBSConnectionError(action='DescribeDisks',
                                             reason='refused')
        self.assertEqual('ECS DescribeDisks failed: connection error: '
                         'refused', str(copy.copy(error)))
