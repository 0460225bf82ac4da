"""``ecs_ram_role`` for real: the metadata address inside a network namespace.

The credentials library reaches the instance metadata service at the
fixed address 100.100.100.200, port 80.  The test makes a network
namespace of its own (only a loopback interface, so nothing outside the
machine can be reached from it), puts that address on its loopback,
runs the emulator inside it on port 80, and runs the driver's backend
client inside it with ``ebs_credential_type = ecs_ram_role``: the client
gets the instance's role credentials from the metadata service and signs
its ECS calls with them.  Needs root and ``ip``; skipped otherwise.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

import testtools
from testtools import content

from ebs_allinone.daemons import process
from tests.functional import cinder_harness

METADATA_ADDRESS = '100.100.100.200'
ROLE = 'EcsRamRoleNetns'
TOKEN_LIFETIME = 3
# Set (to the namespace's name) in the environment of the Cinder test run
# inside the namespace: the inner test runs only there.
INSIDE_ENV = 'EBS_TEST_METADATA_NETNS'
FIGURES = 'ecs_ram_role figures: '

# Run inside the namespace: the backend client with the instance's role.
CLIENT_SCRIPT = textwrap.dedent('''
    import io, json, logging, sys, time, urllib.request
    from cinder_ebs_driver import client as ebs_client
    from tests import emulator_fixture

    options = json.loads(sys.argv[1])
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger('cinder_ebs_driver').addHandler(handler)
    logging.getLogger('cinder_ebs_driver').setLevel(logging.DEBUG)
    conf = emulator_fixture._Conf(options)
    client = ebs_client.EBSClient(conf, sleep=lambda s: None)
    counts = []
    end = time.monotonic() + float(sys.argv[2])
    while True:
        counts.append(len(client.list_instances()))
        if time.monotonic() >= end:
            break
        time.sleep(0.5)
    with urllib.request.urlopen(
            'http://127.0.0.1/_emulator/credentials') as answer:
        report = json.loads(answer.read().decode('utf-8'))
    with urllib.request.urlopen('http://127.0.0.1/_emulator/state') as answer:
        stats = json.loads(answer.read().decode('utf-8'))['stats']
    secrets = client._credentials.secrets()
    print(json.dumps({
        'type': client.credential_type,
        'calls': len(counts), 'instances': sorted(set(counts)),
        'report': report,
        'refused': {k: v for k, v in stats.items()
                    if 'SecurityToken' in k},
        'secrets': len(secrets),
        'leaked': [s for s in secrets if s in log.getvalue()],
        'debug_lines': log.getvalue().count('\\n'),
    }))
''')


def _run(argv, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, **kw)


class TestMetadataInNamespace(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0 or not shutil.which('ip'):
            self.skipTest('needs root and ip to make a network namespace')
        self.netns = 'ebs-md-%s' % uuid.uuid4().hex[:8]
        made = _run(['ip', 'netns', 'add', self.netns])
        if made.returncode:
            self.skipTest('cannot make a network namespace: %s'
                          % made.stderr.decode(errors='replace'))
        self.addCleanup(_run, ['ip', 'netns', 'del', self.netns])
        for argv in (['link', 'set', 'lo', 'up'],
                     ['addr', 'add', '%s/32' % METADATA_ADDRESS,
                      'dev', 'lo']):
            done = _run(['ip', '-n', self.netns] + argv)
            self.assertEqual(0, done.returncode, done.stderr)
        self.base_dir = tempfile.mkdtemp(prefix='ebs-netns-')
        self.addCleanup(shutil.rmtree, self.base_dir, ignore_errors=True)
        self.key = ('EMUNETNS%s' % uuid.uuid4().hex[:8].upper(),
                    uuid.uuid4().hex)

    def in_netns(self, argv):
        return ['ip', 'netns', 'exec', self.netns] + list(argv)

    def start_emulator(self, *extra):
        config_file = os.path.join(self.base_dir, 'emulator.conf')
        fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, 'w') as f:
            f.write('[DEFAULT]\naccess_key = %s:%s\n' % self.key)
        argv = self.in_netns([
            sys.executable, '-m', 'ebs_emulator.cmd',
            # Every address of the namespace: its loopback and the
            # metadata address, nothing else.
            '--bind', '0.0.0.0', '--port', '80',
            '--state-dir', os.path.join(self.base_dir, 'state'),
            '--config-file', config_file, '--instances', '2',
            '--transition-delay', '0', '--use-loop-devices', 'no',
            '--fuse-views', 'no', '--exit-with-parent',
            '--instance-ram-role', ROLE,
            '--sts-token-lifetime', str(TOKEN_LIFETIME)] + list(extra))
        emulator = process.ChildProcess(
            'ebs-emulator', argv, os.path.join(self.base_dir, 'emu.log'),
            process.EmulatorProcess.READY)
        emulator.start()
        self.addCleanup(emulator.stop)
        return emulator

    def run_client(self, duration, **options):
        values = dict(ebs_endpoint='127.0.0.1:80', ebs_protocol='http',
                      ebs_region_id='emu-region-1', ebs_zone_id='emu-zone-a',
                      ebs_credential_type='ecs_ram_role',
                      ebs_api_retries=1, ebs_api_timeout=5)
        values.update(options)
        done = _run(self.in_netns([
            sys.executable, '-c', CLIENT_SCRIPT, json.dumps(values),
            str(duration)]), env=dict(os.environ))
        self.assertEqual(0, done.returncode,
                         done.stderr.decode(errors='replace'))
        result = json.loads(done.stdout.decode().strip().splitlines()[-1])
        self.addDetail('netns-figures', content.text_content(
            'calls %d, credentials issued %s, refused %s' % (
                result['calls'], result['report']['issued'],
                result['refused'])))
        return result

    def test_ecs_ram_role_across_expiries(self):
        self.start_emulator()
        result = self.run_client(2 * TOKEN_LIFETIME + 1)
        self.assertEqual('ecs_ram_role', result['type'])
        self.assertEqual([2], result['instances'])
        self.assertGreaterEqual(result['calls'], 10)
        # Fetched from the metadata service, renewed as they expired.
        self.assertGreaterEqual(result['report']['issued']['metadata'], 3)
        self.assertNotIn('AssumeRole', result['report']['issued'])
        self.assertEqual({}, result['refused'])
        self.assertEqual([], result['leaked'])
        self.assertGreater(result['debug_lines'], 0)

    def test_hardened_mode_only(self):
        self.start_emulator('--metadata-token-required')
        result = self.run_client(0, ebs_metadata_token_required=True)
        self.assertEqual([2], result['instances'])
        self.assertGreaterEqual(result['report']['issued']['metadata'], 1)
        self.assertEqual([], result['leaked'])

    def test_cinder_multiattach_inside(self):
        """Real Cinder services in the namespace, driver on ecs_ram_role."""
        env = dict(os.environ)
        env[INSIDE_ENV] = self.netns
        env.pop('OS_STDOUT_CAPTURE', None)
        done = subprocess.run(
            self.in_netns([sys.executable, '-m', 'testtools.run',
                           __name__ + '.TestEcsRamRoleInCinder']),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=600, env=env)
        output = done.stdout.decode(errors='replace')
        self.addDetail('inner-run', content.text_content(output[-20000:]))
        self.assertEqual(0, done.returncode, output[-5000:])
        self.assertIn(FIGURES, output)
        self.addDetail('netns-cinder-figures', content.text_content(
            output.split(FIGURES, 1)[1].splitlines()[0]))


class TestEcsRamRoleInCinder(cinder_harness.EBSFunctionalTestBase):
    """Run by the test above, inside its namespace; skipped elsewhere.

    The emulator serves its API on 127.0.0.1 and the instance metadata on
    100.100.100.200:80 (only in the namespace); the driver, inside Cinder's
    services, signs with the instance role's credentials, fetched in the
    token-protected mode and living a few seconds.
    """

    EMULATOR_KWARGS = {'extra_args': [
        '--metadata-listen', '%s:80' % METADATA_ADDRESS,
        '--instance-ram-role', ROLE, '--metadata-token-required',
        '--sts-token-lifetime', str(TOKEN_LIFETIME)]}

    def setUp(self):
        inside = os.environ.get(INSIDE_ENV)
        if not inside or not os.path.exists('/run/netns/%s' % inside):
            self.skipTest('runs inside the namespace of '
                          'TestMetadataInNamespace only')
        super().setUp()

    def backend_flags(self):
        flags = super().backend_flags()
        del flags['ebs_access_key_id'], flags['ebs_access_key_secret']
        flags.update(ebs_credential_type='ecs_ram_role',
                     ebs_metadata_token_required=True)
        return flags

    def test_multiattach_across_expiries(self):
        vtype = self.create_type(multiattach=True)
        start = time.monotonic()
        rounds = operations = 0
        while time.monotonic() - start < 2 * TOKEN_LIFETIME + 1:
            volume = self.create_volume(volume_type=vtype['id'])
            attachments = [
                self.create_attachment(volume['id'], self.connector(n))
                for n in range(2)]
            self.wait_volume(volume['id'], 'in-use')
            for attachment in attachments:
                self.delete_attachment(attachment['id'])
            self.wait_volume(volume['id'], 'available')
            self.delete_volume(volume['id'])
            rounds += 1
            operations += 6
        report = self.emulator.admin('GET', 'credentials')
        stats = self.emulator.get_state()['stats']
        refused = {k: v for k, v in stats.items() if 'SecurityToken' in k}
        self.assertGreaterEqual(report['issued'].get('metadata', 0), 3)
        self.assertNotIn('AssumeRole', report['issued'])
        self.assertEqual({}, refused)
        sys.__stdout__.write('%srounds %d, Cinder operations %d, failed 0, '
                             'credentials issued %s, refused %s\n' % (
                                 FIGURES, rounds, operations,
                                 report['issued'], refused))
        sys.__stdout__.flush()
