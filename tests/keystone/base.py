"""``ebs-allinone serve --auth keystone``, started once per test class.

The class starts the command in a subprocess (without guests), reads the
clouds.yaml it prints and gives the tests the ``openstack`` CLI and
keystoneauth sessions of its accounts. At the end it stops the command
with SIGINT and checks that every process it started and its temporary
directory are gone.
"""

import json
import os
import signal
import subprocess
import sys
import time

from keystoneauth1.identity import v3
from keystoneauth1 import service_token
from keystoneauth1 import session as ks_session
import testtools
import yaml

from ebs_allinone.daemons import process
from tests.functional import test_allinone as aio_helpers

START_TIMEOUT = 600
CLI_TIMEOUT = 180
WAIT_TIMEOUT = 180
VOLUME = {'service_type': 'block-storage', 'interface': 'public'}
SERVERS = {'host-a': '11111111-1111-4111-8111-111111111111',
           'host-b': '22222222-2222-4222-8222-222222222222',
           'host-c': '33333333-3333-4333-8333-333333333333'}


def connector(host):
    """What os-brick's connector gives Cinder on a simulated host."""
    return {'host': host, 'initiator': 'iqn.2004-10.org.example:%s' % host,
            'ip': '127.0.0.1', 'platform': 'x86_64', 'os_type': 'linux2',
            'multipath': False}


class KeystoneServeBase(testtools.TestCase):

    # The command line of the all-in-one under test.
    SERVE_ARGS = ('serve', '--no-guests', '--auth', 'keystone')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if os.geteuid() != 0:
            raise cls.skipException('the all-in-one needs root')
        started = time.monotonic()
        cls.aio = aio_helpers.AllInOneProcess(*cls.SERVE_ARGS)
        try:
            cls.run_dir = cls.aio.run_dir()
            cls.aio.wait_for(r'Press Ctrl-C to stop', START_TIMEOUT)
            cls.clouds_file = cls.aio.wait_for(
                r'OS_CLIENT_CONFIG_FILE=(\S+)').group(1)
            with open(cls.clouds_file) as f:
                cls.clouds = yaml.safe_load(f)['clouds']
        except BaseException:
            cls.aio.cleanup()
            raise
        cls.start_seconds = time.monotonic() - started
        cls.pids = aio_helpers.descendants(cls.aio.proc.pid) + [
            cls.aio.proc.pid]

    @classmethod
    def tearDownClass(cls):
        code = cls.aio.stop(signal.SIGINT)
        output = cls.aio.output
        running = [pid for pid in cls.pids
                   if not process.wait_gone(pid, 15)]
        super().tearDownClass()
        if code != 0 or 'Clean shutdown' not in output or running or (
                os.path.exists(cls.run_dir)):
            raise AssertionError(
                'not a clean shutdown (exit %s, processes left: %s, %s '
                'exists: %s):\n%s' % (code, running, cls.run_dir,
                                      os.path.exists(cls.run_dir), output))

    def setUp(self):
        super().setUp()
        self.addDetail('ebs-allinone-start', testtools.content.text_content(
            '%s ready in %.1f s' % (' '.join(self.SERVE_ARGS),
                                    self.start_seconds)))

    # -- the CLIs ---------------------------------------------------------
    @staticmethod
    def clean_env():
        return {key: value for key, value in os.environ.items()
                if not key.startswith('OS_') and key != 'CINDER_ENDPOINT'}

    def openstack(self, *args, cloud='ebs-admin', version=None, check=True):
        """The openstack CLI with the printed clouds.yaml; the process."""
        env = dict(self.clean_env(), OS_CLIENT_CONFIG_FILE=self.clouds_file,
                   OS_CLOUD=cloud)
        argv = [os.path.join(os.path.dirname(sys.executable), 'openstack')]
        if version:
            argv += ['--os-volume-api-version', version]
        proc = subprocess.run(argv + list(args), env=env,
                              capture_output=True, text=True,
                              timeout=CLI_TIMEOUT)
        if check:
            self.assertEqual(0, proc.returncode, '%s failed:\n%s%s' % (
                ' '.join(args), proc.stdout, proc.stderr))
        return proc

    def openstack_json(self, *args, **kwargs):
        return json.loads(self.openstack(*(args + ('-f', 'json')),
                                         **kwargs).stdout)

    def wait_for(self, check, what, timeout=WAIT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            self.assertLess(time.monotonic(), deadline, what)
            time.sleep(0.5)

    # -- keystoneauth sessions of the printed accounts ---------------------
    def auth(self, cloud):
        return v3.Password(**self.clouds[cloud]['auth'])

    def session(self, cloud, service_cloud=None):
        """A session of ``cloud``'s user.

        With ``service_cloud``, the token of that cloud's user goes in
        ``X-Service-Token`` (as Nova sends its service token).
        """
        auth = self.auth(cloud)
        if service_cloud:
            auth = service_token.ServiceTokenAuthWrapper(
                user_auth=auth, service_auth=self.auth(service_cloud))
        return ks_session.Session(auth=auth)

    def volume_call(self, session, method, path, version, json_body=None,
                    headers=None):
        """One volume API request; the response (any status)."""
        all_headers = {'OpenStack-API-Version': 'volume %s' % version}
        all_headers.update(headers or {})
        return session.request(path, method, endpoint_filter=VOLUME,
                               json=json_body, headers=all_headers,
                               raise_exc=False)
