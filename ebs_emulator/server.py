"""HTTP front of the emulator: the ECS RPC API as the official SDK calls it.

Every API request goes through the same steps: read it, check its
signature, apply the configured faults, run the action on the service and
answer with an ECS-shaped JSON body that always carries a ``RequestId``
(also sent as the ``x-acs-request-id`` header).

``/_emulator/...`` holds a few unsigned admin endpoints for tests and
debugging (:mod:`ebs_emulator.admin`).

STS ``AssumeRole`` requests (version 2015-04-01, signed in the query
string) and the instance metadata paths (``/latest/...``, see
:mod:`ebs_emulator.metadata`) are served on the same address.

The server uses OS threads: run it in its own process (``ebs-emulator``),
never inside a process that eventlet has monkey-patched.
"""

import collections
import http.server
import json
import socket
import sys
import threading
import time
import urllib.parse
import uuid

from oslo_log import log as logging

from ebs_emulator import admin
from ebs_emulator import exception
from ebs_emulator import faults as faults_mod
from ebs_emulator import sts as sts_mod

LOG = logging.getLogger(__name__)

API_VERSION = '2014-05-26'
ADMIN_PREFIX = '/_emulator/'
MAX_BODY_SIZE = 1024 * 1024
MAX_DISCARD_SIZE = 64 * 1024 * 1024
JSON_TYPE = 'application/json;charset=utf-8'
FORM_TYPE = 'application/x-www-form-urlencoded'


def new_request_id():
    return str(uuid.uuid4()).upper()


class Reply(object):
    """The answer to one HTTP request (a JSON body, or raw bytes)."""

    def __init__(self, status, body, request_id=None, headers=None,
                 drop=False, content_type=JSON_TYPE):
        self.status = status
        self.body = body
        self.request_id = request_id
        self.headers = dict(headers or {})
        self.drop = drop
        self.content_type = content_type

    def encode(self):
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, sort_keys=True).encode('utf-8')


class EmulatorApp(object):
    """Request processing independent of the HTTP server machinery."""

    def __init__(self, service, verifier, injector=None,
                 region_id='emu-region-1', host_id=None, sts_service=None,
                 metadata=None):
        self.service = service
        self.verifier = verifier
        self.sts = sts_service
        self.metadata = metadata
        self.faults = injector or faults_mod.FaultInjector()
        self.region_id = region_id
        self.host_id = host_id or 'ecs.%s.emulator' % region_id
        self.stats = collections.Counter()
        self._inflight = 0
        self._idle = threading.Condition()

    # -- answers ---------------------------------------------------------

    def error_reply(self, error, request_id, headers=None):
        body = {
            'RequestId': request_id,
            'HostId': self.host_id,
            'Code': error.code,
            'Message': error.message,
            'Recommend': 'https://api.aliyun.com/troubleshoot?q=%s'
                         '&product=Ecs&requestId=%s' % (error.code,
                                                        request_id),
        }
        return Reply(error.http_status, body, request_id, headers)

    # -- entry point -----------------------------------------------------

    def handle(self, method, target, headers, body, client_host):
        """Answer one request.

        ``target`` is the request target (path and query), ``headers``
        maps lower-case header names to lists of values.
        """
        parts = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(parts.path) or '/'
        if path.startswith(ADMIN_PREFIX):
            status, data = admin.handle(self, method,
                                        path[len(ADMIN_PREFIX):], body,
                                        client_host)
            return Reply(status, data)
        if path.startswith('/latest/') and self.metadata is not None:
            status, data, content_type = self.metadata.handle(
                method, path, headers)
            return Reply(status, data, content_type=content_type)
        request_id = new_request_id()
        try:
            return self._api(method, path, parts.query, headers, body,
                             request_id)
        except exception.EcsError as e:
            self.stats['error:%s' % e.code] += 1
            return self.error_reply(e, request_id)
        except Exception:
            LOG.exception('Unexpected failure of request %s', request_id)
            self.stats['error:InternalError'] += 1
            return self.error_reply(exception.internal_error(), request_id)

    def wait_idle(self, timeout):
        """Wait until no action is running (for a clean shutdown)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # -- API requests ----------------------------------------------------

    def _api(self, method, path, query_string, headers, body, request_id):
        if method not in ('GET', 'POST'):
            raise exception.unsupported_method(method)
        if path != '/':
            raise exception.api_not_found()
        if body is None:
            raise exception.body_too_large(MAX_BODY_SIZE)
        query = _parse_pairs(query_string, 'query string')

        if (self.sts is not None and 'Signature' in query
                and query.get('Version') == sts_mod.STS_VERSION):
            return self._sts(method, query, request_id)

        self.verifier.verify(method, path, query, headers, body)

        params = dict(query)
        content_type = (headers.get('content-type') or [''])[0]
        if body and content_type.split(';')[0].strip().lower() == FORM_TYPE:
            try:
                text = body.decode('utf-8')
            except UnicodeDecodeError:
                raise exception.invalid_body('the form body is not UTF-8')
            params.update(_parse_pairs(text, 'form body'))

        version = _first(headers, 'x-acs-version') or params.get('Version')
        if version != API_VERSION:
            raise exception.no_such_version(version or '', API_VERSION)
        action = _first(headers, 'x-acs-action') or params.get('Action')
        if not action:
            raise exception.missing_action()

        self.stats['action:%s' % action] += 1
        plan = self.faults.plan(action)
        if plan:
            LOG.info('Request %s %s: injecting faults (delay %.3fs, '
                     'delay after the action %.3fs, error %s, dropped %s)',
                     request_id, action, plan.delay, plan.delay_after,
                     (plan.error_before or plan.error_after or
                      exception.EcsError('-', '')).code,
                     plan.drop_before or plan.drop_after)
        if plan.delay:
            time.sleep(plan.delay)
        if plan.drop_before:
            return Reply(0, None, request_id, drop=True)
        if plan.error_before:
            extra = {}
            if plan.retry_after:
                extra['x-acs-retry-after'] = str(plan.retry_after)
            self.stats['error:%s' % plan.error_before.code] += 1
            return self.error_reply(plan.error_before, request_id, extra)

        result = self._run(action, params, request_id)
        if plan.delay_after:
            time.sleep(plan.delay_after)

        if plan.drop_after:
            return Reply(0, None, request_id, drop=True)
        if plan.error_after:
            self.stats['error:%s' % plan.error_after.code] += 1
            return self.error_reply(plan.error_after, request_id)
        if not isinstance(result, dict):
            LOG.error('Action %s returned %r instead of a dict (request '
                      '%s)', action, type(result), request_id)
            raise exception.internal_error()
        answer = dict(result)
        answer['RequestId'] = request_id
        return Reply(200, answer, request_id)

    def _sts(self, method, query, request_id):
        """An STS request (RPC style, signed in the query string)."""
        self.sts.verify(method, query)
        action = query.get('Action')
        if not action:
            raise exception.missing_action()
        self.stats['action:%s' % action] += 1
        answer = dict(self.sts.call(action, query))
        answer['RequestId'] = request_id
        return Reply(200, answer, request_id)

    def _run(self, action, params, request_id):
        with self._idle:
            self._inflight += 1
        try:
            return self.service.call(action, params)
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()


def _first(headers, name):
    values = headers.get(name)
    return values[0].strip() if values else None


def _parse_pairs(text, what):
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True,
                                       strict_parsing=False,
                                       errors='strict')
    except (UnicodeDecodeError, ValueError):
        raise exception.invalid_body(
            'the %s is not valid UTF-8 url-encoding' % what)
    params = {}
    for key, value in pairs:
        if key in params:
            raise exception.invalid_body(
                'parameter %s is repeated in the %s' % (key, what))
        params[key] = value
    return params


class RequestHandler(http.server.BaseHTTPRequestHandler):
    """Thin HTTP/1.1 adapter in front of :class:`EmulatorApp`."""

    protocol_version = 'HTTP/1.1'
    server_version = 'ebs-emulator'
    sys_version = ''
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 120
    # The headers and the body of an answer are two writes: with Nagle's
    # algorithm the body waits for the client's delayed ACK of the
    # headers (40 ms on Linux), which every call would pay.
    disable_nagle_algorithm = True
    # Buffered: the headers and the body leave in one send (handled
    # requests are flushed by the base class).
    wbufsize = -1

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def _dispatch(self):
        started = time.monotonic()
        headers = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        body = self._read_body(headers)
        if body is False:
            return
        app = self.server.app
        if (self.server.metadata_only
                and not self.path.startswith('/latest/')):
            reply = Reply(404, b'', content_type='text/plain')
        else:
            reply = app.handle(self.command, self.path, headers, body,
                               self.client_address[0])
        elapsed = (time.monotonic() - started) * 1000
        action = (headers.get('x-acs-action') or ['-'])[0]
        if reply.drop:
            LOG.info('%s %s %s: response dropped (fault injection) '
                     'RequestId=%s %.1fms', self.client_address[0],
                     self.command, action, reply.request_id, elapsed)
            self.close_connection = True
            return
        payload = reply.encode()
        self.send_response(reply.status)
        self.send_header('Content-Type', reply.content_type)
        self.send_header('Content-Length', str(len(payload)))
        if reply.request_id:
            self.send_header('x-acs-request-id', reply.request_id)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(payload)
        if not self.path.startswith(ADMIN_PREFIX):
            LOG.info('%s %s %s %d RequestId=%s %.1fms',
                     self.client_address[0], self.command, action,
                     reply.status, reply.request_id, elapsed)

    def _read_body(self, headers):
        """The request body; None if too large, False if unreadable."""
        encoding = (headers.get('transfer-encoding') or [''])[0].lower()
        try:
            if 'chunked' in encoding:
                return self._read_chunked()
            length = int((headers.get('content-length') or ['0'])[0])
        except (ValueError, OSError):
            self.close_connection = True
            self.send_error(400, 'Bad request body')
            return False
        if length < 0:
            self.close_connection = True
            self.send_error(400, 'Bad Content-Length')
            return False
        if length > MAX_BODY_SIZE:
            # Refuse it; read it first (up to a point) so that the client
            # gets the answer rather than a reset connection.
            self.close_connection = True
            left = length if length <= MAX_DISCARD_SIZE else 0
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            return None
        return self.rfile.read(length) if length else b''

    def _read_chunked(self):
        chunks = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            size = int(line.split(b';', 1)[0].strip() or b'x', 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b'\r\n', b'\n', b''):
                    pass
                return b''.join(chunks)
            total += size
            if total > MAX_BODY_SIZE:
                self.close_connection = True
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def log_message(self, format, *args):
        LOG.debug('%s %s', self.client_address[0], format % args)


class EmulatorHTTPServer(http.server.ThreadingHTTPServer):
    """Threaded HTTP server holding an :class:`EmulatorApp`."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app, metadata_only=False):
        self.app = app
        # Only the instance metadata paths (the metadata address).
        self.metadata_only = metadata_only
        if ':' in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, RequestHandler)

    @property
    def port(self):
        return self.server_address[1]

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            LOG.debug('Connection with %s lost', client_address)
        else:
            LOG.exception('Connection error with %s', client_address)
