"""Classification and formatting of backend errors."""

import copy
import pickle

from cinder import exception as cinder_exception
import ddt
import testtools

from cinder_ebs_driver import exceptions
from tests.unit.client import fakes


@ddt.ddt
class ClassifyTestCase(testtools.TestCase):

    @ddt.unpack
    @ddt.data(
        ('InvalidDiskId.NotFound', 404, exceptions.EBSNotFound),
        ('InvalidSnapshotId.NotFound', 404, exceptions.EBSNotFound),
        ('InvalidInstanceId.NotFound', 404, exceptions.EBSNotFound),
        ('Throttling', 400, exceptions.EBSThrottled),
        ('Throttling.User', 400, exceptions.EBSThrottled),
        ('Throttling.Api', 400, exceptions.EBSThrottled),
        ('ServiceUnavailable', 503, exceptions.EBSThrottled),
        ('IncorrectDiskStatus', 403, exceptions.EBSIncorrectStatus),
        ('IncorrectDiskStatus.Initializing', 403,
         exceptions.EBSIncorrectStatus),
        ('IncorrectInstanceStatus', 403, exceptions.EBSIncorrectStatus),
        ('InvalidParameter', 400, exceptions.EBSInvalidParameter),
        ('InvalidDiskCategory.NotSupported', 400,
         exceptions.EBSInvalidParameter),
        ('MissingParameter', 400, exceptions.EBSInvalidParameter),
        ('QuotaExceed.Disk', 403, exceptions.EBSQuotaExceeded),
        ('QuotaExceeded', 403, exceptions.EBSQuotaExceeded),
        ('InvalidAccessKeyId.NotFound', 404, exceptions.EBSAuthError),
        ('SignatureDoesNotMatch', 400, exceptions.EBSAuthError),
        ('Forbidden.RAM', 403, exceptions.EBSAuthError),
        ('InvalidRegionId.NotFound', 404, exceptions.EBSInvalidParameter),
        ('InvalidAction.NotFound', 404, exceptions.EBSInvalidParameter),
        ('InternalError', 500, exceptions.EBSServerError),
        ('SomethingElse', 502, exceptions.EBSServerError),
        ('SomethingElse', 429, exceptions.EBSThrottled),
        ('OperationDenied', 403, exceptions.EBSBackendError),
        (None, None, exceptions.EBSBackendError),
    )
    def test_classify(self, code, status, expected):
        self.assertIs(expected, exceptions.classify(code, status))

    def test_hierarchy_is_cinder_backend_error(self):
        for cls in (exceptions.EBSNotFound, exceptions.EBSThrottled,
                    exceptions.EBSIncorrectStatus,
                    exceptions.EBSInvalidParameter,
                    exceptions.EBSQuotaExceeded, exceptions.EBSAuthError,
                    exceptions.EBSServerError,
                    exceptions.EBSConnectionError, exceptions.EBSTimeout):
            self.assertTrue(issubclass(cls, exceptions.EBSBackendError))
        self.assertTrue(issubclass(
            exceptions.EBSBackendError,
            cinder_exception.VolumeBackendAPIException))


@ddt.ddt
class FromSdkErrorTestCase(testtools.TestCase):

    def test_client_error(self):
        error = exceptions.from_sdk_error('DeleteDisk', fakes.client_error(
            'InvalidDiskId.NotFound', 'The specified disk does not exist.',
            status=404, request_id='4A6C0E5B-1B1C-4F0E-9B5E-123456789ABC'))
        self.assertIsInstance(error, exceptions.EBSNotFound)
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
        error = exceptions.from_sdk_error('CreateDisk', fakes.client_error(
            'InternalError', 'Unknown error.', status=500))
        self.assertIsInstance(error, exceptions.EBSServerError)
        self.assertTrue(error.retryable)
        self.assertEqual(500, error.http_status)

    def test_throttled_is_retryable(self):
        error = exceptions.from_sdk_error('DescribeDisks', fakes.throttled())
        self.assertIsInstance(error, exceptions.EBSThrottled)
        self.assertTrue(error.retryable)
        self.assertIsNone(error.retry_after)

    def test_throttling_exception_keeps_retry_after(self):
        error = exceptions.from_sdk_error(
            'DescribeDisks', fakes.throttled(retry_after=1500))
        self.assertIsInstance(error, exceptions.EBSThrottled)
        self.assertEqual(1500, error.retry_after)

    def test_throttling_exception_with_unknown_code(self):
        error = exceptions.from_sdk_error('DescribeDisks', fakes.throttled(
            retry_after=10, code='FlowControl'))
        self.assertIsInstance(error, exceptions.EBSThrottled)

    @ddt.data('LastTokenProcessing', 'OperationConflict')
    def test_transient_4xx_codes_are_retryable(self, code):
        error = exceptions.from_sdk_error(
            'CreateDisk', fakes.client_error(code, status=403))
        self.assertTrue(error.retryable)

    @ddt.data('InvalidParameter', 'IncorrectDiskStatus',
              'InvalidDiskId.NotFound', 'QuotaExceed.Disk',
              'SignatureDoesNotMatch', 'OperationDenied')
    def test_other_4xx_codes_are_not_retryable(self, code):
        error = exceptions.from_sdk_error(
            'CreateDisk', fakes.client_error(code, status=400))
        self.assertFalse(error.retryable)

    def test_connection_error(self):
        error = exceptions.from_sdk_error('AttachDisk', fakes.unanswered())
        self.assertIsInstance(error, exceptions.EBSConnectionError)
        self.assertTrue(error.retryable)
        self.assertIsNone(error.code)
        self.assertIsNone(error.request_id)
        self.assertIn('ECS AttachDisk failed: connection error: ', str(error))
        self.assertIn('Connection refused', str(error))

    def test_unreadable_answer(self):
        error = exceptions.from_sdk_error('DescribeDisks', fakes.unanswered(
            RuntimeError('Failed to parse the value as json format, '
                         'Value: "<html>bad gateway</html>".')))
        self.assertIsInstance(error, exceptions.EBSServerError)
        self.assertTrue(error.retryable)
        self.assertEqual('InvalidResponse', error.code)
        self.assertIn('bad gateway', str(error))

    def test_missing_fields(self):
        sdk_error = fakes.client_error('None', None, request_id='None')
        sdk_error.data = None
        error = exceptions.from_sdk_error('DeleteDisk', sdk_error)
        self.assertIsNone(error.code)
        self.assertIsNone(error.request_id)
        self.assertEqual(400, error.http_status)

    def test_translated_error_passes_through(self):
        original = exceptions.EBSNotFound(action='DeleteDisk', code='X')
        self.assertIs(original,
                      exceptions.from_sdk_error('DeleteDisk', original))

    def test_secret_is_masked(self):
        sdk_error = fakes.client_error(
            'SignatureDoesNotMatch',
            'Specified signature is not matched with our calculation. '
            'Key: %s' % fakes.SECRET)
        error = exceptions.from_sdk_error('DescribeDisks', sdk_error,
                                          secrets=(fakes.SECRET,))
        self.assertNotIn(fakes.SECRET, str(error))
        self.assertNotIn(fakes.SECRET, error.error_message)
        self.assertIn(exceptions.REDACTED, str(error))

    def test_secret_is_masked_in_connection_errors(self):
        error = exceptions.from_sdk_error(
            'DescribeDisks',
            fakes.unanswered(IOError('refused %s' % fakes.SECRET)),
            secrets=(fakes.SECRET,))
        self.assertIsInstance(error, exceptions.EBSConnectionError)
        self.assertNotIn(fakes.SECRET, str(error))


class TimeoutTestCase(testtools.TestCase):

    def test_message(self):
        error = exceptions.EBSTimeout(
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
                         exceptions.redact('a xyz b xyz', ('xyz', None, '')))
        self.assertIsNone(exceptions.redact(None, ('xyz',)))
        self.assertEqual('12', exceptions.redact(12, ('xyz',)))


def _every_error():
    """One instance of every backend exception class, fully populated."""
    full = dict(action='DescribeDisks', code='InvalidDiskId.NotFound',
                error_message='no such disk', request_id='req-1',
                http_status=404)
    errors = [cls(**full) for cls in (
        exceptions.EBSBackendError, exceptions.EBSNotFound,
        exceptions.EBSThrottled, exceptions.EBSIncorrectStatus,
        exceptions.EBSInvalidParameter, exceptions.EBSQuotaExceeded,
        exceptions.EBSAuthError, exceptions.EBSServerError)]
    errors.append(exceptions.EBSConnectionError(
        action='DescribeDisks', reason='connection refused'))
    errors.append(exceptions.EBSCredentialsError(
        action='DescribeDisks', credential_type='ram_role_arn',
        reason='InvalidSecurityToken.Expired', code='X', request_id='r',
        http_status=400))
    errors.append(exceptions.EBSTimeout('disk d-1 to be attached',
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
            {exceptions.EBSBackendError} | set(
                subclasses(exceptions.EBSBackendError)),
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
        error = exceptions.EBSBackendError(
            action='AttachDisk', code='OperationConflict')
        error.retryable = True
        error.retry_after = 1500
        copied = pickle.loads(pickle.dumps(copy.copy(error)))
        self.assertTrue(copied.retryable)
        self.assertEqual(1500, copied.retry_after)
        self.assertEqual('OperationConflict', copied.code)

    def test_connection_error_message_not_doubled(self):
        error = exceptions.EBSConnectionError(action='DescribeDisks',
                                              reason='refused')
        self.assertEqual('ECS DescribeDisks failed: connection error: '
                         'refused', str(copy.copy(error)))
