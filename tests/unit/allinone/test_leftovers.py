"""Leftover detection with real processes, directories and loop devices."""

import os
import subprocess

import fixtures
import testtools

from ebs_allinone.hosts import libvirt_daemons
from ebs_allinone import leftovers


def _can_set_up_loop_devices():
    return (os.geteuid() == 0 and libvirt_daemons.find_binary('losetup')
            and os.path.exists('/dev/loop-control'))


class ProcessAndDirectoryTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def _sleeper(self):
        proc = subprocess.Popen(['sleep', '60'])

        def _end():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.addCleanup(_end)
        return proc

    def test_clean(self):
        proc = subprocess.Popen(['true'])
        proc.wait()
        gone = os.path.join(self.tmp, 'run')
        self.assertEqual([], leftovers.find({'emulator': proc.pid}, gone,
                                            directory_must_go=True))

    def test_running_process_is_a_leftover(self):
        proc = self._sleeper()
        left = leftovers.find({'cinder': proc.pid, 'never started': None},
                              self.tmp, directory_must_go=False)
        self.assertEqual(['process cinder (pid %d) is still running'
                          % proc.pid], left)

    def test_zombie_is_not_a_leftover(self):
        proc = subprocess.Popen(['true'])
        # Exited, not reaped yet: a zombie until wait().
        self.addCleanup(proc.wait)
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        self.assertEqual([], leftovers.find({'x': proc.pid}, self.tmp,
                                            directory_must_go=False))

    def test_leftovers_are_sorted_by_name(self):
        b = self._sleeper()
        a = self._sleeper()
        left = leftovers.find({'host-b libvirtd': b.pid,
                               'host-a libvirtd': a.pid}, self.tmp, False)
        self.assertEqual(
            ['process host-a libvirtd (pid %d) is still running' % a.pid,
             'process host-b libvirtd (pid %d) is still running' % b.pid],
            left)

    def test_directory_must_go(self):
        self.assertEqual(['directory %s is still there' % self.tmp],
                         leftovers.find({}, self.tmp, directory_must_go=True))

    def test_given_directory_may_stay(self):
        self.assertEqual([], leftovers.find({}, self.tmp,
                                            directory_must_go=False))

    def test_loop_devices_list_parses(self):
        # Whatever is set up on this machine parses into (device, file).
        for name, back in leftovers.loop_devices():
            self.assertTrue(name.startswith('/dev/loop'), name)
            self.assertFalse(back.endswith(leftovers.DELETED), back)


@testtools.skipUnless(_can_set_up_loop_devices(),
                      'setting up loop devices needs root and losetup')
class LoopDeviceTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # A space in the path, as a user's --state-dir may have.
        self.tmp = self.useFixture(fixtures.TempDir()).join('run dir')
        os.makedirs(self.tmp)
        self.image = os.path.join(self.tmp, 'emulator', 'disk.img')
        os.makedirs(os.path.dirname(self.image))
        with open(self.image, 'wb') as f:
            f.truncate(1024 * 1024)
        self.device = self._set_up(self.image)

    def _set_up(self, path):
        losetup = libvirt_daemons.find_binary('losetup')
        try:
            out = subprocess.run([losetup, '--find', '--show', path],
                                 capture_output=True, text=True,
                                 check=True)
        except subprocess.CalledProcessError as exc:
            self.skipTest('losetup cannot set up a loop device here: %s'
                          % exc.stderr.strip())
        device = out.stdout.strip()
        self.addCleanup(self._detach, device)
        return device

    def _detach(self, device):
        subprocess.run([libvirt_daemons.find_binary('losetup'), '--detach',
                        device], capture_output=True)

    def test_loop_device_below_the_directory(self):
        self.assertIn((self.device, self.image), leftovers.loop_devices())
        self.assertEqual(['%s (%s)' % (self.device, self.image)],
                         leftovers.loop_devices_under(self.tmp))
        self.assertEqual(
            ['loop device %s (%s) is still set up' % (self.device,
                                                      self.image)],
            leftovers.find({}, self.tmp, directory_must_go=False))

    def test_deleted_backing_file_still_counts(self):
        os.unlink(self.image)
        self.assertIn((self.device, self.image), leftovers.loop_devices())
        self.assertEqual(['%s (%s)' % (self.device, self.image)],
                         leftovers.loop_devices_under(self.tmp))

    def test_directory_given_with_trailing_slash_or_dots(self):
        for spelling in (self.tmp + '/', os.path.join(self.tmp, 'emulator',
                                                      '..')):
            self.assertEqual(['%s (%s)' % (self.device, self.image)],
                             leftovers.loop_devices_under(spelling))

    def test_sibling_directory_with_same_prefix_is_not_below(self):
        # "<tmp>/run dir" must not match "<tmp>/run dir2/...".
        sibling = self.tmp + '2'
        os.makedirs(sibling)
        self.assertEqual([], leftovers.loop_devices_under(sibling))
        other = os.path.join(sibling, 'x.img')
        with open(other, 'wb') as f:
            f.truncate(1024 * 1024)
        device = self._set_up(other)
        self.assertEqual(['%s (%s)' % (self.device, self.image)],
                         leftovers.loop_devices_under(self.tmp))
        self.assertEqual(['%s (%s)' % (device, other)],
                         leftovers.loop_devices_under(sibling))

    def test_detached_device_is_gone(self):
        self._detach(self.device)
        self.assertEqual([], leftovers.loop_devices_under(self.tmp))
        self.assertEqual([], leftovers.find({}, self.tmp, False))
