"""Short-lived credentials: STS AssumeRole and the tokens it issues.

The emulator issues STS credentials (an AccessKey ID ``STS.…``, its
secret and a security token, valid until an expiration time) in two
ways, as Alibaba Cloud does:

* the STS API action ``AssumeRole`` (version 2015-04-01, RPC style: the
  parameters in the query string, signed with HMAC-SHA1 by a configured
  AccessKey) - what the credentials library's ``ram_role_arn`` type calls;
* the instance metadata service (:mod:`ebs_emulator.metadata`), for the
  RAM role attached to the instance - the ``ecs_ram_role`` type.

:class:`TokenStore` remembers what it issued so that the ECS API can check
a request signed with an STS key: the security token must be the one
issued with that key, not expired, and its role not revoked.  Which code
answers what is in :mod:`ebs_emulator.rules`.

A test can make the credentials short-lived (``--sts-token-lifetime``),
end all of them at once, and revoke a role (``/_emulator/`` endpoints).

The RPC signature follows the signature page: values percent-encoded with
a space as ``%20``.  The credentials library (1.0.12) encodes a space as
``+``: its AssumeRole requests verify here as long as no value has a
space (a ``Policy`` would; the driver sends none).
"""

import base64
import collections
import datetime
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
import urllib.parse

from ebs_emulator import exception
from ebs_emulator import rules
from ebs_emulator import signature

STS_VERSION = '2015-04-01'
RPC_SIGNATURE_METHOD = 'HMAC-SHA1'
RPC_SIGNATURE_VERSION = '1.0'
EXPIRATION_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
# DurationSeconds bounds of AssumeRole (rules.ASSUME_ROLE_DURATION).
MIN_DURATION = 900
MAX_DURATION = 3600
DEFAULT_DURATION = 3600
# Lifetime of the credentials the metadata service serves (the pages do
# not say; see rules.SILENT).
METADATA_LIFETIME = 3600
# Issued credentials are forgotten this long after they expired; a key
# then answers InvalidAccessKeyId.NotFound.
FORGET_AFTER = 3600
_SESSION_NAME_RE = re.compile(r'^[a-zA-Z0-9.@_-]{2,32}$')
_ROLE_ARN_RE = re.compile(r'^acs:ram::(?P<account>\d+):role/(?P<name>[^/]+)$')
_ALNUM = string.ascii_letters + string.digits


def format_time(when):
    return datetime.datetime.fromtimestamp(
        when, tz=datetime.timezone.utc).strftime(EXPIRATION_FORMAT)


def _random(length, alphabet=_ALNUM):
    return ''.join(secrets.choice(alphabet) for _ in range(length))


class Issued(object):
    """One set of STS credentials."""

    def __init__(self, role_name, source, lifetime, clock):
        self.access_key_id = 'STS.' + _random(24)
        self.secret = _random(44)
        self.token = 'CAIS' + base64.b64encode(
            secrets.token_bytes(96)).decode('ascii')
        self.role_name = role_name
        self.source = source
        self.issued_at = clock()
        self.expires_at = self.issued_at + lifetime

    def credentials(self):
        return {'AccessKeyId': self.access_key_id,
                'AccessKeySecret': self.secret,
                'SecurityToken': self.token,
                'Expiration': format_time(self.expires_at)}


class TokenStore(object):
    """The STS credentials issued, checked on every API request.

    :param lifetime: seconds every issued set lives, whatever was asked
        (0: as asked; for tests).
    :param clock: the time in seconds (``time.time``).
    """

    def __init__(self, lifetime=0, clock=time.time):
        self.lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._by_key = {}
        self._by_token = {}
        self._revoked = set()
        self.issued = collections.Counter()
        self.refused = collections.Counter()

    def issue(self, role_name, source, duration):
        """New credentials for ``role_name``; ``source`` names the issuer."""
        lifetime = self.lifetime or duration
        issued = Issued(role_name, source, lifetime, self._clock)
        with self._lock:
            self._prune()
            self._by_key[issued.access_key_id] = issued
            self._by_token[issued.token] = issued
            self.issued[source] += 1
        return issued

    def _prune(self):
        limit = self._clock() - FORGET_AFTER
        for key, issued in list(self._by_key.items()):
            if issued.expires_at < limit:
                del self._by_key[key]
                self._by_token.pop(issued.token, None)

    def knows(self, access_key_id):
        with self._lock:
            return access_key_id in self._by_key

    def secret_for(self, access_key_id, token):
        """The secret of an issued key, once its token is checked.

        :returns: None when the key was not issued here.
        :raises exception.EcsError: the token is missing, not the key's,
            malformed, expired or of a revoked role.
        """
        with self._lock:
            issued = self._by_key.get(access_key_id)
            if issued is None:
                return None
            try:
                self._check(issued, token)
            except exception.EcsError as error:
                self.refused[error.code] += 1
                raise
            return issued.secret

    def _check(self, issued, token):
        if not token:
            raise rules.TOKEN_MISSING.error()
        owner = self._by_token.get(token)
        if owner is None:
            raise rules.TOKEN_MALFORMED.error()
        if owner is not issued:
            raise rules.TOKEN_MISMATCH_KEY.error()
        if (issued.expires_at <= self._clock()
                or issued.role_name in self._revoked):
            raise rules.TOKEN_EXPIRED.error()

    def revoke(self, role_name):
        """The role can no longer be assumed; its tokens are refused."""
        with self._lock:
            self._revoked.add(role_name)

    def restore(self, role_name):
        with self._lock:
            self._revoked.discard(role_name)

    def revoked(self, role_name):
        with self._lock:
            return role_name in self._revoked

    def expire_all(self):
        """End every set issued so far (as if their time had passed)."""
        now = self._clock()
        with self._lock:
            ended = 0
            for issued in self._by_key.values():
                if issued.expires_at > now:
                    issued.expires_at = now
                    ended += 1
        return ended

    def report(self):
        with self._lock:
            now = self._clock()
            return {
                'lifetime': self.lifetime,
                'issued': dict(self.issued),
                'issued_total': sum(self.issued.values()),
                'refused': dict(self.refused),
                'valid': sum(1 for i in self._by_key.values()
                             if i.expires_at > now
                             and i.role_name not in self._revoked),
                'revoked_roles': sorted(self._revoked),
            }


# -- RPC signatures (STS) ----------------------------------------------------

def _encode(value):
    return urllib.parse.quote(value, safe='~', encoding='utf-8')


def rpc_string_to_sign(method, params):
    """The string an RPC (signature version 1.0) request signs."""
    canonical = '&'.join('%s=%s' % (_encode(k), _encode(v))
                         for k, v in sorted(params.items())
                         if k != 'Signature')
    return '%s&%s&%s' % (method.upper(), _encode('/'), _encode(canonical))


def rpc_signature(secret, to_sign):
    digest = hmac.new((secret + '&').encode('utf-8'),
                      to_sign.encode('utf-8'), hashlib.sha1).digest()
    return base64.b64encode(digest).decode('ascii')


def sign_rpc(method, params, access_key_id, secret, token=None):
    """``params`` with the signature parameters added (tests, debugging)."""
    signed = dict(params)
    signed.update({'AccessKeyId': access_key_id,
                   'SignatureMethod': RPC_SIGNATURE_METHOD,
                   'SignatureVersion': RPC_SIGNATURE_VERSION,
                   'SignatureNonce': _random(32),
                   'Timestamp': signature.format_date()})
    if token:
        signed['SecurityToken'] = token
    signed['Signature'] = rpc_signature(
        secret, rpc_string_to_sign(method, signed))
    return signed


class StsService(object):
    """The STS API: AssumeRole, verified with the configured keys.

    :param keys: ``{access key id: secret}`` of the identities that may
        assume roles.
    :param tokens: the :class:`TokenStore`.
    """

    def __init__(self, keys, tokens, max_skew=signature.MAX_CLOCK_SKEW,
                 clock=time.time):
        self._keys = dict(keys)
        self.tokens = tokens
        self._max_skew = max_skew
        self._clock = clock
        self._nonces = signature.NonceCache(window=2 * max_skew)

    def verify(self, method, params):
        """Check an RPC signature; answer the caller's access key id."""
        signature_value = params.get('Signature')
        if not signature_value:
            raise signature.incomplete_signature(
                'The Signature parameter is missing.')
        method_name = params.get('SignatureMethod')
        if method_name != RPC_SIGNATURE_METHOD:
            raise signature.invalid_signature_method(method_name or '')
        access_key_id = params.get('AccessKeyId') or ''
        secret = self._keys.get(access_key_id)
        if secret is None:
            # An STS key assuming a role: its token is checked first.
            secret = self.tokens.secret_for(access_key_id,
                                            params.get('SecurityToken'))
        if secret is None:
            raise signature.access_key_not_found()
        timestamp = params.get('Timestamp')
        if not timestamp:
            raise signature.timestamp_missing()
        try:
            sent_at = signature.parse_date(timestamp)
        except ValueError:
            raise signature.timestamp_format()
        if abs(self._clock() - sent_at) > self._max_skew:
            raise signature.timestamp_expired()
        nonce = params.get('SignatureNonce')
        if not nonce:
            raise signature.incomplete_signature(
                'The SignatureNonce parameter is missing.')
        to_sign = rpc_string_to_sign(method, params)
        if not hmac.compare_digest(rpc_signature(secret, to_sign),
                                   signature_value):
            raise rules.ASSUME_ROLE_SIGNATURE.error(
                'Specified signature is not matched with our calculation. '
                'server string to sign is:%s' % to_sign)
        if not self._nonces.add(nonce):
            raise signature.nonce_used()
        return access_key_id

    def call(self, action, params):
        if action != 'AssumeRole':
            raise exception.EcsError(
                'InvalidAction.NotFound',
                'Specified api is not found, please check your url and '
                'method.', 404)
        return self.assume_role(params)

    def assume_role(self, params):
        arn = params.get('RoleArn')
        if not arn:
            raise exception.missing_parameter('RoleArn')
        session = params.get('RoleSessionName')
        if not session:
            raise exception.missing_parameter('RoleSessionName')
        if not _SESSION_NAME_RE.match(session):
            raise rules.ASSUME_ROLE_SESSION_NAME.error()
        try:
            duration = int(params.get('DurationSeconds') or DEFAULT_DURATION)
        except ValueError:
            raise rules.ASSUME_ROLE_DURATION.error()
        if not MIN_DURATION <= duration <= MAX_DURATION:
            raise rules.ASSUME_ROLE_DURATION.error()
        policy = params.get('Policy')
        if policy:
            try:
                json.loads(policy)
            except ValueError:
                raise rules.ASSUME_ROLE_POLICY.error()
        match = _ROLE_ARN_RE.match(arn)
        if match is None or self.tokens.revoked(match.group('name')):
            raise rules.ASSUME_ROLE_PERMISSION.error()
        issued = self.tokens.issue(match.group('name'), 'AssumeRole',
                                   duration)
        return {
            'Credentials': issued.credentials(),
            'AssumedRoleUser': {
                'Arn': '%s/%s' % (arn, session),
                'AssumedRoleId': '%s:%s' % (_random(17, string.digits),
                                            session),
            },
        }
