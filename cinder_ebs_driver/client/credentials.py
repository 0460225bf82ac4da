"""Where the driver's ECS credentials come from.

The official ``alibabacloud_credentials`` library (what the SDK itself
uses) obtains and renews them; this module picks its provider from the
backend's options (``ebs_credential_type``) and wraps it in a
:class:`CredentialSource` that the SDK client is given.  The source can be
*renewed*: the provider is built again, so that the next call fetches new
credentials instead of the cached ones.  The client renews it once when
the service refuses a security token (expired, or revoked before its
expiry) and repeats the call.

Renewal before expiry is the library's: it fetches new STS credentials
15 minutes before the current ones expire (at once when they live
shorter than that).
"""

import threading

from alibabacloud_credentials import exceptions as cred_exceptions
from alibabacloud_credentials import http as cred_http
from alibabacloud_credentials import provider as cred_provider
from alibabacloud_credentials_api import ICredentialsProvider
from cinder import exception as cinder_exception

from cinder_ebs_driver.i18n import _

ACCESS_KEY = 'access_key'
STS = 'sts'
RAM_ROLE_ARN = 'ram_role_arn'
ECS_RAM_ROLE = 'ecs_ram_role'
CREDENTIALS_URI = 'credentials_uri'
TYPES = (ACCESS_KEY, STS, RAM_ROLE_ARN, ECS_RAM_ROLE, CREDENTIALS_URI)

# The options each credential type needs.
REQUIRED_OPTIONS = {
    ACCESS_KEY: ('ebs_access_key_id', 'ebs_access_key_secret'),
    STS: ('ebs_access_key_id', 'ebs_access_key_secret',
          'ebs_security_token'),
    RAM_ROLE_ARN: ('ebs_access_key_id', 'ebs_access_key_secret',
                   'ebs_role_arn'),
    ECS_RAM_ROLE: (),
    CREDENTIALS_URI: ('ebs_credentials_uri',),
}

# What the credentials library raises when it cannot get credentials:
# its own error, ValueError for a bad setting, and whatever the HTTP
# layer raises (a connection failure, an answer that is not JSON).
FETCH_ERRORS = (cred_exceptions.CredentialException, ValueError, IOError,
                KeyError, TypeError)


class CredentialsUnavailable(Exception):
    """The credentials library could not get credentials."""


def _get(conf, name, default=None):
    try:
        value = getattr(conf, name)
    except AttributeError:
        return default
    return default if value is None else value


class CredentialSource(ICredentialsProvider):
    """A credentials provider of the library that can be built again.

    :param credential_type: one of :data:`TYPES`, named in errors.
    :param factory: builds the library's provider.
    """

    def __init__(self, credential_type, factory):
        self.credential_type = credential_type
        self._factory = factory
        self._lock = threading.Lock()
        self._provider = factory()
        self._seen = set()
        # Times the provider was built again after a refusal.
        self.renewals = 0

    def renew(self):
        """Forget the cached credentials: the next call fetches new ones."""
        provider = self._factory()
        with self._lock:
            self._provider = provider
            self.renewals += 1

    def _remember(self, credentials):
        if credentials is not None:
            with self._lock:
                for value in (credentials.get_access_key_secret(),
                              credentials.get_security_token()):
                    if value:
                        self._seen.add(value)
        return credentials

    def secrets(self):
        """Every secret and token handed out so far (to mask them)."""
        with self._lock:
            return tuple(self._seen)

    def get_credentials(self):
        with self._lock:
            provider = self._provider
        try:
            return self._remember(provider.get_credentials())
        except FETCH_ERRORS as error:
            raise CredentialsUnavailable(
                getattr(error, 'message', None) or str(error)) from None

    async def get_credentials_async(self):
        with self._lock:
            provider = self._provider
        try:
            return self._remember(await provider.get_credentials_async())
        except FETCH_ERRORS as error:
            raise CredentialsUnavailable(
                getattr(error, 'message', None) or str(error)) from None

    def get_provider_name(self):
        return self.credential_type


def _http_options(conf):
    timeout_ms = int(_get(conf, 'ebs_api_timeout', 30) * 1000)
    return cred_http.HttpOptions(connect_timeout=timeout_ms,
                                 read_timeout=timeout_ms)


def _factory(credential_type, conf):
    key_id = _get(conf, 'ebs_access_key_id')
    secret = _get(conf, 'ebs_access_key_secret')
    if credential_type == ACCESS_KEY:
        return lambda: cred_provider.StaticAKCredentialsProvider(
            access_key_id=key_id, access_key_secret=secret)
    if credential_type == STS:
        token = _get(conf, 'ebs_security_token')
        return lambda: cred_provider.StaticSTSCredentialsProvider(
            access_key_id=key_id, access_key_secret=secret,
            security_token=token)
    if credential_type == RAM_ROLE_ARN:
        def ram_role_arn():
            base = cred_provider.StaticAKCredentialsProvider(
                access_key_id=key_id, access_key_secret=secret)
            endpoint = _get(conf, 'ebs_sts_endpoint')
            return cred_provider.RamRoleArnCredentialsProvider(
                credentials_provider=base,
                role_arn=_get(conf, 'ebs_role_arn'),
                role_session_name=_get(conf, 'ebs_role_session_name'),
                duration_seconds=_get(conf, 'ebs_role_session_duration',
                                      3600),
                sts_endpoint=endpoint,
                sts_region_id=None if endpoint else _get(conf,
                                                         'ebs_region_id'),
                http_options=_http_options(conf))
        return ram_role_arn
    if credential_type == ECS_RAM_ROLE:
        # No background refresh thread: the cache renews on use.
        return lambda: cred_provider.EcsRamRoleCredentialsProvider(
            role_name=_get(conf, 'ebs_ecs_role_name') or None,
            disable_imds_v1=bool(_get(conf, 'ebs_metadata_token_required',
                                      False)),
            http_options=_http_options(conf),
            async_update_enabled=False)
    if credential_type == CREDENTIALS_URI:
        return lambda: cred_provider.URLCredentialsProvider(
            uri=_get(conf, 'ebs_credentials_uri'),
            http_options=_http_options(conf))
    raise cinder_exception.InvalidConfigurationValue(
        option='ebs_credential_type', value=credential_type)


def missing_options(conf):
    """The options the configured credential type needs and lacks."""
    credential_type = _get(conf, 'ebs_credential_type', ACCESS_KEY)
    return [name for name in REQUIRED_OPTIONS.get(credential_type, ())
            if not _get(conf, name)]


def from_conf(conf):
    """The :class:`CredentialSource` the backend's options describe.

    :raises cinder.exception.InvalidConfigurationValue: for an unknown
        type or a missing option of the chosen type.
    """
    credential_type = _get(conf, 'ebs_credential_type', ACCESS_KEY)
    if credential_type not in TYPES:
        raise cinder_exception.InvalidConfigurationValue(
            option='ebs_credential_type', value=credential_type)
    missing = missing_options(conf)
    if missing:
        raise cinder_exception.InvalidConfigurationValue(
            _('The EBS backend with ebs_credential_type %(type)s needs '
              '%(options)s.') % {'type': credential_type,
                                 'options': ', '.join(missing)})
    factory = _factory(credential_type, conf)
    try:
        return CredentialSource(credential_type, factory)
    except ValueError as error:
        raise cinder_exception.InvalidConfigurationValue(
            _('The EBS backend\'s %(type)s credentials are not usable: '
              '%(error)s') % {'type': credential_type, 'error': error})
