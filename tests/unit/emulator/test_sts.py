"""The emulator's STS credentials: issue, check, expire, revoke, forget."""

from alibabacloud_credentials.utils import parameter_helper
import testtools

from ebs_emulator import exception
from ebs_emulator import sts


class Clock(object):
    def __init__(self):
        self.now = 1000000.0

    def __call__(self):
        return self.now


class TokenStoreTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.store = sts.TokenStore(clock=self.clock)

    def refused(self, code, key, token):
        error = self.assertRaises(exception.EcsError, self.store.secret_for,
                                  key, token)
        self.assertEqual(code, error.code)

    def test_issue_and_check(self):
        issued = self.store.issue('role', 'AssumeRole', 900)
        self.assertEqual(issued.secret, self.store.secret_for(
            issued.access_key_id, issued.token))
        self.assertEqual(sts.format_time(self.clock.now + 900),
                         issued.credentials()['Expiration'])
        self.assertIsNone(self.store.secret_for('STS.unknown', 'x'))

    def test_lifetime_override(self):
        store = sts.TokenStore(lifetime=3, clock=self.clock)
        issued = store.issue('role', 'metadata', 3600)
        self.assertEqual(self.clock.now + 3, issued.expires_at)

    def test_refusals_counted(self):
        first = self.store.issue('role', 'AssumeRole', 900)
        second = self.store.issue('role', 'AssumeRole', 900)
        self.refused('MissingSecurityToken', first.access_key_id, '')
        self.refused('InvalidSecurityToken.Malformed', first.access_key_id,
                     'CAISnothing')
        self.refused('InvalidSecurityToken.MismatchWithAccessKey',
                     first.access_key_id, second.token)
        self.clock.now += 900
        self.refused('InvalidSecurityToken.Expired', first.access_key_id,
                     first.token)
        report = self.store.report()
        self.assertEqual({'AssumeRole': 2}, report['issued'])
        self.assertEqual(1, report['refused']['InvalidSecurityToken.Expired'])
        self.assertEqual(0, report['valid'])

    def test_revoke_and_restore(self):
        issued = self.store.issue('role', 'AssumeRole', 900)
        self.store.revoke('role')
        self.refused('InvalidSecurityToken.Expired', issued.access_key_id,
                     issued.token)
        self.store.restore('role')
        self.assertEqual(issued.secret, self.store.secret_for(
            issued.access_key_id, issued.token))

    def test_expire_all(self):
        issued = self.store.issue('role', 'AssumeRole', 900)
        self.assertEqual(1, self.store.expire_all())
        self.refused('InvalidSecurityToken.Expired', issued.access_key_id,
                     issued.token)

    def test_forgotten_long_after_expiry(self):
        old = self.store.issue('role', 'AssumeRole', 900)
        self.clock.now += 900 + sts.FORGET_AFTER + 1
        self.store.issue('role', 'AssumeRole', 900)
        self.assertIsNone(self.store.secret_for(old.access_key_id,
                                                old.token))


class RpcSignatureTest(testtools.TestCase):

    def test_same_as_the_credentials_library(self):
        # The signature page encodes a space as %20; the library's
        # quote_plus makes it "+": the two agree on everything the
        # library sends for AssumeRole without a Policy (no spaces).
        params = {'Action': 'AssumeRole', 'RoleArn': 'acs:ram::1:role/r',
                  'RoleSessionName': 'a*b~c@d.e-f_g', 'Version': '2015-04-01',
                  'Timestamp': '2026-01-01T00:00:00Z'}
        ours = sts.rpc_signature(
            'secret', sts.rpc_string_to_sign('GET', params))
        theirs = parameter_helper.sign_string(
            parameter_helper.compose_string_to_sign('GET', params),
            'secret&')
        self.assertEqual(theirs, ours)

    def test_space_is_percent_20(self):
        to_sign = sts.rpc_string_to_sign('GET', {'Policy': 'a b'})
        self.assertEqual('GET&%2F&Policy%3Da%2520b', to_sign)
