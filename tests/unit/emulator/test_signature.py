"""ACS3-HMAC-SHA256 verification: the signer's rules and the wire exception."""

import time
import uuid

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import exceptions as sdk_exceptions
import testtools

from ebs_emulator import exception
from ebs_emulator import signature
from tests import emulator_fixture


class CanonicalFormTest(testtools.TestCase):
    """The canonical request pieces, checked against hand-made values."""

    def test_canonical_query_sorted_and_encoded(self):
        query = {'b': 'x y', 'a': 'c/d+e~f', 'Tag.1.Key': 'k*',
                 'DiskIds': '["d-1","d-2"]', 'Empty': ''}
        self.assertEqual(
            'DiskIds=%5B%22d-1%22%2C%22d-2%22%5D&Empty=&Tag.1.Key=k%2A&'
            'a=c%2Fd%2Be~f&b=x%20y',
            signature.canonical_query(query))

    def test_canonical_query_utf8(self):
        self.assertEqual('n=%C3%A9', signature.canonical_query({'n': '\xe9'}))

    def test_canonical_headers_repeated_values(self):
        headers = {'host': [' h:1 '], 'x-acs-a': ['b', 'a']}
        self.assertEqual('host:h:1\nx-acs-a:a,b\n',
                         signature.canonical_headers(headers,
                                                     ['host', 'x-acs-a']))

    def test_canonical_request_layout(self):
        canonical = signature.canonical_request(
            'post', '', {'A': '1'}, {'host': ['h']}, ['host'], 'abc')
        self.assertEqual('POST\n/\nA=1\nhost:h\n\nhost\nabc', canonical)

    def test_date_round_trip(self):
        now = int(time.time())
        self.assertEqual(now, signature.parse_date(
            signature.format_date(now)))
        self.assertRaises(ValueError, signature.parse_date,
                          '2024-01-01 10:00:00')


class VerifierTest(testtools.TestCase):
    """The verifier alone, with a controlled clock."""

    def setUp(self):
        super().setUp()
        self.now = 1700000000.0
        self.verifier = signature.Verifier({'AK': 'SECRET'},
                                           clock=lambda: self.now)

    def _request(self, secret='SECRET', key='AK', date=None, nonce='n1',
                 body=b'', query=None):
        query = query or {'RegionId': 'r1'}
        plain = {'host': 'h:1', 'x-acs-action': 'DescribeDisks',
                 'x-acs-version': '2014-05-26',
                 'x-acs-date': date or signature.format_date(self.now),
                 'x-acs-signature-nonce': nonce,
                 'x-acs-content-sha256': signature.sha256_hex(body)}
        auth = signature.sign('POST', '/', query, plain, body, key, secret)
        headers = {k: [v] for k, v in plain.items()}
        headers['authorization'] = [auth]
        return query, headers, body

    def _verify(self, query, headers, body):
        return self.verifier.verify('POST', '/', query, headers, body)

    def _assert_code(self, code, status, query, headers, body):
        e = self.assertRaises(exception.EcsError, self._verify, query, headers,
                              body)
        self.assertEqual((code, status), (e.code, e.http_status))
        return e

    def test_valid(self):
        self.assertEqual('AK', self._verify(*self._request()))

    def test_wrong_secret(self):
        self._assert_code('SignatureDoesNotMatch', 400,
                          *self._request(secret='other'))

    def test_unknown_key(self):
        self._assert_code('InvalidAccessKeyId.NotFound', 404,
                          *self._request(key='NOPE'))

    def test_stale_and_future_dates(self):
        for skew in (-16 * 60, 16 * 60):
            self._assert_code(
                'InvalidTimeStamp.Expired', 400,
                *self._request(date=signature.format_date(self.now + skew),
                               nonce=str(skew)))

    def test_small_skew_accepted(self):
        self._verify(*self._request(
            date=signature.format_date(self.now - 14 * 60)))

    def test_bad_date_format(self):
        self._assert_code('InvalidTimeStamp.Format', 400,
                          *self._request(date='yesterday'))

    def test_nonce_replay(self):
        request = self._request()
        self._verify(*request)
        self._assert_code('SignatureNonceUsed', 400, *request)

    def test_failed_request_does_not_burn_nonce(self):
        self.assertRaises(exception.EcsError, self._verify,
                          *self._request(secret='other', nonce='n9'))
        self._verify(*self._request(nonce='n9'))

    def test_tampered_query_and_body(self):
        query, headers, body = self._request(body=b'a=1')
        query['RegionId'] = 'r2'
        self._assert_code('SignatureDoesNotMatch', 400, query, headers, body)
        query, headers, body = self._request(body=b'a=1', nonce='n2')
        self._assert_code('SignatureDoesNotMatch', 400, query, headers,
                          b'a=2')

    def test_mismatch_message_gives_string_to_sign(self):
        e = self._assert_code('SignatureDoesNotMatch', 400,
                              *self._request(secret='x'))
        self.assertIn('ACS3-HMAC-SHA256\n', e.message)
        self.assertNotIn('SECRET', e.message)

    def test_missing_or_malformed_authorization(self):
        query, headers, body = self._request()
        del headers['authorization']
        self._assert_code('IncompleteSignature', 400, query, headers, body)
        headers['authorization'] = ['ACS3-HMAC-SHA256 Credential=AK']
        self._assert_code('IncompleteSignature', 400, query, headers, body)
        headers['authorization'] = ['HMAC-SHA1 whatever']
        self._assert_code('InvalidSignatureMethod', 400, query, headers,
                          body)

    def test_required_headers_must_be_signed(self):
        query, headers, body = self._request()
        auth = headers['authorization'][0].replace(
            'x-acs-signature-nonce;', '')
        headers['authorization'] = [auth]
        e = self._assert_code('IncompleteSignature', 400, query, headers,
                              body)
        self.assertIn('x-acs-signature-nonce', e.message)

    def test_nonce_cache_expires(self):
        clock = [0.0]
        cache = signature.NonceCache(window=10, clock=lambda: clock[0])
        self.assertTrue(cache.add('a'))
        self.assertFalse(cache.add('a'))
        clock[0] = 100.0
        self.assertTrue(cache.add('a'))


class SignatureOverHttpTest(testtools.TestCase):
    """Signature failures as the SDK and raw HTTP clients see them."""

    def setUp(self):
        super().setUp()
        self.emu = self.useFixture(emulator_fixture.EmulatorFixture(
            num_instances=2))

    def _describe(self, client):
        return client.describe_instances(
            ecs_models.DescribeInstancesRequest(region_id=self.emu.region_id))

    def _assert_sdk_error(self, code, status, client):
        e = self.assertRaises(sdk_exceptions.ClientException,
                              self._describe, client)
        self.assertEqual(code, e.code)
        self.assertEqual(status, e.status_code)
        self.assertTrue(e.request_id)
        return e

    def test_sdk_valid_credentials(self):
        self.assertEqual(2, self._describe(self.emu.sdk_client()).body
                         .total_count)

    def test_sdk_wrong_secret(self):
        self._assert_sdk_error(
            'SignatureDoesNotMatch', 400,
            self.emu.sdk_client(access_key_secret='wrong'))

    def test_sdk_unknown_access_key(self):
        self._assert_sdk_error(
            'InvalidAccessKeyId.NotFound', 404,
            self.emu.sdk_client(access_key_id='NOSUCHKEY'))

    def _assert_raw_error(self, code, status, answer):
        got_status, headers, body = answer
        self.assertEqual((status, code), (got_status, body['Code']), body)
        self.assertEqual(headers['x-acs-request-id'], body['RequestId'])
        self.assertEqual(str(uuid.UUID(body['RequestId'])).upper(),
                         body['RequestId'])
        for key in ('HostId', 'Message', 'Recommend'):
            self.assertIn(key, body)

    def test_stale_date(self):
        old = signature.format_date(time.time() - 20 * 60)
        self._assert_raw_error(
            'InvalidTimeStamp.Expired', 400,
            self.emu.raw_request('DescribeInstances',
                                 {'RegionId': self.emu.region_id}, date=old))

    def test_malformed_date(self):
        self._assert_raw_error(
            'InvalidTimeStamp.Format', 400,
            self.emu.raw_request('DescribeInstances',
                                 {'RegionId': self.emu.region_id},
                                 date='Mon, 01 Jan 2024 00:00:00 GMT'))

    def test_tampered_parameter(self):
        def tamper(query, headers):
            query['RegionId'] = 'other-region'

        self._assert_raw_error(
            'SignatureDoesNotMatch', 400,
            self.emu.raw_request('DescribeInstances',
                                 {'RegionId': self.emu.region_id},
                                 tamper=tamper))

    def test_tampered_action_header(self):
        def tamper(query, headers):
            headers['x-acs-action'] = 'DeleteDisk'

        self._assert_raw_error(
            'SignatureDoesNotMatch', 400,
            self.emu.raw_request('DescribeInstances',
                                 {'RegionId': self.emu.region_id},
                                 tamper=tamper))

    def test_tampered_body(self):
        def tamper(query, headers):
            headers['x-acs-content-sha256'] = signature.sha256_hex(b'x=1')

        self._assert_raw_error(
            'SignatureDoesNotMatch', 400,
            self.emu.raw_request(
                'DescribeInstances', {'RegionId': self.emu.region_id},
                body=b'x=2', tamper=tamper,
                content_type='application/x-www-form-urlencoded'))

    def test_missing_authorization(self):
        def tamper(query, headers):
            del headers['Authorization']

        self._assert_raw_error(
            'IncompleteSignature', 400,
            self.emu.raw_request('DescribeInstances',
                                 {'RegionId': self.emu.region_id},
                                 tamper=tamper))

    def test_nonce_replay(self):
        nonce = uuid.uuid4().hex
        date = signature.format_date()
        params = {'RegionId': self.emu.region_id}
        status, _, body = self.emu.raw_request('DescribeInstances', params,
                                               nonce=nonce, date=date)
        self.assertEqual(200, status, body)
        self._assert_raw_error(
            'SignatureNonceUsed', 400,
            self.emu.raw_request('DescribeInstances', params, nonce=nonce,
                                 date=date))

    def test_hand_signed_request_accepted(self):
        status, headers, body = self.emu.raw_request(
            'DescribeInstances', {'RegionId': self.emu.region_id,
                                  'Tag.1.Key': 'a b/c', 'Tag.1.Value': '\xe9'})
        self.assertEqual(200, status, body)
        self.assertEqual(headers['x-acs-request-id'], body['RequestId'])
