"""The backend client with short-lived credentials, against the emulator.

The credentials come from the official library, which gets them from the
emulator's STS AssumeRole and metadata endpoints over loopback HTTP.
"""

import logging
import time

import fixtures
import testtools

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception
from ebs_emulator import metadata
from tests import emulator_fixture

ROLE_ARN = 'acs:ram::1234567890123456:role/cinder-unit'


class _Base(testtools.TestCase):

    lifetime = 0

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(levelname)s %(message)s'))
        args = ['--sts-token-lifetime', str(self.lifetime)]
        self.emu = self.useFixture(emulator_fixture.EmulatorFixture(
            num_instances=2, transition_delay=0.0, extra_args=args))

    def client(self, **options):
        values = dict(ebs_credential_type='ram_role_arn',
                      ebs_role_arn=ROLE_ARN,
                      ebs_sts_endpoint='http://127.0.0.1:%d' % self.emu.port,
                      ebs_api_retries=2, ebs_api_retry_interval=0.01,
                      ebs_api_timeout=10)
        values.update(options)
        return ebs_client.EBSClient(self.emu.driver_conf(**values),
                                    sleep=lambda s: None)

    def credentials(self):
        return self.emu.admin('GET', 'credentials')

    def refusals(self, code):
        stats = self.emu.get_state()['stats']
        return stats.get('error:%s' % code, 0)

    def assertNothingLeaked(self, client):
        leaked = client._credentials.secrets()
        self.assertTrue(leaked)
        for value in leaked + (self.emu.access_key_secret,):
            self.assertNotIn(value, self.logger.output)


class ShortTokensTestCase(_Base):

    lifetime = 3

    def test_calls_across_many_expiries(self):
        client = self.client()
        calls = 0
        # Three lifetimes of calls: each token expires during the run.
        end = time.monotonic() + 3 * self.lifetime + 1
        while time.monotonic() < end:
            self.assertEqual(2, len(client.list_instances()))
            calls += 1
            time.sleep(0.2)
        issued = self.credentials()['issued']['AssumeRole']
        # The library fetches new credentials before they expire (here,
        # as they live under its 15-minute margin: for every call).
        self.assertGreaterEqual(issued, 3)
        self.assertEqual(0, self.refusals('InvalidSecurityToken.Expired'))
        self.assertEqual({}, self.credentials()['refused'])
        self.assertNothingLeaked(client)


class RenewalTestCase(_Base):

    def test_expired_token_renewed_once(self):
        client = self.client()
        client.list_instances()
        self.assertEqual(1, self.credentials()['issued']['AssumeRole'])
        self.emu.admin('POST', 'credentials/expire')
        self.assertEqual(2, len(client.list_instances()))
        self.assertEqual(1, self.refusals('InvalidSecurityToken.Expired'))
        self.assertEqual(2, self.credentials()['issued']['AssumeRole'])
        self.assertEqual(1, client._credentials.renewals)
        self.assertIn('refused the security token of the ram_role_arn '
                      'credentials (InvalidSecurityToken.Expired',
                      self.logger.output)
        self.assertNothingLeaked(client)

    def test_revoked_role_one_clear_error(self):
        client = self.client()
        client.list_instances()
        self.emu.admin('POST', 'roles/cinder-unit/revoke')
        error = self.assertRaises(exception.EBSCredentialsError,
                                  client.list_instances)
        self.assertEqual('ram_role_arn', error.credential_type)
        self.assertIn('the ram_role_arn credentials', str(error))
        self.assertIn('NoPermission', str(error))
        # Refused once, renewed once (AssumeRole refused): no retries.
        self.assertEqual(1, self.refusals('InvalidSecurityToken.Expired'))
        self.assertEqual(1, self.refusals('NoPermission'))
        self.assertNothingLeaked(client)

    def test_expired_explicit_token_one_clear_error(self):
        creds = self.client()._credentials.get_credentials()
        client = self.client(
            ebs_credential_type='sts',
            ebs_access_key_id=creds.get_access_key_id(),
            ebs_access_key_secret=creds.get_access_key_secret(),
            ebs_security_token=creds.get_security_token())
        self.assertEqual(2, len(client.list_instances()))
        self.emu.admin('POST', 'credentials/expire')
        error = self.assertRaises(exception.EBSCredentialsError,
                                  client.list_instances)
        self.assertEqual('sts', error.credential_type)
        self.assertEqual('InvalidSecurityToken.Expired', error.code)
        self.assertIn('the sts credentials', str(error))
        self.assertEqual(2, self.refusals('InvalidSecurityToken.Expired'))
        self.assertNotIn(creds.get_security_token(), self.logger.output)
        self.assertNotIn(creds.get_access_key_secret(), self.logger.output)

    def test_credentials_uri(self):
        uri = 'http://127.0.0.1:%d%sEcsRamRoleEbs' % (
            self.emu.port, metadata.CREDENTIALS_PATH)
        client = self.client(ebs_credential_type='credentials_uri',
                             ebs_credentials_uri=uri,
                             ebs_access_key_id=None,
                             ebs_access_key_secret=None)
        self.assertEqual(2, len(client.list_instances()))
        self.assertEqual(1, self.credentials()['issued']['metadata'])
        self.assertNothingLeaked(client)
