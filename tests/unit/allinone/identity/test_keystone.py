"""The pieces of ``serve --auth keystone`` that need no running Keystone.

Configuration files are read back the way their readers read them
(oslo.config with keystonemiddleware's own options, PyYAML, a shell), the
stand-in compute API is called as a WSGI application.
"""


from oslotest import base

from ebs_allinone.identity import keystone

SERVER = '11111111-1111-4111-8111-111111111111'


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
