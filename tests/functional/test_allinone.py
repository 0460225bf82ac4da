"""``ebs-allinone`` as a user runs it, driven by the real ``cinder`` CLI.

Each test starts the command in a subprocess (without guests, to stay
light), and checks at the end that every process it started, every loop
device over its files and its temporary directory are gone.
"""

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time

import fixtures
import testtools

from ebs_allinone.cinder import config as cinder_config
from ebs_allinone.daemons import process
from ebs_allinone import leftovers
from ebs_allinone.scenarios import demo
from ebs_allinone.scenarios import report
from ebs_allinone import stack as stack_mod
from tests.functional import service_states

START_TIMEOUT = 180
STOP_TIMEOUT = 120
# As the shell passes multiattach="<is> True".
MULTIATTACH = 'multiattach=<is> True'
SERVERS = {'host-a': '11111111-1111-4111-8111-111111111111',
           'host-b': '22222222-2222-4222-8222-222222222222'}


def descendants(pid):
    """PIDs of every process below ``pid``."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(')', 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def table_value(output, key):
    """The value of ``key`` in a cinder CLI property table."""
    match = re.search(r'^\|\s*%s\s*\|\s*(.*?)\s*\|$' % re.escape(key),
                      output, re.M)
    return match.group(1) if match else None


def table_rows(output):
    """The rows of a cinder CLI list table, as dicts by column name."""
    lines = [line for line in output.splitlines() if line.startswith('|')]
    cells = [[cell.strip() for cell in line.strip('|').split('|')]
             for line in lines]
    return [dict(zip(cells[0], row)) for row in cells[1:]]


class AllInOneProcess(object):
    """``python -m ebs_allinone.cmd ARGS`` with its output collected."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'ebs_allinone.cmd'] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
            env=env)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self):
        return ''.join(self.lines)

    def wait_for(self, pattern, timeout=START_TIMEOUT):
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = regex.search(self.output)
            if match:
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError('no %r in the output of ebs-allinone:\n%s'
                             % (pattern, self.output))

    def run_dir(self):
        return self.wait_for(r'run directory (\S+)').group(1)

    def stop(self, signum=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        return self.wait()

    def wait(self, timeout=STOP_TIMEOUT):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError('ebs-allinone did not exit within %ds:\n%s'
                                 % (timeout, self.output))
        self._reader.join(10)
        return self.proc.returncode

    def cleanup(self):
        """After a failed test: stop it the way a user would, then kill."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class AllInOneBase(testtools.TestCase):
    """Start ``ebs-allinone`` and drive it with the cinder CLI."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('the all-in-one needs root (loop devices)')

    def start(self, *args, env=None):
        aio = AllInOneProcess(*args, env=env)
        self.addCleanup(aio.cleanup)
        self.addDetail('ebs-allinone-output', testtools.content.Content(
            testtools.content_type.UTF8_TEXT,
            lambda: [aio.output.encode()]))
        return aio

    def assert_nothing_left(self, pids, run_dir):
        """No process, loop device or run directory left behind."""
        running = [pid for pid in pids
                   if not process.wait_gone(pid, 15)]
        self.assertEqual([], running, 'processes left behind')
        self.assertEqual([], leftovers.loop_devices_under(run_dir),
                         'loop devices left behind')
        self.assertFalse(os.path.exists(run_dir), run_dir)

    # -- serve + the cinder CLI -------------------------------------------
    def cinder(self, *args, user=None, check=True):
        env = dict(self.cli_env)
        if user:
            env['OS_USER_ID'] = user
        cli = os.path.join(os.path.dirname(sys.executable), 'cinder')
        proc = subprocess.run([cli] + list(args), env=env,
                              capture_output=True, text=True, timeout=120)
        if check:
            self.assertEqual(0, proc.returncode, '%s failed:\n%s%s' % (
                ' '.join(args), proc.stdout, proc.stderr))
        return proc

    def wait_status(self, volume, status, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            got = table_value(self.cinder('show', volume).stdout, 'status')
            if got == status:
                return
            self.assertFalse(got.startswith('error'), got)
            self.assertLess(time.monotonic(), deadline,
                            'volume %s is %s, not %s' % (volume, got, status))
            time.sleep(0.5)

    def serve(self, *args, env=None):
        """Start ``serve`` and point the CLI at it; return it and its PIDs."""
        aio = self.start('serve', '--no-guests', *args, env=env)
        url = aio.wait_for(r'Volume API: (\S+)').group(1)
        aio.wait_for(r'Press Ctrl-C to stop')
        pids = descendants(aio.proc.pid) + [aio.proc.pid]
        self.assertGreaterEqual(len(pids), 3, 'emulator and Cinder')
        self.cli_env = dict(
            os.environ, OS_AUTH_TYPE='noauth', OS_USER_ID='admin',
            OS_PROJECT_ID=cinder_config.PROJECT_ID, CINDER_ENDPOINT=url,
            OS_VOLUME_API_VERSION='3.50')
        return aio, pids

    def attach(self, volume, host):
        """``attachment-create --connect true`` as ``host``; its output."""
        return self.cinder(
            'attachment-create', '--connect', 'true', '--host', host,
            '--initiator', 'iqn.2004-10.org.example:%s' % host,
            '--ip', '127.0.0.1', volume, SERVERS[host]).stdout

    def wait_deleted(self, volume, timeout=120):
        deadline = time.monotonic() + timeout
        while volume in self.cinder('list').stdout:
            self.assertLess(time.monotonic(), deadline, 'volume not deleted')
            time.sleep(0.5)

    def services(self):
        """{(binary, host): (state, updated_at)} of ``service-list``."""
        rows = table_rows(self.cinder('service-list').stdout)
        return {(row['Binary'], row['Host']): (row['State'],
                                               row['Updated_at'])
                for row in rows}

    def multiattach_workflow(self):
        """Type, volume, two hosts attached, detached, all deleted.

        :returns: the volume's id.
        """
        self.cinder('type-create', 'multiattach')
        self.cinder('type-key', 'multiattach', 'set', MULTIATTACH)
        self.assertIn('<is> True', self.cinder('extra-specs-list').stdout)
        created = self.cinder('create', '--volume-type', 'multiattach',
                              '--name', 'shared', '20').stdout
        volume = table_value(created, 'id')
        self.wait_status(volume, 'available')
        self.assertEqual('True', table_value(
            self.cinder('show', volume).stdout, 'multiattach'))

        attachments = {}
        for index, host in enumerate(sorted(SERVERS)):
            out = self.attach(volume, host)
            attachment = table_value(out, 'id')
            # The connection info names this host's emulator instance.
            self.assertEqual('i-emu%04d' % index,
                             table_value(out, 'instance_id'))
            self.assertIn('/instances/i-emu%04d/dev/disk/by-id/' % index,
                          table_value(out, 'device_path'))
            self.cinder('attachment-complete', attachment)
            attachments[host] = attachment
        self.wait_status(volume, 'in-use')
        listed = self.cinder('attachment-list', '--volume-id',
                             volume).stdout
        for attachment in attachments.values():
            self.assertRegex(listed, r'%s\s*\|[^|]*\|\s*attached'
                             % attachment)

        # Only the compute service may delete a connected attachment.
        refused = self.cinder('attachment-delete', attachments['host-a'],
                              check=False)
        self.assertNotEqual(0, refused.returncode)
        for host in sorted(attachments):
            self.cinder('attachment-delete', attachments[host],
                        user=cinder_config.SERVICE_USER)
        self.wait_status(volume, 'available')
        self.cinder('delete', volume)
        self.wait_deleted(volume)
        self.cinder('type-delete', 'multiattach')
        return volume


class AllInOneTest(AllInOneBase):

    def test_serve_with_the_cinder_cli(self):
        aio, pids = self.serve()
        run_dir = aio.run_dir()

        self.multiattach_workflow()

        self.assertEqual(0, aio.stop(signal.SIGINT), aio.output)
        self.assertIn('Clean shutdown', aio.output)
        self.assert_nothing_left(pids, run_dir)

    def test_serve_services_stay_up_past_service_down_time(self):
        # Lowered through oslo.config's environment variables, which Cinder
        # reads over its configuration file.
        aio, pids = self.serve(env=dict(
            os.environ,
            OS_DEFAULT__SERVICE_DOWN_TIME=str(
                service_states.SERVICE_DOWN_TIME),
            OS_DEFAULT__REPORT_INTERVAL=str(service_states.REPORT_INTERVAL)))
        run_dir = aio.run_dir()
        service_states.assert_services_stay_up(
            self, self.services, service_states.ALLINONE_BINARIES)

        volume = table_value(self.cinder(
            'create', '--name', 'after-down-time', '20').stdout, 'id')
        self.wait_status(volume, 'available')
        attachment = table_value(self.attach(volume, 'host-a'), 'id')
        self.cinder('attachment-complete', attachment)
        self.wait_status(volume, 'in-use')
        self.cinder('attachment-delete', attachment,
                    user=cinder_config.SERVICE_USER)
        self.wait_status(volume, 'available')
        self.cinder('delete', volume)
        self.wait_deleted(volume)
        self.assertEqual({'up'}, {state for state, _updated_at
                                  in self.services().values()})

        self.assertEqual(0, aio.stop(signal.SIGINT), aio.output)
        self.assert_nothing_left(pids, run_dir)

    def test_serve_stops_cleanly_on_sigterm(self):
        aio = self.start('serve', '--no-guests', '--hosts', '3')
        run_dir = aio.run_dir()
        aio.wait_for(r'Press Ctrl-C to stop')
        pids = descendants(aio.proc.pid) + [aio.proc.pid]
        self.assertEqual(0, aio.stop(signal.SIGTERM), aio.output)
        self.assert_nothing_left(pids, run_dir)

    # -- demo -------------------------------------------------------------
    def test_demo_without_guests(self):
        aio = self.start('demo', '--no-guests')
        run_dir = aio.run_dir()
        aio.wait_for(r'Start Cinder')
        pids = descendants(aio.proc.pid) + [aio.proc.pid]
        self.assertEqual(0, aio.wait(), aio.output)
        self.assertIn('DEGRADED MODE', aio.output)
        self.assertRegex(aio.output, r'PASS: (\d+) of \1 steps passed')
        self.assertNotIn('FAIL', aio.output)
        self.assert_nothing_left(pids, run_dir)

    def test_demo_with_sts_credentials(self):
        aio = self.start('demo', '--no-guests', '--credentials', 'sts')
        self.assertEqual(0, aio.wait(), aio.output)
        self.assertRegex(aio.output, r'PASS: (\d+) of \1 steps passed')
        self.assertRegex(aio.output, r'PASS +\d+\. The driver signed with '
                                     r'STS tokens, none refused')
        self.assertRegex(aio.output, r'[1-9]\d* tokens issued by AssumeRole')

    def test_demo_interrupted_cleans_up(self):
        aio = self.start('demo', '--no-guests')
        run_dir = aio.run_dir()
        aio.wait_for(r'Create a 1 GiB multi-attach volume')
        pids = descendants(aio.proc.pid) + [aio.proc.pid]
        self.assertEqual(130, aio.stop(signal.SIGTERM), aio.output)
        self.assertIn('Interrupted (SIGTERM)', aio.output)
        self.assertIn('NOT RUN', aio.output)
        self.assert_nothing_left(pids, run_dir)

    def test_failed_start_leaves_nothing(self):
        def broken_conf(path, *args, **kwargs):
            with open(path, 'w') as f:
                f.write('[DEFAULT\nnot a config file\n')

        self.useFixture(fixtures.MockPatch(
            'ebs_allinone.cinder.config.write_cinder_conf', broken_conf))
        stack = stack_mod.AllInOne()
        out = report.Reporter(out=io.StringIO())
        self.assertFalse(demo.Demo(stack, out, degraded='test').run())
        self.assertIn('cinder exited while starting', out.out.getvalue())
        self.assertIn('ebs-emulator', stack.pids)
        pids = list(stack.pids.values())
        self.assertEqual([], stack.stop())
        self.assert_nothing_left(pids, stack.dir)
        statuses = [status for _t, status, _e, _r in out.results]
        self.assertEqual([report.PASS, report.FAIL], statuses[:2])
        self.assertEqual({report.NOT_RUN}, set(statuses[2:]))
