"""The stand-in compute API, called as a WSGI application."""

import io
import json
import wsgiref.util

from oslotest import base

from ebs_allinone.identity import compute_api

SERVER = '11111111-1111-4111-8111-111111111111'


class ServersAPITest(base.BaseTestCase):

    def call(self, method, path):
        environ = {'REQUEST_METHOD': method, 'PATH_INFO': path,
                   'HTTP_HOST': '127.0.0.1:8774',
                   'wsgi.input': io.BytesIO()}
        wsgiref.util.setup_testing_defaults(environ)
        got = {}

        def start_response(status, headers):
            got['status'] = int(status.split()[0])

        body = b''.join(compute_api.application(environ, start_response))
        return got['status'], json.loads(body)

    def test_any_uuid_is_a_server(self):
        for path in ('/v2.1/servers/%s' % SERVER,
                     '/v2.1/%s/servers/%s' % ('ab' * 16, SERVER)):
            status, body = self.call('GET', path)
            self.assertEqual(200, status)
            self.assertEqual(SERVER, body['server']['id'])

    def test_version_discovery(self):
        status, body = self.call('GET', '/v2.1')
        self.assertEqual(200, status)
        self.assertEqual('v2.1', body['version']['id'])
        self.assertEqual('http://127.0.0.1:8774/v2.1/',
                         body['version']['links'][0]['href'])
        status, body = self.call('GET', '/')
        self.assertEqual(300, status)
        self.assertEqual(['v2.1'], [v['id'] for v in body['versions']])

    def test_nothing_else_is_answered(self):
        for method, path in (
                ('GET', '/v2.1/servers/%s/os-volume_attachments/%s' % (
                    SERVER, SERVER)),
                ('GET', '/v2.1/servers/not-a-uuid'),
                ('POST', '/v2.1/servers/%s' % SERVER),
                ('DELETE', '/v2.1/servers/%s' % SERVER)):
            status, _body = self.call(method, path)
            self.assertEqual(501, status, '%s %s' % (method, path))
