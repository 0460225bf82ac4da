"""The volume API call record, driven with webob requests."""

import json
import os

import fixtures
from oslotest import base
import webob
import webob.dec

from ebs_allinone.cinder.filters import call_log

PROJECT = 'd313db2360d45ff6acbf48cf42ee9fe3'
VOL = '4c4d6c36-6e38-4a4b-9d3c-1f4f1f9f0a01'
ATT = '11111111-1111-4111-8111-111111111111'


@webob.dec.wsgify
def _cinder(req):
    status = 204 if req.path_info.endswith('/action') else 200
    return webob.Response(status=status)


class CallLogTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'calls.jsonl')
        self.app = call_log.CallLog.factory({}, path=self.path)(_cinder)

    def _call(self, method, path, body=None, **headers):
        req = webob.Request.blank(path, method=method, headers=headers)
        if body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = 'application/json'
        return req.get_response(self.app)

    def test_calls_are_recorded_without_ids_or_secrets(self):
        self.assertEqual(0, call_log.size(self.path))
        self._call('GET', '/%s/volumes/%s' % (PROJECT, VOL))
        mark = call_log.size(self.path)
        self._call('PUT', '/%s/attachments/%s' % (PROJECT, ATT),
                   {'attachment': {'connector': {'host': 'h1'}}},
                   **{'OpenStack-API-Version': 'volume 3.44',
                      'X-Service-Token': 'secret-token'})
        self._call('POST', '/%s/attachments' % PROJECT,
                   {'attachment': {'volume_uuid': VOL, 'connector': None}},
                   **{'OpenStack-API-Version': 'volume 3.50'})
        self._call('POST', '/%s/volumes/%s/action' % (PROJECT, VOL),
                   {'os-begin_detaching': {}})
        calls = call_log.read(self.path)
        self.assertEqual([
            call_log.Call('GET', '/{project_id}/volumes/{id}', None, '3.0',
                          False, False, 200),
            call_log.Call('PUT', '/{project_id}/attachments/{id}', None,
                          '3.44', True, True, 200),
            call_log.Call('POST', '/{project_id}/attachments', None,
                          '3.50', False, False, 200),
            call_log.Call('POST', '/{project_id}/volumes/{id}/action',
                          'os-begin_detaching', '3.0', False, False, 204),
        ], calls)
        self.assertEqual(calls[1:], call_log.read(self.path, start=mark))
        with open(self.path) as f:
            text = f.read()
        self.assertNotIn('secret-token', text)
        self.assertNotIn('h1', text)
        self.assertIn('os-begin_detaching at 3.0 -> 204',
                      call_log.format_calls(calls))

    def test_body_that_is_not_json(self):
        req = webob.Request.blank('/%s/volumes' % PROJECT, method='POST')
        req.body = b'not json'
        self.assertEqual(200, req.get_response(self.app).status_int)
        self.assertEqual([('POST', None, False)],
                         [(c.method, c.action, c.connector)
                          for c in call_log.read(self.path)])

    def test_legacy_header_and_missing_file(self):
        self.assertEqual('3.27', call_log.microversion(
            {'X-OpenStack-Volume-API-Version': '3.27'}))
        self.assertEqual([], call_log.read(self.path + '.none'))
