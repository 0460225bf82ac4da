"""A record of the volume API calls the all-in-one Cinder receives.

:class:`CallLog` is a paste filter for the volume API pipelines: for every
request it appends one JSON line to a file (method, path, microversion,
volume or attachment action, whether the body carries a host connector,
whether the request carries a service token, and the response status).
No header values, tokens or connector contents are written.

:func:`read` turns the file back into :class:`Call` tuples whose paths have
their ids replaced by placeholders, so that the calls two clients make for
the same scenario compare equal.
"""

import collections
import json
import re
import threading

import webob.dec

FILTER_NAME = 'ebs_call_log'
#: Cinder's default when a request names no microversion.
BASE_VERSION = '3.0'
VERSION_HEADERS = ('OpenStack-API-Version', 'X-OpenStack-Volume-API-Version')

_UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   r'[0-9a-f]{12}', re.IGNORECASE)
_PROJECT = re.compile(r'^/[0-9a-f]{32}(?=/|$)', re.IGNORECASE)

#: One request, as :func:`read` gives it.
Call = collections.namedtuple('Call', [
    'method', 'path', 'action', 'microversion', 'connector',
    'service_token', 'status'])


def microversion(headers):
    """The volume API microversion a request asks for."""
    for name in VERSION_HEADERS:
        value = headers.get(name)
        if value:
            return value.split()[-1]
    return BASE_VERSION


def path_template(path):
    """``path`` with the project and every UUID replaced by placeholders."""
    return _UUID.sub('{id}', _PROJECT.sub('/{project_id}', path))


def _summary(body):
    """(action, has a connector) of a JSON request body."""
    if not isinstance(body, dict) or len(body) != 1:
        return None, False
    (key, value), = body.items()
    action = key if key.startswith('os-') else None
    connector = isinstance(value, dict) and bool(value.get('connector'))
    return action, connector


class CallLog(object):
    """Append a line per request to ``path``."""

    def __init__(self, application, path):
        self.application = application
        self.path = path
        self._lock = threading.Lock()

    @webob.dec.wsgify
    def __call__(self, req):
        action, connector = None, False
        if req.method in ('POST', 'PUT') and req.content_length:
            try:
                action, connector = _summary(json.loads(req.body))
            except ValueError:
                pass
        response = req.get_response(self.application)
        entry = {'method': req.method, 'path': req.path_info,
                 'action': action,
                 'microversion': microversion(req.headers),
                 'connector': connector,
                 'service_token': bool(req.headers.get('X-Service-Token')),
                 'status': response.status_int}
        with self._lock, open(self.path, 'a') as f:
            f.write(json.dumps(entry, sort_keys=True) + '\n')
        return response

    @classmethod
    def factory(cls, global_config, **local_config):
        def _filter(app):
            return cls(app, local_config['path'])
        return _filter


def paste_section(path):
    """The ``[filter:...]`` section of a :class:`CallLog` writing ``path``."""
    return {'paste.filter_factory':
            'ebs_allinone.cinder.filters.call_log:CallLog.factory',
            'path': path}


def size(path):
    """Where the next call will be written (a mark for :func:`read`)."""
    try:
        with open(path, 'rb') as f:
            return f.seek(0, 2)
    except FileNotFoundError:
        return 0


def read(path, start=0, end=None):
    """The calls written between the offsets ``start`` and ``end``."""
    try:
        with open(path, 'rb') as f:
            f.seek(start)
            data = f.read() if end is None else f.read(end - start)
    except FileNotFoundError:
        return []
    calls = []
    for line in data.decode().splitlines():
        entry = json.loads(line)
        calls.append(Call(entry['method'], path_template(entry['path']),
                          entry['action'], entry['microversion'],
                          entry['connector'], entry['service_token'],
                          entry['status']))
    return calls


def format_calls(calls):
    """One line per call, for messages and reports."""
    lines = []
    for call in calls:
        lines.append('%s %s%s at %s%s%s -> %s' % (
            call.method, call.path,
            ' %s' % call.action if call.action else '',
            call.microversion,
            ', connector' if call.connector else '',
            ', service token' if call.service_token else '',
            call.status))
    return '\n'.join(lines)
