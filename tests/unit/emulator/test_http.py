"""The emulator's HTTP front, through the official SDK and raw HTTP."""

import concurrent.futures
import http.client
import json
import urllib.parse
import uuid

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import exceptions as sdk_exceptions
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi import utils_models as openapi_util_models
from darabonba import runtime as dara_runtime
import testtools

from ebs_emulator import config
from ebs_emulator import exception
from ebs_emulator import server
from ebs_emulator import signature
from tests import emulator_fixture


def assert_request_id(test, request_id):
    test.assertEqual(str(uuid.UUID(request_id)).upper(), request_id)


class HttpTest(emulator_fixture.EmulatorPerClassTestCase):

    def setUp(self):
        super().setUp()
        self.client = self.emu.sdk_client()

    def _call(self, action, query=None, body=None, method='POST',
              version=server.API_VERSION):
        """Call any action through the SDK's generic call_api."""
        params = openapi_util_models.Params(
            action=action, version=version, protocol='HTTP', pathname='/',
            method=method, auth_type='AK', style='RPC',
            req_body_type='formData', body_type='json')
        request = openapi_models.OpenApiRequest(query=query, body=body)
        return self.client.call_api(params, request,
                                    dara_runtime.RuntimeOptions())

    def test_describe_instances_round_trip(self):
        response = self.client.describe_instances(
            ecs_models.DescribeInstancesRequest(
                region_id=self.emu.region_id, page_size=100))
        self.assertEqual(200, response.status_code)
        body = response.body
        self.assertEqual(20, body.total_count)
        by_id = {i.instance_id: i for i in body.instances.instance}
        self.assertEqual(['i-emu%04d' % n for n in range(20)],
                         sorted(by_id))
        for n in range(20):
            instance = by_id['i-emu%04d' % n]
            self.assertEqual('host-%d' % n, instance.host_name)
            self.assertEqual(config.instance_serial('i-emu%04d' % n),
                             instance.serial_number)
            self.assertEqual(self.emu.zone_id, instance.zone_id)
        self.assertEqual(response.headers['x-acs-request-id'],
                         body.request_id)
        assert_request_id(self, body.request_id)

    def test_fixture_instances_match_service(self):
        self.assertEqual(
            [(i['InstanceId'], i['HostName'], i['SerialNumber'])
             for i in self.emu.instances],
            [('i-emu%04d' % n, 'host-%d' % n,
              str(uuid.uuid5(config.SERIAL_NAMESPACE, 'i-emu%04d' % n)))
             for n in range(20)])

    def test_get_request(self):
        answer = self._call('DescribeInstances',
                            query={'RegionId': self.emu.region_id},
                            method='GET')
        self.assertEqual(20, answer['body']['TotalCount'])

    def test_form_body_parameters(self):
        answer = self._call(
            'DescribeInstances', query={'RegionId': self.emu.region_id},
            body={'InstanceIds': json.dumps(['i-emu0003'])})
        self.assertEqual(
            ['i-emu0003'],
            [i['InstanceId']
             for i in answer['body']['Instances']['Instance']])

    def test_unknown_action(self):
        e = self.assertRaises(sdk_exceptions.ClientException, self._call,
                              'NoSuchAction',
                              query={'RegionId': self.emu.region_id})
        self.assertEqual(exception.invalid_action.code, e.code)
        self.assertEqual(exception.invalid_action.http_status, e.status_code)
        assert_request_id(self, e.request_id)

    def test_unknown_version(self):
        e = self.assertRaises(sdk_exceptions.ClientException, self._call,
                              'DescribeInstances', version='2016-03-14',
                              query={'RegionId': self.emu.region_id})
        self.assertEqual(('NoSuchVersion', 400), (e.code, e.status_code))
        assert_request_id(self, e.request_id)

    def test_service_error_carries_request_id(self):
        e = self.assertRaises(
            sdk_exceptions.ClientException, self.client.describe_disks,
            ecs_models.DescribeDisksRequest(region_id=self.emu.region_id,
                                            disk_ids='not json'))
        self.assertEqual(400, e.status_code)
        self.assertTrue(e.code)
        assert_request_id(self, e.request_id)
        self.assertEqual(e.request_id, e.data['RequestId'])
        for key in ('HostId', 'Code', 'Message', 'Recommend'):
            self.assertIn(key, e.data)

    def _raw(self, method, target, body=None, headers=None):
        conn = http.client.HTTPConnection('127.0.0.1', self.emu.port,
                                          timeout=30)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def _assert_error(self, answer, status, code):
        got_status, headers, data = answer
        body = json.loads(data.decode('utf-8'))
        self.assertEqual((status, code), (got_status, body['Code']), body)
        self.assertEqual(headers['x-acs-request-id'], body['RequestId'])
        assert_request_id(self, body['RequestId'])
        self.assertNotIn('Traceback', data.decode('utf-8'))

    def test_bad_input_never_500(self):
        self._assert_error(self._raw('POST', '/'), 400,
                           'IncompleteSignature')
        self._assert_error(self._raw('GET', '/some/where'), 404,
                           'InvalidApi.NotFound')
        self._assert_error(self._raw('PUT', '/', body=b'x'), 400,
                           'UnsupportedHTTPMethod')
        self._assert_error(self._raw('POST', '/?a=1&a=2'), 400,
                           'InvalidParameter')
        self._assert_error(self._raw('POST', '/?a=%ff'), 400,
                           'InvalidParameter')
        self._assert_error(
            self._raw('POST', '/', headers={
                'Authorization': 'ACS3-HMAC-SHA256 garbage'}),
            400, 'IncompleteSignature')
        self._assert_error(
            self._raw('POST', '/', body=b'x' * (server.MAX_BODY_SIZE + 1)),
            413, 'InvalidParameter')
        status, _, _ = self._raw('POST', '/', headers={
            'Content-Length': 'many'})
        self.assertEqual(400, status)
        self._assert_error(self._raw('POST', '/?%s' % ('a' * 5000)), 400,
                           'IncompleteSignature')
        # Still serving.
        self.assertEqual(
            20, self._call('DescribeInstances',
                           query={'RegionId': self.emu.region_id})
            ['body']['TotalCount'])

    def test_bad_parameter_values_are_client_errors(self):
        for params in ({'RegionId': self.emu.region_id, 'PageSize': 'x'},
                       {'RegionId': self.emu.region_id,
                        'InstanceIds': '[not json'},
                       {'RegionId': '\x00\u2603'}):
            status, _, body = self.emu.raw_request('DescribeInstances',
                                                   params)
            self.assertTrue(400 <= status < 500, (params, status, body))
            self.assertIn('Code', body)

    def test_form_body_must_be_utf8(self):
        status, _, body = self.emu.raw_request(
            'DescribeInstances', {'RegionId': self.emu.region_id},
            body=b'InstanceIds=%ff', content_type=server.FORM_TYPE)
        self.assertEqual((400, 'InvalidParameter'), (status, body['Code']))

    def test_keep_alive(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.emu.port,
                                          timeout=30)
        self.addCleanup(conn.close)
        ids = set()
        for _ in range(5):
            status, headers, body = self.emu.raw_request(
                'DescribeInstances', {'RegionId': self.emu.region_id},
                connection=conn)
            self.assertEqual(200, status)
            ids.add(body['RequestId'])
        # One error in between does not break the connection either.
        status, _, _ = self.emu.raw_request(
            'DescribeInstances', {'RegionId': self.emu.region_id},
            secret='wrong', connection=conn)
        self.assertEqual(400, status)
        status, _, _ = self.emu.raw_request(
            'DescribeInstances', {'RegionId': self.emu.region_id},
            connection=conn)
        self.assertEqual(200, status)
        self.assertEqual(5, len(ids))

    def test_parallel_requests(self):
        def describe(_):
            client = self.emu.sdk_client()
            return client.describe_instances(
                ecs_models.DescribeInstancesRequest(
                    region_id=self.emu.region_id)).body.request_id

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(describe, range(32)))
        self.assertEqual(32, len(set(ids)))

    def test_admin_endpoints(self):
        self.assertEqual('ok', self.emu.admin('GET', 'health')['status'])
        state = self.emu.get_state()
        self.assertIn('stats', state)
        self.assertIn('faults', state)
        e = self.assertRaises(emulator_fixture.EmulatorError,
                              self.emu.admin, 'POST', 'faults',
                              {'rules': [{'kind': 'bogus'}]})
        self.assertIn('400', str(e))
        self.assertRaises(emulator_fixture.EmulatorError, self.emu.admin,
                          'GET', 'nothing-here')
        status, _, _ = self._raw('POST', '/_emulator/faults', body=b'{')
        self.assertEqual(400, status)

    def test_secret_not_logged(self):
        self.emu.raw_request('DescribeInstances',
                             {'RegionId': self.emu.region_id})
        self.emu.raw_request('DescribeInstances',
                             {'RegionId': self.emu.region_id},
                             secret='wrong-secret')
        with open(self.emu.log_file) as f:
            log = f.read()
        self.assertNotIn(self.emu.access_key_secret, log)
        self.assertNotIn('wrong-secret', log)
        self.assertNotIn('Signature=', log)


class _ExplodingService(object):
    def call(self, action, params):
        if action == 'Explode':
            raise RuntimeError('kaboom')
        if action == 'NotADict':
            return ['x']
        return {'Action': action, 'Params': params}

    def close(self):
        pass


class InternalErrorTest(testtools.TestCase):
    """Unexpected failures of an action: InternalError 500, no traceback.

    Drives the request processing directly (no sockets, so that it is
    safe in a test process that eventlet has monkey-patched) with a
    service that fails on purpose.
    """

    def setUp(self):
        super().setUp()
        self.app = server.EmulatorApp(_ExplodingService(),
                                      signature.Verifier({'AK': 'SK'}))

    def _handle(self, action, query=None):
        query = query or {'A': '1'}
        plain = {'host': 'emulator:8080', 'x-acs-action': action,
                 'x-acs-version': server.API_VERSION,
                 'x-acs-date': signature.format_date(),
                 'x-acs-signature-nonce': uuid.uuid4().hex,
                 'x-acs-content-sha256': signature.sha256_hex(b'')}
        headers = {k: [v] for k, v in plain.items()}
        headers['authorization'] = [signature.sign(
            'POST', '/', query, plain, b'', 'AK', 'SK')]
        target = '/?' + urllib.parse.urlencode(query)
        return self.app.handle('POST', target, headers, b'', '127.0.0.1')

    def test_exception_becomes_internal_error(self):
        for action in ('Explode', 'NotADict'):
            reply = self._handle(action)
            self.assertEqual((500, 'InternalError'),
                             (reply.status, reply.body['Code']))
            assert_request_id(self, reply.body['RequestId'])
            self.assertEqual(reply.request_id, reply.body['RequestId'])
            self.assertNotIn(b'kaboom', reply.encode())
            self.assertNotIn(b'Traceback', reply.encode())

    def test_success_passes_params(self):
        reply = self._handle('Echo', {'A': '1', 'Tag.1.Key': 'x y'})
        self.assertEqual(200, reply.status)
        self.assertEqual({'A': '1', 'Tag.1.Key': 'x y'},
                         reply.body['Params'])
        assert_request_id(self, reply.body['RequestId'])

    def test_admin_refuses_remote_clients(self):
        reply = self.app.handle('GET', '/_emulator/health', {}, b'',
                                '192.0.2.10')
        self.assertEqual(403, reply.status)
        reply = self.app.handle('GET', '/_emulator/health', {}, b'', '::1')
        self.assertEqual(200, reply.status)
        reply = self.app.handle('GET', '/_emulator/health', {}, b'',
                                '::ffff:127.0.0.1')
        self.assertEqual(200, reply.status)
