"""Base class of the real libvirt tests.

Each test gets a private virtlogd + libvirtd, a connection to it, a
temporary directory, and on the way out a check that nothing is left:
no domain, no daemon or QEMU process, no loop device over the test's
files, no temporary file.
"""

import functools
import os
import shutil
import tempfile

import fixtures
import libvirt
import testtools

from ebs_allinone.hosts import guest_image
from ebs_allinone.hosts import guest_support
from nova_shim import guest
from nova_shim import host
from tests.libvirt import daemons
from tests.libvirt import guests
from tests.libvirt import volumes


class LibvirtTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        reason = guest_support.unavailable_reason()
        if reason:
            self.skipTest(reason)
        self.useFixture(fixtures.Timeout(
            int(os.environ.get('OS_TEST_TIMEOUT', 600)), gentle=True))
        host.init_privsep()
        guest.silence_libvirt_errors()

        self.workdir = tempfile.mkdtemp(prefix='ebs-libvirt-test-')
        self.addCleanup(self._assert_nothing_left)
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.processes = []
        self.backing_files = []

        self.libvirtd = self.useFixture(daemons.LibvirtDaemons(
            cache_dir=guest_image.qemu_cache_dir()))
        self.processes.extend(self.libvirtd.pids.items())
        self.libvirtd_root = self.libvirtd.root
        self.addDetail('libvirtd-log', testtools.content.Content(
            testtools.content_type.UTF8_TEXT,
            lambda: [self.libvirtd.read_log('libvirtd').encode()]))
        self.conn = libvirt.open(self.libvirtd.uri)
        self.addCleanup(self.conn.close)
        self.addCleanup(self._assert_no_domains)

    # -- helpers ---------------------------------------------------------
    def start_guests(self, *specs):
        """Boot guests side by side.

        Each spec is (role, volume_id, record), or (role, volume_id,
        record, {more guest arguments}). Returns the GuestFixtures once
        every guest runs its init.
        """
        started = []
        for spec in specs:
            role, volume_id, record = spec[:3]
            more = spec[3] if len(spec) > 3 else {}
            dom = self.useFixture(guests.GuestFixture(
                self.conn, self.libvirtd, self.workdir, role=role,
                volume_id=volume_id, record=record, wait=False, **more))
            self.processes.append(('qemu ' + dom.name, dom.qemu_pid))
            self.addDetail('console-' + dom.name,
                           testtools.content.Content(
                               testtools.content_type.UTF8_TEXT,
                               functools.partial(self._console, dom)))
            started.append(dom)
        for dom in started:
            dom.wait_ready()
            self.addDetail('boot-seconds-' + dom.name,
                           testtools.content.text_content(
                               '%.2f' % dom.boot_seconds))
        return started

    @staticmethod
    def _console(dom):
        return [dom.console().encode()]

    def loop_volume(self, name):
        vol = self.useFixture(volumes.LoopVolume(self.workdir, name))
        self.backing_files.append(vol.file)
        return vol

    def file_volume(self, name):
        vol = self.useFixture(volumes.FileVolume(self.workdir, name))
        self.backing_files.append(vol.file)
        return vol

    # -- the final checks --------------------------------------------------
    def _assert_no_domains(self):
        left = [dom.name() for dom in self.conn.listAllDomains()]
        self.assertEqual([], left, 'domains left behind')

    def _assert_nothing_left(self):
        running = ['%s (pid %d)' % (name, pid)
                   for name, pid in self.processes
                   if pid and not daemons.process_gone(pid)]
        self.assertEqual([], running, 'processes left behind')
        loops = {f: volumes.loop_devices_of(f) for f in self.backing_files}
        self.assertEqual({}, {f: d for f, d in loops.items() if d},
                         'loop devices left behind')
        for path in (self.workdir, self.libvirtd_root):
            self.assertFalse(os.path.exists(path), '%s left behind' % path)
