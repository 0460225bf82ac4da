"""The ``ebs-emulator`` command: options, start, stop, restart."""

import importlib.metadata
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from alibabacloud_ecs20140526 import client as ecs_client
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import exceptions as sdk_exceptions
from alibabacloud_tea_openapi import models as openapi_models
import fixtures
import testtools

from ebs_emulator import config
from tests import emulator_fixture


READY_RE = re.compile(r'ebs-emulator listening on 127\.0\.0\.1:(\d+)')


class ConfigTest(testtools.TestCase):

    def test_parse_access_keys(self):
        self.assertEqual({'A': 'b:c', 'D': 'e'},
                         config.parse_access_keys(['A:b:c', 'D:e']))
        self.assertEqual(
            {config.DEFAULT_ACCESS_KEY_ID: config.DEFAULT_ACCESS_KEY_SECRET},
            config.parse_access_keys([]))
        for bad in ('nosecret', ':x', 'x:'):
            self.assertRaises(ValueError, config.parse_access_keys, [bad])

    def test_default_instances(self):
        instances = config.default_instances(3, 'z1')
        self.assertEqual(['i-emu0000', 'i-emu0001', 'i-emu0002'],
                         [i['InstanceId'] for i in instances])
        self.assertEqual(['host-0', 'host-1', 'host-2'],
                         [i['HostName'] for i in instances])
        self.assertEqual({'z1'}, {i['ZoneId'] for i in instances})
        self.assertEqual(instances, config.default_instances(3, 'z1'))
        self.assertEqual(3, len({i['SerialNumber'] for i in instances}))

    def test_load_instances(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'i.json')
        with open(path, 'w') as f:
            json.dump([{'InstanceId': 'i-a', 'HostName': 'alpha'},
                       {'InstanceId': 'i-b', 'SerialNumber': 's',
                        'ZoneId': 'z9'}], f)
        self.assertEqual(
            [{'InstanceId': 'i-a', 'HostName': 'alpha',
              'SerialNumber': config.instance_serial('i-a'),
              'ZoneId': 'z1'},
             {'InstanceId': 'i-b', 'HostName': 'i-b', 'SerialNumber': 's',
              'ZoneId': 'z9'}],
            config.load_instances(path, 'z1'))
        for bad in ('{', '[{"HostName": "x"}]', '"x"',
                    '[{"InstanceId": "a"}, {"InstanceId": "a"}]'):
            with open(path, 'w') as f:
                f.write(bad)
            self.assertRaises(ValueError, config.load_instances, path)

    def test_console_script_entry_point(self):
        scripts = importlib.metadata.entry_points(group='console_scripts')
        (entry,) = [e for e in scripts if e.name == 'ebs-emulator']
        self.assertEqual('ebs_emulator.cmd:main', entry.value)


class CommandTest(testtools.TestCase):
    """Runs the command as a subprocess, as an operator would."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.state_dir = os.path.join(self.tmp, 'state')

    def _run(self, *args, timeout=60):
        return subprocess.run(
            [sys.executable, '-m', 'ebs_emulator.cmd'] + list(args),
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout)

    def _start(self, *args):
        proc = subprocess.Popen(
            [sys.executable, '-m', 'ebs_emulator.cmd', '--bind',
             '127.0.0.1', '--port', '0', '--state-dir', self.state_dir,
             '--use-loop-devices', 'no'] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.addCleanup(self._kill, proc)
        lines = queue.Queue()
        reader = threading.Thread(target=self._read_lines,
                                  args=(proc.stdout, lines), daemon=True)
        reader.start()
        self.addCleanup(reader.join, 60)
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            seen.append(line)
            match = READY_RE.search(line)
            if match:
                return proc, int(match.group(1)), lines
        self.fail('emulator did not start: %s' % ''.join(seen))

    @staticmethod
    def _read_lines(stream, lines):
        for line in stream:
            lines.put(line)
        lines.put(None)

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def _stop(self, proc, lines, signum=signal.SIGTERM):
        proc.send_signal(signum)
        proc.wait(60)
        output = []
        while True:
            line = lines.get(timeout=60)
            if line is None:
                break
            output.append(line)
        return proc.returncode, ''.join(output)

    def _client(self, port, key_id=config.DEFAULT_ACCESS_KEY_ID,
                secret=config.DEFAULT_ACCESS_KEY_SECRET):
        return ecs_client.Client(openapi_models.Config(
            access_key_id=key_id, access_key_secret=secret,
            endpoint='127.0.0.1:%d' % port, protocol='http',
            region_id=config.DEFAULT_REGION))

    def test_help(self):
        result = self._run('--help')
        self.assertEqual(0, result.returncode)
        for option in ('--bind', '--port', '--state-dir', '--access-key',
                       '--instances-file', '--instances',
                       '--transition-delay', '--region', '--zone',
                       '--faults-file'):
            self.assertIn(option, result.stdout)

    def test_state_dir_required(self):
        result = self._run('--port', '0')
        self.assertEqual(2, result.returncode)
        self.assertIn('state', result.stderr)

    def test_bad_access_key(self):
        result = self._run('--port', '0', '--state-dir', self.state_dir,
                           '--access-key', 'no-secret')
        self.assertEqual(2, result.returncode)
        self.assertIn('ID:SECRET', result.stdout + result.stderr)

    def test_bad_faults_file(self):
        path = os.path.join(self.tmp, 'faults.json')
        with open(path, 'w') as f:
            f.write('[{"kind": "meteor"}]')
        result = self._run('--port', '0', '--state-dir', self.state_dir,
                           '--faults-file', path)
        self.assertEqual(2, result.returncode)
        self.assertIn('meteor', result.stdout + result.stderr)
        result = self._run('--port', '0', '--state-dir', self.state_dir,
                           '--fault', '{not json')
        self.assertEqual(2, result.returncode)
        self.assertIn('not JSON', result.stdout + result.stderr)

    def test_port_in_use(self):
        sock = socket.socket()
        self.addCleanup(sock.close)
        sock.bind(('127.0.0.1', 0))
        sock.listen(1)
        result = self._run('--port', str(sock.getsockname()[1]),
                           '--state-dir', self.state_dir,
                           '--use-loop-devices', 'no')
        self.assertEqual(1, result.returncode)
        self.assertIn('Cannot listen', result.stdout + result.stderr)

    def test_start_serve_and_sigterm(self):
        proc, port, lines = self._start(
            '--access-key', 'CLIKEY:cli-secret-value', '--instances', '3',
            '--debug')
        body = self._client(port, 'CLIKEY', 'cli-secret-value') \
            .describe_instances(ecs_models.DescribeInstancesRequest(
                region_id=config.DEFAULT_REGION)).body
        self.assertEqual(3, body.total_count)
        code, output = self._stop(proc, lines)
        self.assertEqual(0, code, output)
        self.assertIn('Stopped', output)
        self.assertNotIn('cli-secret-value', output)

    def test_sigint_and_custom_instances(self):
        path = os.path.join(self.tmp, 'instances.json')
        with open(path, 'w') as f:
            json.dump([{'InstanceId': 'i-custom', 'HostName': 'compute-7',
                        'SerialNumber': '0b7e7f4c-0000-4000-8000-000000000007'
                        }], f)
        proc, port, lines = self._start(
            '--instances-file', path, '--region', 'r-test', '--zone',
            'z-test')
        client = ecs_client.Client(openapi_models.Config(
            access_key_id=config.DEFAULT_ACCESS_KEY_ID,
            access_key_secret=config.DEFAULT_ACCESS_KEY_SECRET,
            endpoint='127.0.0.1:%d' % port, protocol='http',
            region_id='r-test'))
        (instance,) = client.describe_instances(
            ecs_models.DescribeInstancesRequest(region_id='r-test')
        ).body.instances.instance
        self.assertEqual(('i-custom', 'compute-7', 'z-test'),
                         (instance.instance_id, instance.host_name,
                          instance.zone_id))
        code, output = self._stop(proc, lines, signal.SIGINT)
        self.assertEqual(0, code, output)

    def test_fault_option(self):
        proc, port, lines = self._start(
            '--fault', '{"kind": "throttle", "count": 1}', '--instances', '1')
        client = self._client(port)
        request = ecs_models.DescribeInstancesRequest(
            region_id=config.DEFAULT_REGION)
        e = self.assertRaises(sdk_exceptions.ClientException,
                              client.describe_instances, request)
        self.assertEqual('Throttling.User', e.code)
        self.assertEqual(1, client.describe_instances(request)
                         .body.total_count)
        code, output = self._stop(proc, lines)
        self.assertEqual(0, code, output)

    def test_exit_with_parent(self):
        # A short-lived parent starts the emulator and exits once it is up.
        launcher = (
            'import os, subprocess, sys, time\n'
            'p = subprocess.Popen([sys.executable, "-m", "ebs_emulator.cmd",'
            ' "--port", "0", "--state-dir", sys.argv[1],'
            ' "--use-loop-devices", "no", "--exit-with-parent",'
            ' "--ready-file", sys.argv[2]],'
            ' stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,'
            ' start_new_session=True)\n'
            'while not os.path.exists(sys.argv[2]) and p.poll() is None:\n'
            '    time.sleep(0.05)\n'
            'print(p.pid)\n')
        ready = os.path.join(self.tmp, 'ready')
        result = subprocess.run(
            [sys.executable, '-c', launcher, self.state_dir, ready],
            capture_output=True, text=True, timeout=60)
        pid = int(result.stdout.strip())
        deadline = time.monotonic() + 60
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                self.fail('emulator %d outlived its parent' % pid)
            time.sleep(0.2)


def _alive(pid):
    """True while a process exists and is not a zombie."""
    try:
        with open('/proc/%d/status' % pid) as f:
            status = f.read()
    except OSError:
        return False
    return '\nState:\tZ' not in status


class RestartTest(testtools.TestCase):
    """Stop and start on the same state dir: the state is still there."""

    def test_restart_durability(self):
        emu = self.useFixture(emulator_fixture.EmulatorFixture(
            num_instances=2))
        client = emu.sdk_client()
        disk_id = client.create_disk(ecs_models.CreateDiskRequest(
            region_id=emu.region_id, zone_id=emu.zone_id,
            disk_category='cloud_essd', size=20,
            disk_name='survivor')).body.disk_id
        old_pid, old_endpoint = emu.pid, emu.endpoint
        emu.restart()
        self.assertNotEqual(old_pid, emu.pid)
        self.assertEqual(old_endpoint, emu.endpoint)
        # The same client object keeps working (same port).
        disks = client.describe_disks(ecs_models.DescribeDisksRequest(
            region_id=emu.region_id,
            disk_ids='["%s"]' % disk_id)).body.disks.disk
        self.assertEqual([(disk_id, 'survivor')],
                         [(d.disk_id, d.disk_name) for d in disks])

    def test_cleanup_stops_process_and_removes_dir(self):
        emu = emulator_fixture.EmulatorFixture(num_instances=1)
        emu.setUp()
        pid, base_dir = emu.pid, emu.base_dir
        process = emu.process
        emu.cleanUp()
        self.assertIsNotNone(process.poll())
        self.assertFalse(os.path.exists(base_dir))
        self.assertIsNone(emu.pid)
        self.assertTrue(pid)
