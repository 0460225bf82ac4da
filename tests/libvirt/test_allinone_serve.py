"""``ebs-allinone serve`` with guests, used as its output says.

The command boots one idle guest per simulated compute host and prints,
per host, the ``ebs-nova-shim`` commands that attach a volume into that
host's guest and detach it. The test runs them as printed: a multi-attach
volume made with the ``cinder`` CLI goes into the guests of two hosts and
out again, and at the end every process, loop device and directory of the
run is gone.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import libvirt
import testtools

from ebs_allinone.cinder import config
from ebs_allinone.daemons import process
from ebs_allinone.hosts import guest_support
from ebs_allinone import leftovers
from nova_shim import domain_disks
from nova_shim import guest as guest_mod
from tests.functional import test_allinone as aio_helpers

HOSTS = ('host-a', 'host-b')
TIMEOUT = 120
# One host's block of the serve output.
HOST_BLOCK = (r'^(?P<host>host-\w+) \(instance (?P<instance>i-\w+)\): '
              r'guest (?P<guest>\S+)\n'
              r'\s+libvirt: (?P<uri>\S+)\n'
              r'\s+serial console: (?P<console>\S+)\n\n'
              r'\s+(?P<attach>ebs-nova-shim .*) \\\n'
              r'\s+attach (?P=guest) <volume id>\n'
              r'\s+(?P<detach>ebs-nova-shim .*) \\\n'
              r'\s+detach (?P=guest) <volume id>\n')


def qemu_pids(guest_names):
    """PIDs of the QEMU processes that run the named guests."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if any(b'guest=%s,' % name.encode() in arg or
               arg == b'guest=%s' % name.encode()
               for arg in argv for name in guest_names):
            found.append(int(entry))
    return found


class ServeWithGuestsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        reason = guest_support.unavailable_reason()
        if reason:
            self.skipTest(reason)
        guest_mod.silence_libvirt_errors()

    def cinder(self, *args):
        cli = os.path.join(os.path.dirname(sys.executable), 'cinder')
        proc = subprocess.run([cli] + list(args), env=self.cli_env,
                              capture_output=True, text=True,
                              timeout=TIMEOUT)
        self.assertEqual(0, proc.returncode, '%s failed:\n%s%s' % (
            ' '.join(args), proc.stdout, proc.stderr))
        return proc.stdout

    def shim(self, printed, action, guest, volume):
        """Run a printed ebs-nova-shim command line; its JSON answer."""
        argv = shlex.split(printed)
        self.assertEqual('ebs-nova-shim', argv[0])
        script = os.path.join(os.path.dirname(sys.executable),
                              'ebs-nova-shim')
        if os.path.exists(script):
            argv[0] = script
        else:
            argv[:1] = [sys.executable, '-m', 'nova_shim.cmd']
        proc = subprocess.run(argv + [action, guest, volume],
                              capture_output=True, text=True,
                              timeout=TIMEOUT)
        self.assertEqual(0, proc.returncode, '%s %s failed:\n%s%s' % (
            printed, action, proc.stdout, proc.stderr))
        return json.loads(proc.stdout)

    def status(self, volume):
        return aio_helpers.table_value(self.cinder('show', volume), 'status')

    def wait_status(self, volume, status):
        deadline = time.monotonic() + TIMEOUT
        while True:
            got = self.status(volume)
            if got == status:
                return
            self.assertFalse(got.startswith('error'), got)
            self.assertLess(time.monotonic(), deadline,
                            'volume %s is %s, not %s' % (volume, got, status))
            time.sleep(0.3)

    @staticmethod
    def live_disk(host, volume):
        conn = libvirt.open(host['uri'])
        try:
            xml = conn.lookupByName(host['guest']).XMLDesc(0)
        finally:
            conn.close()
        return domain_disks.find_volume_disk(xml, volume)

    @staticmethod
    def wait_console(host, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(host['console'], errors='replace') as f:
                match = re.search(pattern, f.read())
            if match:
                return match
            time.sleep(0.05)
        with open(host['console'], errors='replace') as f:
            raise AssertionError('no %r on the console of %s:\n%s'
                                 % (pattern, host['guest'], f.read()))

    def test_attach_into_the_guests_of_two_hosts(self):
        aio = aio_helpers.AllInOneProcess('serve')
        self.addCleanup(aio.cleanup)
        self.addDetail('ebs-allinone-output', testtools.content.Content(
            testtools.content_type.UTF8_TEXT,
            lambda: [aio.output.encode()]))
        run_dir = aio.run_dir()
        url = aio.wait_for(r'Volume API: (\S+)').group(1)
        aio.wait_for(r'Press Ctrl-C to stop')
        self.assertNotIn('DEGRADED', aio.output)
        hosts = {m.group('host'): m.groupdict() for m in re.finditer(
            HOST_BLOCK, aio.output, re.M)}
        self.assertEqual(set(HOSTS), set(hosts), aio.output)
        pids = aio_helpers.descendants(aio.proc.pid) + [aio.proc.pid]
        pids += qemu_pids([h['guest'] for h in hosts.values()])
        self.assertGreaterEqual(len(pids), 8, 'emulator, Cinder, two '
                                'libvirtd, two virtlogd, two QEMU')
        for host in hosts.values():
            self.wait_console(host, r'EBS-GUEST-READY role=idle')
            self.assertIn('--user-id %s' % config.SERVICE_USER,
                          host['detach'])

        self.cli_env = dict(
            os.environ, OS_AUTH_TYPE='noauth', OS_USER_ID='admin',
            OS_PROJECT_ID=config.PROJECT_ID, CINDER_ENDPOINT=url,
            OS_VOLUME_API_VERSION='3.50')
        self.cinder('type-create', 'multiattach')
        self.cinder('type-key', 'multiattach', 'set',
                    aio_helpers.MULTIATTACH, 'ebs:performance_level=PL0')
        volume = aio_helpers.table_value(self.cinder(
            'create', '--volume-type', 'multiattach', '--name', 'shared',
            '1'), 'id')
        self.wait_status(volume, 'available')

        attachments = {}
        for name in HOSTS:
            host = hosts[name]
            result = self.shim(host['attach'], 'attach', host['guest'],
                               volume)
            attachments[name] = result['attachment_id']
            self.assertIn('/instances/%s/' % host['instance'],
                          result['device_path'])
            disk = self.live_disk(host, volume)
            self.assertIsNotNone(disk, '%s has no disk' % host['guest'])
            self.assertTrue(disk['shareable'])
            self.wait_console(host, r'EBS-GUEST-DISK vd\w+')
        self.assertEqual('in-use', self.status(volume))
        listed = self.cinder('attachment-list', '--volume-id', volume)
        for attachment in attachments.values():
            self.assertRegex(listed, r'%s\s*\|[^|]*\|\s*attached'
                             % attachment)

        for name in HOSTS:
            host = hosts[name]
            result = self.shim(host['detach'], 'detach', host['guest'],
                               volume)
            self.assertEqual(attachments[name], result['attachment_id'])
            self.assertIsNone(self.live_disk(host, volume))
            self.wait_console(host, r'EBS-GUEST-DISK-GONE vd\w+')
        self.wait_status(volume, 'available')
        self.cinder('delete', volume)
        deadline = time.monotonic() + TIMEOUT
        while volume in self.cinder('list'):
            self.assertLess(time.monotonic(), deadline, 'volume not deleted')
            time.sleep(0.3)
        self.cinder('type-delete', 'multiattach')

        self.assertEqual(0, aio.stop(signal.SIGINT), aio.output)
        self.assertIn('Clean shutdown', aio.output)
        running = [pid for pid in pids if not process.wait_gone(pid, 15)]
        self.assertEqual([], running, 'processes left behind')
        self.assertEqual([], leftovers.loop_devices_under(run_dir),
                         'loop devices left behind')
        for path in [run_dir] + [os.path.dirname(h['console'])
                                 for h in hosts.values()]:
            self.assertFalse(os.path.exists(path), '%s left behind' % path)
