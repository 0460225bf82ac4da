"""``--auth keystone`` without a running Keystone: the identity choice.

Configuration files are read back the way their readers read them
(oslo.config with keystonemiddleware's own options, PyYAML, a shell).
"""

import os
import stat
import subprocess

import fixtures
from keystonemiddleware.auth_token import _opts as authtoken_opts
from oslo_config import cfg
from oslotest import base
import yaml

from ebs_allinone.cinder import config as cinder_config
from ebs_allinone.identity import auth as identity


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
