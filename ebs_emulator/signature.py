"""ACS3-HMAC-SHA256 request signatures (Alibaba Cloud API gateway V3).

A signed request carries::

    Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,
        SignedHeaders=<h1;h2;...>,Signature=<hex>

The signature is ``HMAC-SHA256(secret, string_to_sign)`` in hex, where
``string_to_sign`` is ``"ACS3-HMAC-SHA256\\n" + hex(sha256(canonical
request))`` and the canonical request is::

    METHOD \\n path \\n canonical query \\n canonical headers \\n
    signed header names \\n hex(sha256(body))

* canonical query: every query parameter, sorted by name, ``name=value``
  with both sides percent-encoded (RFC 3986, only ``-_.~`` left as is),
  joined with ``&``;
* canonical headers: each signed header as ``name:value\\n`` with the name
  lower-cased and the value stripped, sorted by name; repeated headers
  have their values sorted and joined with ``,``.

The verifier rebuilds that from what arrived on the wire and answers with
the error codes of the Alibaba Cloud API gateway.
"""

import datetime
import hashlib
import hmac
import re
import threading
import time
import urllib.parse

from ebs_emulator import exception

ALGORITHM = 'ACS3-HMAC-SHA256'
DATE_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
# The gateway accepts a request whose x-acs-date is within 15 minutes of
# its own clock.
MAX_CLOCK_SKEW = 15 * 60

# Headers a valid request has to sign.
REQUIRED_SIGNED_HEADERS = (
    'host',
    'x-acs-action',
    'x-acs-content-sha256',
    'x-acs-date',
    'x-acs-signature-nonce',
    'x-acs-version',
)

_AUTH_RE = re.compile(
    r'^\s*(?P<algorithm>\S+)\s+'
    r'Credential=(?P<credential>[^,\s]*)\s*,\s*'
    r'SignedHeaders=(?P<signed>[^,\s]*)\s*,\s*'
    r'Signature=(?P<signature>[0-9a-fA-F]*)\s*$')


# Error factories (Alibaba Cloud API gateway common client errors).
def incomplete_signature(detail):
    return exception.EcsError(
        'IncompleteSignature',
        'The request signature does not conform to Aliyun standards. %s'
        % detail, 400)


def invalid_signature_method(method):
    return exception.EcsError(
        'InvalidSignatureMethod',
        'Specified signature method is not valid: %s (only %s is '
        'supported).' % (method, ALGORITHM), 400)


def access_key_not_found():
    return exception.EcsError(
        'InvalidAccessKeyId.NotFound',
        'Specified access key is not found.', 404)


def timestamp_missing():
    return exception.EcsError(
        'IllegalTimestamp',
        'The input parameter "x-acs-date" that is mandatory for processing '
        'this request is not supplied.', 400)


def timestamp_format():
    return exception.EcsError(
        'InvalidTimeStamp.Format',
        'Specified time stamp or date value is not well formatted.', 400)


def timestamp_expired():
    return exception.EcsError(
        'InvalidTimeStamp.Expired',
        'Specified time stamp or date value is expired.', 400)


def nonce_used():
    return exception.EcsError(
        'SignatureNonceUsed',
        'Specified signature nonce was used already.', 400)


def signature_mismatch(string_to_sign):
    return exception.EcsError(
        'SignatureDoesNotMatch',
        'Specified signature is not matched with our calculation. '
        'server string to sign is:%s' % string_to_sign, 400)


def _encode(value):
    return urllib.parse.quote(value, safe='~', encoding='utf-8')


def sha256_hex(data):
    """Hex SHA-256 of bytes (the payload hash of the canonical request)."""
    return hashlib.sha256(data).hexdigest()


def canonical_query(params):
    """Canonical query string of a ``{name: value}`` mapping."""
    items = sorted((_encode(k), _encode(v)) for k, v in params.items()
                   if v is not None)
    return '&'.join('%s=%s' % item for item in items)


def canonical_headers(headers, signed_headers):
    """Canonical header block for the names listed in ``signed_headers``.

    ``headers`` maps lower-case header names to lists of values.
    """
    lines = []
    for name in signed_headers:
        values = sorted(v.strip() for v in headers.get(name, ()))
        lines.append('%s:%s\n' % (name, ','.join(values)))
    return ''.join(lines)


def canonical_request(method, path, query, headers, signed_headers,
                      payload_hash):
    """The canonical request as the signer computed it."""
    return '\n'.join([
        method.upper(),
        path or '/',
        canonical_query(query),
        canonical_headers(headers, signed_headers),
        ';'.join(signed_headers),
        payload_hash,
    ])


def string_to_sign(canonical):
    return '%s\n%s' % (ALGORITHM, sha256_hex(canonical.encode('utf-8')))


def compute_signature(secret, to_sign):
    return hmac.new(secret.encode('utf-8'), to_sign.encode('utf-8'),
                    hashlib.sha256).hexdigest()


def format_date(when=None):
    """x-acs-date value for a UNIX time (now by default)."""
    when = time.time() if when is None else when
    return datetime.datetime.fromtimestamp(
        when, tz=datetime.timezone.utc).strftime(DATE_FORMAT)


def parse_date(value):
    """UNIX time of an x-acs-date value; ValueError when malformed."""
    parsed = datetime.datetime.strptime(value.strip(), DATE_FORMAT)
    return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()


def sign(method, path, query, headers, body, access_key_id, secret):
    """Return the Authorization header value for a request.

    ``headers`` is a ``{name: value}`` mapping that already holds every
    header to sign (host, x-acs-* including x-acs-content-sha256, ...).
    Used to craft requests by hand (tests, debugging).
    """
    lowered = {}
    for name, value in headers.items():
        lowered.setdefault(name.lower(), []).append(str(value))
    signed = sorted(lowered)
    canonical = canonical_request(method, path, query, lowered, signed,
                                  sha256_hex(body or b''))
    signature = compute_signature(secret, string_to_sign(canonical))
    return '%s Credential=%s,SignedHeaders=%s,Signature=%s' % (
        ALGORITHM, access_key_id, ';'.join(signed), signature)


def parse_authorization(value):
    """Split an Authorization header into its parts.

    Returns ``(access_key_id, signed_header_names, signature)``.
    """
    if not value or not value.strip():
        raise incomplete_signature('The Authorization header is missing.')
    algorithm = value.strip().split(None, 1)[0]
    if algorithm != ALGORITHM:
        raise invalid_signature_method(algorithm)
    match = _AUTH_RE.match(value)
    if not match:
        raise incomplete_signature(
            'The Authorization header is malformed.')
    access_key_id = match.group('credential')
    signed = [h for h in match.group('signed').split(';') if h]
    signature = match.group('signature').lower()
    if not access_key_id or not signed or not signature:
        raise incomplete_signature(
            'Credential, SignedHeaders and Signature are all required.')
    if signed != sorted(set(h.lower() for h in signed)):
        raise incomplete_signature(
            'SignedHeaders must be lower-case, sorted and unique.')
    return access_key_id, signed, signature


class NonceCache(object):
    """Signature nonces seen within the accepted clock window."""

    def __init__(self, window=2 * MAX_CLOCK_SKEW, clock=time.monotonic):
        self._window = window
        self._clock = clock
        self._seen = {}
        self._lock = threading.Lock()
        self._next_prune = 0

    def add(self, nonce):
        """Record a nonce; False when it was already used."""
        now = self._clock()
        with self._lock:
            if now >= self._next_prune:
                self._seen = {n: t for n, t in self._seen.items()
                              if t > now}
                self._next_prune = now + 60
            expiry = self._seen.get(nonce)
            if expiry is not None and expiry > now:
                return False
            self._seen[nonce] = now + self._window
            return True


class Verifier(object):
    """Checks ACS3-HMAC-SHA256 signatures against configured keys."""

    def __init__(self, access_keys, max_skew=MAX_CLOCK_SKEW,
                 clock=time.time, tokens=None):
        """``access_keys`` maps access key ids to secrets.

        ``tokens`` (an :class:`ebs_emulator.sts.TokenStore`) also accepts
        the STS keys it issued, with their security token.
        """
        self._keys = dict(access_keys)
        self.tokens = tokens
        self._max_skew = max_skew
        self._clock = clock
        self._nonces = NonceCache(window=2 * max_skew)

    def verify(self, method, path, query, headers, body):
        """Verify a request; return its access key id.

        ``query`` maps the decoded query parameter names to values,
        ``headers`` maps lower-case header names to lists of values and
        ``body`` is the raw request body.  Raises
        :class:`ebs_emulator.exception.EcsError` on any failure.
        """
        auth = headers.get('authorization') or ['']
        access_key_id, signed, signature = parse_authorization(auth[0])

        secret = self._keys.get(access_key_id)
        if secret is None and self.tokens is not None:
            # STS credentials: the token is checked before the signature.
            token = (headers.get('x-acs-security-token') or [''])[0]
            secret = self.tokens.secret_for(access_key_id, token.strip())
        if secret is None:
            raise access_key_not_found()

        missing = [h for h in REQUIRED_SIGNED_HEADERS if h not in signed]
        if missing:
            raise incomplete_signature(
                'These headers must be signed: %s.' % ', '.join(missing))

        date_values = headers.get('x-acs-date')
        if not date_values or not date_values[0].strip():
            raise timestamp_missing()
        try:
            sent_at = parse_date(date_values[0])
        except ValueError:
            raise timestamp_format()
        if abs(self._clock() - sent_at) > self._max_skew:
            raise timestamp_expired()

        nonce = (headers.get('x-acs-signature-nonce') or [''])[0].strip()
        if not nonce:
            raise incomplete_signature(
                'The x-acs-signature-nonce header is missing.')

        payload_hash = sha256_hex(body or b'')
        canonical = canonical_request(method, path, query, headers, signed,
                                      payload_hash)
        to_sign = string_to_sign(canonical)
        expected = compute_signature(secret, to_sign)
        declared_hash = (headers.get('x-acs-content-sha256') or [''])[0]
        if (declared_hash.strip().lower() != payload_hash
                or not hmac.compare_digest(expected, signature)):
            raise signature_mismatch(to_sign)

        if not self._nonces.add(nonce):
            raise nonce_used()
        return access_key_id
