"""Calling the ECS API: retries, errors, logging and pagination.

:class:`BaseClient` holds the SDK client of one Cinder backend and the
machinery every ECS call of :class:`~cinder_ebs_driver.client.EBSClient`
goes through:

* answers are plain dicts with the ECS key names (DiskId, Status,
  Attachments, ...), and list calls follow the pagination to the end;
* a call that failed for a passing reason (throttling, HTTP 5xx, no
  answer) is repeated with exponential backoff, never one the service
  refused;
* failures raise :mod:`cinder_ebs_driver.exception` errors carrying the
  ECS code and the RequestId;
* the action, its parameters, the RequestId and the duration are logged
  at debug level.  The AccessKey secret never appears in a log line or an
  exception.

CreateDisk, CreateSnapshot and ResizeDisk take a ClientToken derived from
the operation: a call repeated because its answer was lost gets the first
call's result instead of a second disk, snapshot or resize.  Attach,
detach, spec changes and resets have no token in the ECS API; when one of
them is repeated and refused, the caller's ``already_done`` check tells
whether the earlier attempt did the job before the refusal is reported.
"""

import re
import time

from alibabacloud_credentials import client as credential_client
from alibabacloud_ecs20140526 import client as ecs_client
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import models as openapi_models
from cinder import exception as cinder_exception
from darabonba import exceptions as dara_exceptions
from oslo_log import log as logging
from Tea import exceptions as tea_exceptions

from cinder_ebs_driver.client import backoff
from cinder_ebs_driver.client import credentials
from cinder_ebs_driver import exception
from cinder_ebs_driver.i18n import _

LOG = logging.getLogger(__name__)

# Largest page of the Describe* actions, and most ids in one DiskIds or
# SnapshotIds filter.
PAGE_SIZE = 100
MAX_IDS_PER_CALL = 100

# Request parameters whose values are never logged.
_SENSITIVE_PARAMS = frozenset(['Password', 'AccessKeySecret',
                               'SecurityToken'])

_CAMEL_BOUNDARY = re.compile(r'(?<!^)(?=[A-Z])')

# What the SDK raises for a failed call: every error answer and every
# failure to get one is a TeaException (see exception.from_sdk_error);
# anything else is a bug and propagates untouched.
_SDK_ERRORS = (tea_exceptions.TeaException, dara_exceptions.RetryError,
               IOError)


def _method_name(action):
    """The SDK method of an action: ``CreateDisk`` -> ``create_disk``."""
    return _CAMEL_BOUNDARY.sub('_', action).lower()


def conf_get(conf, name, default=None):
    """Option ``name`` of ``conf``, or ``default`` when unset or unknown."""
    try:
        value = getattr(conf, name)
    except AttributeError:
        # Also oslo.config's NoSuchOptError, an AttributeError.
        return default
    return default if value is None else value


def chunks(items, size):
    """``items`` in lists of at most ``size``."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


class BaseClient(object):
    """The SDK client of one Cinder backend and how calls go through it.

    :param conf: the backend's configuration: a Cinder ``Configuration``
        or an oslo.config group holding
        :data:`cinder_ebs_driver.options.ebs_opts` (read by attribute).
    :param retry_interval: base backoff between two attempts of a call,
        seconds; ``ebs_api_retry_interval`` by default.
    :param sleep: the function used to wait between attempts and polls
        (tenacity's, that is ``time.sleep``, by default).
    """

    # Items asked for per page of a Describe* action.
    page_size = PAGE_SIZE

    def __init__(self, conf, retry_interval=None, sleep=None):
        self._region_id = conf_get(conf, 'ebs_region_id')
        self._zone_id = conf_get(conf, 'ebs_zone_id')
        missing = ([] if self._region_id else ['ebs_region_id'])
        missing += credentials.missing_options(conf)
        if missing:
            raise cinder_exception.InvalidConfigurationValue(
                _('The EBS backend with ebs_credential_type %(type)s needs '
                  '%(options)s.') % {
                    'type': conf_get(conf, 'ebs_credential_type',
                                     credentials.ACCESS_KEY),
                    'options': ', '.join(missing)})
        self._credentials = credentials.from_conf(conf)
        self.credential_type = self._credentials.credential_type
        self._static_secrets = tuple(
            value for value in (conf_get(conf, 'ebs_access_key_secret'),
                                conf_get(conf, 'ebs_security_token'))
            if value)
        timeout_ms = int(conf_get(conf, 'ebs_api_timeout', 30) * 1000)
        self._retries = int(conf_get(conf, 'ebs_api_retries', 5))
        if retry_interval is None:
            retry_interval = conf_get(conf, 'ebs_api_retry_interval', 1.0)
        self._retry_interval = float(retry_interval)
        self._poll_interval = float(
            conf_get(conf, 'ebs_state_poll_interval', 1.0))
        self._state_timeout = float(conf_get(conf, 'ebs_state_timeout', 300))
        self._sleep = sleep
        # Seconds the last transition of each kind took to be seen done.
        self._transition_times = {}
        self.endpoint = conf_get(conf, 'ebs_endpoint')
        config = openapi_models.Config(
            credential=credential_client.Client(provider=self._credentials),
            region_id=self._region_id,
            endpoint=self.endpoint,
            protocol=conf_get(conf, 'ebs_protocol', 'https'),
            read_timeout=timeout_ms,
            connect_timeout=timeout_ms)
        self._sdk = ecs_client.Client(config)

    @property
    def _secrets(self):
        """The secrets and tokens to mask in logs and errors."""
        return self._static_secrets + self._credentials.secrets()

    def _loggable(self, request):
        """The request's parameters, fit for a log line."""
        def clean(value):
            if isinstance(value, dict):
                return {key: (exception.REDACTED
                              if key in _SENSITIVE_PARAMS else clean(item))
                        for key, item in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(item) for item in value]
            if isinstance(value, str):
                return exception.redact(value, self._secrets)
            return value
        return {key: clean(value)
                for key, value in request.to_map().items()
                if value not in (None, [], {})}

    def _invoke(self, action, request, params):
        """One attempt of a call: the response body, or an EBSBackendError."""
        method = getattr(self._sdk, _method_name(action))
        start = time.monotonic()
        try:
            response = method(request)
        except _SDK_ERRORS as error:
            failure = self._credentials_failure(action, error)
            if failure is None:
                failure = exception.from_sdk_error(action, error,
                                                   self._secrets)
            LOG.debug('ECS %(action)s %(params)s failed after %(duration).3f '
                      's: %(error)s',
                      {'action': action, 'params': params,
                       'duration': time.monotonic() - start,
                       'error': failure.msg})
            # The translation says all the SDK error said, secrets masked;
            # the SDK error itself (which holds the signed request) is not
            # chained so that no traceback prints it.
            raise failure from None
        body = response.body.to_map() if response.body is not None else {}
        LOG.debug('ECS %(action)s %(params)s: RequestId %(request_id)s, '
                  '%(duration).3f s',
                  {'action': action, 'params': params,
                   'request_id': body.get('RequestId'),
                   'duration': time.monotonic() - start})
        return body

    def _credentials_failure(self, action, error):
        """The error for credentials the library could not get, or None.

        The SDK asks for the credentials inside the call and wraps what
        the library raised.
        """
        cause = error
        while cause is not None and not isinstance(
                cause, credentials.CredentialsUnavailable):
            cause = getattr(cause, 'inner_exception', None)
        if cause is None:
            return None
        reason = exception.redact(cause, self._secrets)
        return exception.EBSCredentialsError(
            action, self.credential_type, reason)

    def _invoke_renewing(self, action, request, params):
        """One attempt; once more with renewed credentials on a refusal."""
        try:
            return self._invoke(action, request, params)
        except exception.EBSAuthError as error:
            if error.code not in exception.TOKEN_REFUSED_CODES:
                raise
            LOG.warning('ECS %(action)s refused the security token of the '
                        '%(type)s credentials (%(code)s, RequestId '
                        '%(request_id)s); renewing them and trying once '
                        'more.', {'action': action,
                                  'type': self.credential_type,
                                  'code': error.code,
                                  'request_id': error.request_id})
        self._credentials.renew()
        try:
            return self._invoke(action, request, params)
        except exception.EBSCredentialsError:
            raise
        except exception.EBSAuthError as error:
            if error.code not in exception.TOKEN_REFUSED_CODES:
                raise
            raise exception.EBSCredentialsError(
                action, self.credential_type,
                _('%(code)s, again with renewed credentials: '
                  '%(message)s') % {'code': error.code,
                                    'message': error.error_message},
                code=error.code, request_id=error.request_id,
                http_status=error.http_status) from None

    def _before_retry(self, action):
        def log(retry_state):
            error = retry_state.outcome.exception()
            LOG.warning('ECS %(action)s attempt %(attempt)d of %(attempts)d '
                        'failed (%(error)s); retrying in %(wait).2f s',
                        {'action': action,
                         'attempt': retry_state.attempt_number,
                         'attempts': self._retries + 1,
                         'error': getattr(error, 'msg', error),
                         'wait': retry_state.next_action.sleep})
        return log

    def _call(self, action, request, already_done=None):
        """Call ``action`` with retries; answer the response body dict.

        :param already_done: for calls without a ClientToken: a function
            of the refusal telling whether the effect of the call is already
            in place (or under way).  It is asked when a repeated attempt is
            refused, since the refusal may come from an earlier attempt that
            worked but whose answer was lost; when it says yes the call
            succeeds.
        """
        params = self._loggable(request)
        attempts = []

        def attempt():
            attempts.append(None)
            try:
                return self._invoke_renewing(action, request, params)
            except exception.EBSBackendError as error:
                if (len(attempts) > 1 and already_done is not None
                        and not error.retryable
                        and self._check_done(action, already_done,
                                             error)):
                    LOG.info('ECS %(action)s %(params)s: a repeated attempt '
                             'was refused (%(code)s), but an earlier one '
                             'did it.', {'action': action, 'params': params,
                                         'code': error.code})
                    return {}
                raise

        retrying = backoff.api_retrying(
            self._retries, self._retry_interval,
            before_sleep=self._before_retry(action), sleep=self._sleep)
        return retrying(attempt)

    @staticmethod
    def _check_done(action, already_done, refusal):
        try:
            return already_done(refusal)
        except exception.EBSBackendError as error:
            LOG.debug('Could not check whether ECS %(action)s is done: '
                      '%(error)s', {'action': action, 'error': error.msg})
            return False

    def _paginate(self, action, make_request, list_key, item_key, id_key):
        """Every item of a paginated Describe* action, in order.

        :param make_request: builds the request for a page:
            ``make_request(page_number, page_size)``.
        """
        items = []
        seen = set()
        page_number = 1
        while True:
            body = self._call(action,
                              make_request(page_number, self.page_size))
            batch = (body.get(list_key) or {}).get(item_key) or []
            for item in batch:
                # Items that moved between pages while paging come twice.
                if item.get(id_key) not in seen:
                    seen.add(item.get(id_key))
                    items.append(item)
            page_size = body.get('PageSize') or self.page_size
            total = body.get('TotalCount')
            if len(batch) < page_size:
                break
            if total is not None and page_number * page_size >= total:
                break
            page_number += 1
        return items

    @staticmethod
    def _tags(model, tags):
        if not tags:
            return None
        # A None value is left out: the filter then matches any value.
        return [model(key=key, value=value)
                for key, value in sorted(tags.items())]

    def _tag(self, resource_type, resource_id, tags):
        request = ecs_models.TagResourcesRequest(
            region_id=self._region_id, resource_type=resource_type,
            resource_id=[resource_id],
            tag=self._tags(ecs_models.TagResourcesRequestTag, tags))
        self._call('TagResources', request)

    def _untag(self, resource_type, resource_id, keys):
        request = ecs_models.UntagResourcesRequest(
            region_id=self._region_id, resource_type=resource_type,
            resource_id=[resource_id], tag_key=list(keys))
        self._call('UntagResources', request)
