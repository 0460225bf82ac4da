"""The driver's credentials: options, the provider chosen, renewals."""

import logging

from alibabacloud_credentials import provider as cred_provider
from cinder import exception as cinder_exception
import fixtures
import testtools

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver.client import credentials
from cinder_ebs_driver import exception
from cinder_ebs_driver import opts
from tests.unit.client import fakes

TOKEN = 'CAIS-Unit-Security-Token-0123456789abcdef'


class OptionsTestCase(testtools.TestCase):

    def test_options_in_sample_config(self):
        names = {opt.name for _group, group_opts in opts.list_opts()
                 for opt in group_opts}
        for name in ('ebs_credential_type', 'ebs_security_token',
                     'ebs_role_arn', 'ebs_role_session_name',
                     'ebs_role_session_duration', 'ebs_sts_endpoint',
                     'ebs_ecs_role_name', 'ebs_metadata_token_required',
                     'ebs_credentials_uri'):
            self.assertIn(name, names)

    def test_every_option_has_help_and_secrets_are_secret(self):
        for _group, group_opts in opts.list_opts():
            for opt in group_opts:
                self.assertTrue(opt.help, opt.name)
        by_name = {opt.name: opt for _g, o in opts.list_opts() for opt in o}
        self.assertTrue(by_name['ebs_security_token'].secret)
        self.assertTrue(by_name['ebs_access_key_secret'].secret)

    def test_default_type_is_access_key(self):
        conf = fakes.make_conf(self)
        self.assertEqual('access_key', conf.ebs_credential_type)

    def test_unknown_type_refused_by_the_option(self):
        self.assertRaises(ValueError, fakes.make_conf, self,
                          ebs_credential_type='password')

    def test_duration_bounds(self):
        self.assertRaises(ValueError, fakes.make_conf, self,
                          ebs_role_session_duration=60)
        conf = fakes.make_conf(self, ebs_role_session_duration=900)
        self.assertEqual(900, conf.ebs_role_session_duration)


class ProviderChoiceTestCase(testtools.TestCase):

    def _inner(self, source):
        return source._provider

    def test_access_key(self):
        source = credentials.from_conf(fakes.make_conf(self))
        self.assertEqual('access_key', source.credential_type)
        self.assertIsInstance(self._inner(source),
                              cred_provider.StaticAKCredentialsProvider)
        got = source.get_credentials()
        self.assertEqual('AKIDUNITTEST', got.get_access_key_id())
        self.assertIsNone(got.get_security_token())

    def test_sts(self):
        source = credentials.from_conf(fakes.make_conf(
            self, ebs_credential_type='sts', ebs_security_token=TOKEN))
        self.assertIsInstance(self._inner(source),
                              cred_provider.StaticSTSCredentialsProvider)
        self.assertEqual(TOKEN, source.get_credentials().get_security_token())

    def test_ram_role_arn(self):
        source = credentials.from_conf(fakes.make_conf(
            self, ebs_credential_type='ram_role_arn',
            ebs_role_arn='acs:ram::1:role/cinder',
            ebs_role_session_name='vol-svc', ebs_role_session_duration=1800,
            ebs_sts_endpoint='http://127.0.0.1:9'))
        inner = self._inner(source)
        self.assertIsInstance(inner,
                              cred_provider.RamRoleArnCredentialsProvider)
        self.assertEqual('acs:ram::1:role/cinder', inner._role_arn)
        self.assertEqual('vol-svc', inner._role_session_name)
        self.assertEqual(1800, inner._duration_seconds)
        self.assertEqual('http://127.0.0.1:9', inner._sts_endpoint)

    def test_ram_role_arn_regional_sts_endpoint(self):
        source = credentials.from_conf(fakes.make_conf(
            self, ebs_credential_type='ram_role_arn',
            ebs_role_arn='acs:ram::1:role/cinder',
            ebs_region_id='cn-hangzhou'))
        self.assertEqual('sts.cn-hangzhou.aliyuncs.com',
                         self._inner(source)._sts_endpoint)

    def test_ecs_ram_role(self):
        source = credentials.from_conf(fakes.make_conf(
            self, ebs_credential_type='ecs_ram_role',
            ebs_access_key_id=None, ebs_access_key_secret=None,
            ebs_ecs_role_name='CinderRole',
            ebs_metadata_token_required=True))
        inner = self._inner(source)
        self.assertIsInstance(inner,
                              cred_provider.EcsRamRoleCredentialsProvider)
        self.assertEqual('CinderRole', inner._role_name)
        self.assertTrue(inner._disable_imds_v1)

    def test_credentials_uri(self):
        source = credentials.from_conf(fakes.make_conf(
            self, ebs_credential_type='credentials_uri',
            ebs_access_key_id=None, ebs_access_key_secret=None,
            ebs_credentials_uri='http://127.0.0.1:9/creds'))
        self.assertIsInstance(self._inner(source),
                              cred_provider.URLCredentialsProvider)

    def test_missing_options_named(self):
        for kind, needs, unset in (
                ('sts', 'ebs_security_token', {}),
                ('ram_role_arn', 'ebs_role_arn', {}),
                ('credentials_uri', 'ebs_credentials_uri', {}),
                ('access_key', 'ebs_access_key_id',
                 {'ebs_access_key_id': None})):
            conf = fakes.make_conf(self, ebs_credential_type=kind, **unset)
            error = self.assertRaises(
                cinder_exception.InvalidConfigurationValue,
                ebs_client.EBSClient, conf)
            self.assertIn(needs, str(error))
            self.assertIn(kind, str(error))

    def test_old_options_keep_working(self):
        client = ebs_client.EBSClient(fakes.make_conf(self))
        self.assertEqual('access_key', client.credential_type)
        got = client._sdk._credential.get_credential()
        self.assertEqual('AKIDUNITTEST', got.access_key_id)
        self.assertEqual(fakes.SECRET, got.access_key_secret)


class RenewalTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(levelname)s %(message)s'))
        self.conf = fakes.make_conf(self, ebs_credential_type='sts',
                                    ebs_security_token=TOKEN)
        self.client = ebs_client.EBSClient(self.conf, sleep=lambda s: None)
        self.sdk = fakes.FakeSDK()
        self.client._sdk = self.sdk

    def test_refused_token_renewed_once_then_succeeds(self):
        self.sdk.script('describe_instances', fakes.client_error(
            'InvalidSecurityToken.Expired',
            'Specified SecurityToken is expired.'),
            {'Instances': {'Instance': []}, 'TotalCount': 0,
             'PageSize': 100})
        self.assertEqual([], self.client.list_instances())
        self.assertEqual(2, self.sdk.count('describe_instances'))
        self.assertEqual(1, self.client._credentials.renewals)
        self.assertIn('renewing them and trying once more',
                      self.logger.output)
        self.assertIn('sts credentials', self.logger.output)

    def test_refused_twice_one_clear_error(self):
        refusal = fakes.client_error(
            'InvalidSecurityToken.Expired',
            'Specified SecurityToken is expired.', request_id='R-EXP')
        self.sdk.script('describe_instances', refusal, refusal, refusal)
        error = self.assertRaises(exception.EBSCredentialsError,
                                  self.client.list_instances)
        # Not retried further: a refusal is not a passing failure.
        self.assertEqual(2, self.sdk.count('describe_instances'))
        self.assertEqual('sts', error.credential_type)
        self.assertEqual('InvalidSecurityToken.Expired', error.code)
        self.assertEqual('R-EXP', error.request_id)
        self.assertIn('the sts credentials', str(error))
        self.assertIn('InvalidSecurityToken.Expired', str(error))

    def test_other_auth_errors_not_renewed(self):
        self.sdk.script('describe_instances', fakes.client_error(
            'Forbidden.RAM', 'User not authorized.', status=403))
        error = self.assertRaises(exception.EBSAuthError,
                                  self.client.list_instances)
        self.assertNotIsInstance(error, exception.EBSCredentialsError)
        self.assertEqual(0, self.client._credentials.renewals)

    def test_unobtainable_credentials_name_the_type(self):
        source = self.client._credentials

        class Failing(object):
            def get_credentials(self):
                raise ValueError('AssumeRole refused: EntityNotExist.Role')

        source._factory = Failing
        source.renew()
        self.sdk.script('describe_instances', fakes.unanswered(
            credentials.CredentialsUnavailable('AssumeRole refused')))
        error = self.assertRaises(exception.EBSCredentialsError,
                                  self.client.list_instances)
        self.assertIn('the sts credentials', str(error))

    def test_token_and_secret_never_logged_nor_raised(self):
        # A service that echoes the token and the secret in its errors.
        echo = fakes.client_error(
            'InvalidSecurityToken.MismatchWithAccessKey',
            'token %s key %s' % (TOKEN, fakes.SECRET))
        self.sdk.script('describe_instances', echo, echo)
        error = self.assertRaises(exception.EBSCredentialsError,
                                  self.client.list_instances)
        for value in (TOKEN, fakes.SECRET):
            self.assertNotIn(value, self.logger.output)
            self.assertNotIn(value, str(error))
            self.assertNotIn(value, repr(error.args))
