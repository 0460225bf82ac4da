"""The driver with short-lived STS credentials, inside real Cinder services.

The driver assumes a RAM role (``ram_role_arn``) through the emulator's
STS endpoint; the emulator makes the credentials expire after a few
seconds and refuses an expired or revoked token, so the multi-attach
workflow runs across several expiries.
"""

import logging
import time

from alibabacloud_credentials import provider as cred_provider
import fixtures
from testtools import content

from tests.functional import cinder_harness

ROLE_NAME = 'cinder-functional'
ROLE_ARN = 'acs:ram::1234567890123456:role/%s' % ROLE_NAME
TOKEN_LIFETIME = 4
HOSTS = 3


def _emulator_kwargs(lifetime):
    return {'extra_args': ['--sts-token-lifetime', str(lifetime)]}


class _StsBase(cinder_harness.EBSFunctionalTestBase):

    def setUp(self):
        self.driver_log = self.useFixture(fixtures.FakeLogger(
            name='cinder_ebs_driver', level=logging.DEBUG,
            format='%(levelname)s %(name)s %(message)s'))
        self.volume_log = self.useFixture(fixtures.FakeLogger(
            name='cinder.volume', level=logging.WARNING,
            format='%(levelname)s %(name)s %(message)s'))
        super().setUp()

    def backend_flags(self):
        flags = super().backend_flags()
        flags.update(
            ebs_credential_type='ram_role_arn',
            ebs_role_arn=ROLE_ARN,
            ebs_role_session_name='cinder-volume',
            ebs_sts_endpoint='http://127.0.0.1:%d' % self.emulator.port)
        return flags

    def credentials(self):
        return self.emulator.admin('GET', 'credentials')

    def refusals(self):
        stats = self.emulator.get_state()['stats']
        return {code[len('error:'):]: count
                for code, count in stats.items()
                if code.startswith('error:InvalidSecurityToken')
                or code in ('error:MissingSecurityToken',
                            'error:NoPermission')}


class TestRamRoleArnMultiAttach(_StsBase):

    EMULATOR_KWARGS = _emulator_kwargs(TOKEN_LIFETIME)

    def _workflow(self, vtype):
        """Create, attach to HOSTS hosts, detach, delete: the operations."""
        volume = self.create_volume(volume_type=vtype['id'])
        operations = 1
        attachments = []
        for n in range(HOSTS):
            attachments.append(
                self.create_attachment(volume['id'], self.connector(n)))
            operations += 1
        self.wait_volume(volume['id'], 'in-use')
        for attachment in attachments:
            self.delete_attachment(attachment['id'])
            operations += 1
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])
        return operations + 1

    def test_multiattach_across_token_expiries(self):
        vtype = self.create_type(multiattach=True)
        start = time.monotonic()
        operations = rounds = 0
        # At least three lifetimes: every token the run starts with
        # expires during it.
        while time.monotonic() - start < 3 * TOKEN_LIFETIME + 1:
            operations += self._workflow(vtype)
            rounds += 1
        issued = self.credentials()['issued'].get('AssumeRole', 0)
        refused = self.refusals()
        self.addDetail('sts-figures', content.text_content(
            'rounds %d, Cinder operations %d, failed 0, tokens issued %d, '
            'calls refused %s, %.1f s' % (
                rounds, operations, issued, refused,
                time.monotonic() - start)))
        self.assertGreaterEqual(rounds, 1)
        self.assertGreaterEqual(issued, 3)
        self.assertEqual({}, refused)
        # The DEBUG log of the driver holds no secret and no token.
        output = self.driver_log.output
        self.assertIn('DEBUG', output)
        for value in self._handed_out() + (self.emulator.access_key_secret,):
            self.assertNotIn(value, output)

    def _handed_out(self):
        driver = self.volume.manager.driver
        return driver.client._credentials.secrets()


class TestRefusedCredentials(_StsBase):

    # Long-lived tokens: the driver keeps its cached credentials until
    # the service refuses them.
    EMULATOR_KWARGS = _emulator_kwargs(0)

    def test_expired_token_renewed_once(self):
        self.create_volume()
        self.emulator.admin('POST', 'credentials/expire')
        volume = self.create_volume()
        self.delete_volume(volume['id'])
        self.assertEqual({'InvalidSecurityToken.Expired': 1},
                         self.refusals())
        self.assertIn('refused the security token of the ram_role_arn '
                      'credentials (InvalidSecurityToken.Expired',
                      self.driver_log.output)

    def test_revoked_role_clear_error(self):
        self.create_volume()
        self.emulator.admin('POST', 'roles/%s/revoke' % ROLE_NAME)
        try:
            volume = self.create_volume(expect_status='error')
            self.wait_for(
                lambda: 'the ram_role_arn credentials of the EBS backend '
                        'were refused or could not be obtained'
                        in self.volume_log.output,
                what='the credentials error in the volume service log')
        finally:
            self.emulator.admin('POST', 'roles/%s/restore' % ROLE_NAME)
        refused = self.refusals()
        # The cached token refused once, then AssumeRole refused: the
        # call was not repeated further.
        self.assertEqual(1, refused['InvalidSecurityToken.Expired'])
        self.assertGreaterEqual(refused['NoPermission'], 1)
        self.assertIn('NoPermission', self.volume_log.output)
        self.delete_volume(volume['id'])


class TestExplicitToken(_StsBase):
    """``sts``: a token given in the configuration, which nothing renews."""

    EMULATOR_KWARGS = _emulator_kwargs(0)

    def _assume_role(self):
        return cred_provider.RamRoleArnCredentialsProvider(
            access_key_id=self.emulator.access_key_id,
            access_key_secret=self.emulator.access_key_secret,
            role_arn=ROLE_ARN, role_session_name='operator',
            sts_endpoint='http://127.0.0.1:%d' % self.emulator.port,
        ).get_credentials()

    def backend_flags(self):
        flags = super().backend_flags()
        # A token as an operator would paste it: from an AssumeRole.
        issued = self._assume_role()
        self.token = issued.get_security_token()
        flags.update(ebs_credential_type='sts',
                     ebs_access_key_id=issued.get_access_key_id(),
                     ebs_access_key_secret=issued.get_access_key_secret(),
                     ebs_security_token=self.token)
        return flags

    def test_expired_token_clear_error(self):
        volume = self.create_volume()
        self.delete_volume(volume['id'])
        self.emulator.admin('POST', 'credentials/expire')
        failed = self.create_volume(expect_status='error')
        self.wait_for(
            lambda: 'the sts credentials of the EBS backend were refused '
                    'or could not be obtained' in self.volume_log.output,
            what='the credentials error in the volume service log')
        self.assertIn('InvalidSecurityToken.Expired', self.volume_log.output)
        # Refused, renewed (the same token: nothing renews it), refused:
        # two refusals per attempt of the operation, no more.
        refused = self.refusals()['InvalidSecurityToken.Expired']
        self.assertEqual(0, refused % 2)
        self.assertNotIn(self.token, self.driver_log.output)
        self.assertNotIn(self.token, self.volume_log.output)
        # What an operator does: a new token (here without a restart, so
        # that the failed volume can be deleted).
        fresh = self._assume_role()
        source = self.volume.manager.driver.client._credentials
        source._factory = lambda: cred_provider.StaticSTSCredentialsProvider(
            access_key_id=fresh.get_access_key_id(),
            access_key_secret=fresh.get_access_key_secret(),
            security_token=fresh.get_security_token())
        source.renew()
        self.delete_volume(failed['id'])
