"""The pieces of ``serve --auth keystone`` that need no running Keystone.

Configuration files are read back the way their readers read them
(oslo.config with keystonemiddleware's own options, PyYAML, a shell), the
stand-in compute API is called as a WSGI application.
"""

import io
import json
import os
import stat
import subprocess
import wsgiref.util

import fixtures
from keystonemiddleware.auth_token import _opts as authtoken_opts
from oslo_config import cfg
from oslotest import base
import yaml

from ebs_allinone import cinder_config
from ebs_allinone import cmd
from ebs_allinone import identity
from ebs_allinone import keystone
from ebs_allinone import servers_api

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


class IdentityTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.ident = identity.Keystone(self.dir)

    def test_cinder_requires_the_service_role_of_service_tokens(self):
        conf = cinder_config.new_parser()
        conf['DEFAULT'] = {'auth_strategy': 'noauth_include_project_id'}
        self.ident.configure_cinder(conf)
        path = os.path.join(self.dir, 'cinder.conf')
        cinder_config.write_conf(path, conf)

        oslo = cfg.ConfigOpts()
        oslo.register_opt(cfg.StrOpt('auth_strategy'))
        oslo.register_opts(authtoken_opts._OPTS, group='keystone_authtoken')
        oslo([], default_config_files=[path])
        self.assertEqual('keystone', oslo.auth_strategy)
        authtoken = oslo.keystone_authtoken
        self.assertEqual(['service'], authtoken.service_token_roles)
        self.assertTrue(authtoken.service_token_roles_required)
        self.assertEqual(self.ident.keystone.url,
                         authtoken.www_authenticate_uri)
        self.assertEqual('cinder', conf['keystone_authtoken']['username'])
        self.assertEqual(self.ident.keystone.passwords['cinder'],
                         conf['keystone_authtoken']['password'])

    def test_keystone_pipeline_has_no_service_token_emulation(self):
        paste = os.path.join(self.dir, 'api-paste.ini')
        cinder_config.write_api_paste(paste)
        parser = cinder_config.new_parser()
        parser.read(paste)
        filters = parser[cinder_config.V3_COMPOSITE]['keystone'].split()
        self.assertNotIn(cinder_config.SERVICE_TOKEN_FILTER, filters)
        self.assertLess(filters.index('authtoken'),
                        filters.index('keystonecontext'))
        self.assertLess(filters.index('keystonecontext'),
                        filters.index('ebs_api_guard'))

    def test_clouds_yaml_and_openrc_files_agree(self):
        self.ident.write_clouds()
        with open(self.ident.clouds_file) as f:
            clouds = yaml.safe_load(f)['clouds']
        self.assertEqual(set(identity.CLOUDS.values()), set(clouds))
        demo = clouds['ebs-demo']
        self.assertEqual('demo', demo['auth']['username'])
        self.assertEqual('demo', demo['auth']['project_name'])
        self.assertEqual('admin', clouds['ebs-admin']['auth']['project_name'])
        self.assertEqual('service',
                         clouds['ebs-nova']['auth']['project_name'])
        self.assertEqual('3.50', demo['volume_api_version'])
        for path in [self.ident.clouds_file] + [
                self.ident.openrc(user) for user in identity.CLOUDS]:
            self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        # The openrc file, sourced by a shell, gives the same account.
        shell = subprocess.run(
            ['sh', '-c', '. "$0" && echo "$OS_USERNAME $OS_PASSWORD '
             '$OS_PROJECT_NAME $OS_AUTH_URL $OS_VOLUME_API_VERSION"',
             self.ident.openrc('demo')],
            capture_output=True, text=True, check=True,
            env={'PATH': os.environ.get('PATH', '/usr/bin:/bin')})
        self.assertEqual(
            ['demo', demo['auth']['password'], 'demo',
             demo['auth']['auth_url'], '3.50'], shell.stdout.split())


class ServersAPITest(base.BaseTestCase):

    def call(self, method, path):
        environ = {'REQUEST_METHOD': method, 'PATH_INFO': path,
                   'HTTP_HOST': '127.0.0.1:8774',
                   'wsgi.input': io.BytesIO()}
        wsgiref.util.setup_testing_defaults(environ)
        got = {}

        def start_response(status, headers):
            got['status'] = int(status.split()[0])

        body = b''.join(servers_api.application(environ, start_response))
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


class CommandTest(base.BaseTestCase):

    def test_keystone_only_with_the_single_topology(self):
        stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        self.assertEqual(cmd.EXIT_USAGE, cmd.main(
            ['serve', '--auth', 'keystone', '--topology', 'cluster']))
        stderr.seek(0)
        self.assertIn('--topology single only', stderr.read())
