"""The instance metadata service, for the RAM role of an instance.

ECS serves it on http://100.100.100.200 inside every instance; the
emulator serves the part the credentials library reads, on its own
address (in a test, inside a network namespace that holds
100.100.100.200):

* ``PUT /latest/api/token`` with ``X-aliyun-ecs-metadata-token-ttl-seconds``
  (1 to 21600): a metadata token (security hardening mode), sent back in
  ``X-aliyun-ecs-metadata-token``;
* ``GET /latest/meta-data/ram/security-credentials/``: the name of the
  instance's RAM role;
* ``GET /latest/meta-data/ram/security-credentials/<role>``: the role's
  STS credentials as JSON.

Answers are plain text or JSON, never the ECS error body.
"""

import json
import secrets
import threading
import time

from ebs_emulator import sts

TOKEN_PATH = '/latest/api/token'
CREDENTIALS_PATH = '/latest/meta-data/ram/security-credentials/'
TTL_HEADER = 'x-aliyun-ecs-metadata-token-ttl-seconds'
TOKEN_HEADER = 'x-aliyun-ecs-metadata-token'
MAX_TTL = 21600


class MetadataService(object):
    """Metadata answers: ``handle()`` returns (status, body, content type).

    :param tokens: the :class:`ebs_emulator.sts.TokenStore` that issues
        the role's credentials.
    :param role_name: the RAM role attached to the instance, or None.
    :param token_required: serve nothing without a metadata token
        (``HttpTokens`` ``required``).
    """

    def __init__(self, tokens, role_name=None, token_required=False,
                 clock=time.time):
        self.tokens = tokens
        self.role_name = role_name or None
        self.token_required = token_required
        self._clock = clock
        self._sessions = {}
        self._lock = threading.Lock()
        self.requests = 0

    def handle(self, method, path, headers):
        with self._lock:
            self.requests += 1
        if path == TOKEN_PATH:
            if method != 'PUT':
                return 405, b'', 'text/plain'
            return self._new_token(headers)
        if method != 'GET':
            return 405, b'', 'text/plain'
        refusal = self._check_token(headers)
        if refusal:
            return refusal, b'', 'text/plain'
        if path == CREDENTIALS_PATH:
            if not self.role_name:
                return 404, b'', 'text/plain'
            return 200, self.role_name.encode('utf-8'), 'text/plain'
        if path.startswith(CREDENTIALS_PATH):
            role = path[len(CREDENTIALS_PATH):].strip('/')
            if (not self.role_name or role != self.role_name
                    or self.tokens.revoked(role)):
                return 404, b'', 'text/plain'
            return 200, self._credentials(role), 'application/json'
        return 404, b'', 'text/plain'

    def _new_token(self, headers):
        values = headers.get(TTL_HEADER) or ['']
        try:
            ttl = int(values[0].strip())
        except ValueError:
            return 400, b'', 'text/plain'
        if not 1 <= ttl <= MAX_TTL:
            return 400, b'', 'text/plain'
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._sessions = {t: end for t, end in self._sessions.items()
                              if end > now}
            self._sessions[token] = now + ttl
        return 200, token.encode('ascii'), 'text/plain'

    def _check_token(self, headers):
        values = headers.get(TOKEN_HEADER)
        if not values:
            return 403 if self.token_required else None
        with self._lock:
            end = self._sessions.get(values[0].strip())
        if end is None or end <= self._clock():
            return 401
        return None

    def _credentials(self, role):
        issued = self.tokens.issue(role, 'metadata', sts.METADATA_LIFETIME)
        body = dict(issued.credentials())
        body['LastUpdated'] = sts.format_time(issued.issued_at)
        body['Code'] = 'Success'
        return json.dumps(body).encode('utf-8')
