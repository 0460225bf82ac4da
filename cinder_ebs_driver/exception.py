"""Errors of the EBS backend.

Every failure of an ECS API call leaves :mod:`cinder_ebs_driver.client` as
an :class:`EBSBackendError` (a Cinder ``VolumeBackendAPIException``, so that
Cinder reports it like any other backend failure).  The exception carries
the ECS error code, the HTTP status and the RequestId of the failed call;
the RequestId is what the cloud provider's support asks for.

:func:`from_sdk_error` turns what the official SDK raises into this
hierarchy.  The SDK raises:

* ``ClientException`` (HTTP 4xx), ``ServerException`` (HTTP 5xx) and
  ``ThrottlingException`` (a throttled answer with a retry-after header),
  all ``AlibabaCloudException``: ``code``, ``status_code``, ``request_id``
  and ``data`` (the ECS error body: Code, Message, RequestId);
* ``UnretryableException`` wrapping the real cause in
  ``inner_exception`` when no answer was read: a ``RetryError`` for
  connection failures and timeouts (anything ``requests`` raises), another
  exception for an answer that is not valid JSON.
"""

from cinder import exception as cinder_exception
from darabonba import exceptions as dara_exceptions
from Tea import exceptions as tea_exceptions

from cinder_ebs_driver.i18n import _

# Codes that mean "too many requests, try again later".
THROTTLING_CODES = frozenset([
    'Throttling',
    'ServiceUnavailable',
    'RequestLimitExceeded',
])
# Codes of 4xx answers that nevertheless ask the caller to try again: the
# request conflicted with one still being processed (for instance a request
# with the same ClientToken), not with the state of a resource.
TRANSIENT_CODES = frozenset([
    'LastTokenProcessing',
    'OperationConflict',
    'ServiceIsConfiguring',
])
# A ClientToken used again with other parameters.  ECS's idempotence page
# names IdempotentParameterMismatch; the error tables of several creating
# actions name IdempotenceParamNotMatch.
IDEMPOTENCE_MISMATCH_CODES = frozenset([
    'IdempotentParameterMismatch',
    'IdempotenceParamNotMatch',
])
# Authentication and authorisation failures.  InvalidAccessKeyId.NotFound
# must never pass for a missing resource (a caller could conclude that a
# disk is already deleted).
AUTH_CODE_PREFIXES = (
    'InvalidAccessKeyId',
    'SignatureDoesNotMatch',
    'IncompleteSignature',
    'InvalidSecurityToken',
    'InvalidTimeStamp',
    'SignatureNonceUsed',
    'Forbidden',
    'NoPermission',
    'InvalidApi.NotPurchase',
    'MissingSecurityToken',
)
# Codes refusing a security token: expired, not the one issued with the
# AccessKey ID, unreadable, or missing (Alibaba Cloud's common error codes).
TOKEN_REFUSED_CODES = frozenset([
    'InvalidSecurityToken.Expired',
    'InvalidSecurityToken.MismatchWithAccessKey',
    'InvalidSecurityToken.Malformed',
    'MissingSecurityToken',
])
# '*.NotFound' codes that are about the request, not about a resource:
# a wrong action, region or zone is a configuration error.
REQUEST_NOT_FOUND_CODES = frozenset([
    'InvalidAction.NotFound',
    'InvalidRegionId.NotFound',
    'InvalidZoneId.NotFound',
])

REDACTED = '***'


def _rebuild(cls, args, state):
    """An exception of ``cls`` with ``args`` and attributes ``state``.

    Used to copy and unpickle backend errors without calling their
    constructors, whose parameters are not their ``args``.
    """
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class EBSBackendError(cinder_exception.VolumeBackendAPIException):
    """An ECS API call failed.

    :ivar action: the ECS action (``CreateDisk`` ...), or None.
    :ivar code: the ECS error code (``InvalidDiskId.NotFound`` ...), or
        None when the service gave no answer.
    :ivar request_id: the RequestId of the failed call, or None.
    :ivar http_status: the HTTP status of the answer, or None.
    :ivar error_message: the ECS error message alone.
    :ivar retryable: whether the same call may succeed when repeated.
    :ivar retry_after: milliseconds the service asked to back off, or None.
    """

    retryable = False
    retry_after = None

    def __init__(self, message=None, action=None, code=None,
                 error_message=None, request_id=None, http_status=None):
        if message is None:
            message = _('ECS %(action)s failed: %(code)s: %(message)s '
                        '(RequestId %(request_id)s)') % {
                'action': action or _('call'),
                'code': code,
                'message': error_message,
                'request_id': request_id,
            }
        super().__init__(message=message)
        self.action = action
        self.code = code
        self.error_message = error_message
        self.request_id = request_id
        self.http_status = http_status

    def __reduce__(self):
        # copy.copy and pickle (oslo.messaging serializes exceptions) would
        # call the constructor with the formatted message as its first
        # argument: rebuild from the attributes instead.
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class EBSNotFound(EBSBackendError):
    """The disk, snapshot or instance does not exist (``*.NotFound``)."""


class EBSThrottled(EBSBackendError):
    """The call was throttled; it is retried with backoff."""

    retryable = True


class EBSIncorrectStatus(EBSBackendError):
    """The resource is in a status that does not allow the action."""


class EBSInvalidParameter(EBSBackendError):
    """A parameter was refused (``Invalid*``, ``MissingParameter``)."""


class EBSQuotaExceeded(EBSBackendError):
    """A quota or limit was exceeded (``QuotaExceed*``)."""


class EBSAuthError(EBSBackendError):
    """The credentials were refused or lack a permission."""


class EBSCredentialsError(EBSAuthError):
    """The driver's credentials could not be obtained or were refused.

    Raised when the credentials library cannot get credentials of the
    configured type, and when the service refuses a security token again
    after the credentials were renewed.

    :ivar credential_type: the ``ebs_credential_type`` in use.
    """

    def __init__(self, action=None, credential_type=None, reason=None,
                 code=None, request_id=None, http_status=None):
        message = _('ECS %(action)s failed: the %(type)s credentials of '
                    'the EBS backend were refused or could not be '
                    'obtained: %(reason)s') % {
            'action': action or _('call'), 'type': credential_type,
            'reason': reason}
        super().__init__(message=message, action=action, code=code,
                         error_message=reason, request_id=request_id,
                         http_status=http_status)
        self.credential_type = credential_type


class EBSServerError(EBSBackendError):
    """The service failed (HTTP 5xx, or an answer that cannot be read)."""

    retryable = True


class EBSConnectionError(EBSBackendError):
    """The service could not be reached or did not answer in time."""

    retryable = True

    def __init__(self, action=None, reason=None):
        message = _('ECS %(action)s failed: connection error: '
                    '%(reason)s') % {'action': action or _('call'),
                                     'reason': reason}
        super().__init__(message=message, action=action,
                         error_message=reason)


class EBSTimeout(EBSBackendError):
    """A waiter gave up: the expected state was not reached in time.

    :ivar waited_for: what was expected, in words.
    :ivar last_state: the last state seen, in words.
    :ivar timeout: the seconds waited.
    """

    def __init__(self, waited_for, last_state, timeout):
        message = _('Timed out after %(timeout)s s waiting for '
                    '%(waited_for)s; last seen: %(last_state)s') % {
            'timeout': timeout, 'waited_for': waited_for,
            'last_state': last_state}
        super().__init__(message=message)
        self.waited_for = waited_for
        self.last_state = last_state
        self.timeout = timeout


def classify(code, http_status=None):
    """The exception class for an ECS error code and HTTP status."""
    code = code or ''
    if code.startswith(AUTH_CODE_PREFIXES):
        return EBSAuthError
    if code.split('.')[0] in THROTTLING_CODES:
        return EBSThrottled
    if code in REQUEST_NOT_FOUND_CODES:
        return EBSInvalidParameter
    if code.endswith('.NotFound'):
        return EBSNotFound
    if code.startswith(('IncorrectDiskStatus', 'IncorrectInstanceStatus',
                        'IncorrectSnapshotStatus')):
        return EBSIncorrectStatus
    if code.startswith('QuotaExceed'):
        return EBSQuotaExceeded
    if code.startswith('Invalid') or code == 'MissingParameter':
        return EBSInvalidParameter
    if http_status == 429:
        return EBSThrottled
    if http_status is not None and http_status >= 500:
        return EBSServerError
    return EBSBackendError


def redact(text, secrets):
    """``text`` with every occurrence of each of ``secrets`` masked."""
    if text is None:
        return None
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _none_if_unset(value):
    # The SDK formats missing values with an f-string: 'None'.
    if value in (None, '', 'None'):
        return None
    return value


def from_sdk_error(action, error, secrets=()):
    """Translate an exception raised by the SDK into an EBSBackendError.

    :param action: the ECS action that failed.
    :param error: the exception the SDK raised.
    :param secrets: strings that must not appear in the result (they are
        masked wherever the service or the SDK echoed them).
    """
    if isinstance(error, EBSBackendError):
        return error
    if isinstance(error, tea_exceptions.UnretryableException):
        inner = error.inner_exception
        if isinstance(inner, (dara_exceptions.RetryError,
                              tea_exceptions.RetryError, IOError)):
            return EBSConnectionError(
                action=action,
                reason=redact(getattr(inner, 'message', inner), secrets))
        reason = redact(inner if inner is not None else error, secrets)
        return EBSServerError(action=action, code='InvalidResponse',
                              error_message=reason)
    if isinstance(error, (dara_exceptions.RetryError,
                          tea_exceptions.RetryError, IOError)):
        return EBSConnectionError(
            action=action,
            reason=redact(getattr(error, 'message', error), secrets))
    if isinstance(error, tea_exceptions.TeaException):
        data = error.data if isinstance(error.data, dict) else {}
        code = _none_if_unset(data.get('Code') or error.code)
        message = data.get('Message') or error.message
        request_id = _none_if_unset(data.get('RequestId')
                                    or getattr(error, 'request_id', None))
        http_status = (getattr(error, 'status_code', None)
                       or data.get('statusCode')
                       or getattr(error, 'statusCode', None))
        cls = classify(code, http_status)
        if (cls is EBSBackendError
                and error.__class__.__name__ == 'ThrottlingException'):
            cls = EBSThrottled
        result = cls(action=action, code=code,
                     error_message=redact(message, secrets),
                     request_id=request_id, http_status=http_status)
        if code in TRANSIENT_CODES:
            result.retryable = True
        result.retry_after = getattr(error, 'retry_after', None)
        return result
    return EBSBackendError(action=action,
                           error_message=redact(error, secrets))
