#!/usr/bin/env python3
"""Per-request overhead of the multi-attach API guard filter.

Calls a trivial WSGI application directly and through the guard, in
process, many times, for requests the guard does not act on, and prints
the difference per request. Figures only; nothing is asserted.

    python tools/bench_api_guard.py [iterations]
"""

import sys
import timeit

import webob

from cinder_ebs_driver import api_guard

PROJECT = '6f70656e737461636b20342065766572'

CASES = [
    ('GET volume list (not inspected)', 'GET',
     '/%s/volumes/detail' % PROJECT, None, None),
    ('POST snapshot (not inspected)', 'POST',
     '/%s/snapshots' % PROJECT, None, b'{"snapshot": {"volume_id": "x"}}'),
    ('PUT volume update (not inspected)', 'PUT',
     '/%s/volumes/c3a2f0e4' % PROJECT, None, b'{"volume": {"name": "x"}}'),
    ('POST volume at 3.50 (shape matched, version passes)', 'POST',
     '/%s/volumes' % PROJECT, 'volume 3.50', b'{"volume": {"size": 1}}'),
]


def _app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [b'{}']


def _start_response(status, headers, exc_info=None):
    return None


def _environ(method, path, version, body):
    headers = {}
    if version:
        headers['OpenStack-API-Version'] = version
    request = webob.Request.blank(path, method=method, headers=headers,
                                  body=body or b'')
    return request.environ


def _per_call(application, environ, iterations):
    def call():
        # A fresh shallow copy, as a server gives every request its own.
        application(dict(environ), _start_response)
    call()
    best = min(timeit.repeat(call, number=iterations, repeat=5))
    return best / iterations


def main(argv):
    iterations = int(argv[1]) if len(argv) > 1 else 200000
    guarded = api_guard.filter_factory({})(_app)
    print('iterations per measurement: %d (best of 5)' % iterations)
    print('%-52s %10s %10s %10s' % (
        'request', 'bare us', 'guard us', 'overhead'))
    for title, method, path, version, body in CASES:
        environ = _environ(method, path, version, body)
        bare = _per_call(_app, environ, iterations)
        wrapped = _per_call(guarded, environ, iterations)
        print('%-52s %10.3f %10.3f %9.3fus' % (
            title, bare * 1e6, wrapped * 1e6, (wrapped - bare) * 1e6))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
