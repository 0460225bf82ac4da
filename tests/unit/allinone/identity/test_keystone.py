"""The private Keystone's configuration, without running Keystone."""


from oslotest import base

from ebs_allinone.identity import keystone


class KeystoneConfTest(base.BaseTestCase):

    def test_private_state_and_fernet_tokens(self):
        conf = keystone.keystone_conf('/run/ks', token_expiration=120)
        self.assertEqual('sqlite:////run/ks/keystone.sqlite',
                         conf['database']['connection'])
        self.assertEqual('fernet', conf['token']['provider'])
        self.assertEqual('120', conf['token']['expiration'])
        self.assertEqual('/run/ks/fernet-keys',
                         conf['fernet_tokens']['key_repository'])
        self.assertEqual('/run/ks/credential-keys',
                         conf['credential']['key_repository'])
        self.assertEqual('/run/ks/keystone.log', conf['DEFAULT']['log_file'])
