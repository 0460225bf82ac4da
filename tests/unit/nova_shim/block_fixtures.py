"""Block device helpers for the nova_shim unit tests."""

import os
import shutil
import stat
import subprocess

import fixtures
import testtools


class TestCase(testtools.TestCase):
    """Base class that makes block devices and files for a test.

    Everything made is removed (loop devices detached) on cleanup; a test
    that needs what this machine cannot provide is skipped with the reason.
    """

    def tempdir(self):
        return self.useFixture(fixtures.TempDir()).path

    def regular_file(self, name='volume.img', size=1024 * 1024):
        path = os.path.join(self.tempdir(), name)
        with open(path, 'wb') as f:
            f.truncate(size)
        return path

    def block_node(self, name='blockdev'):
        """A block special file; nothing is attached to it.

        It only has to look like a block device to ``os.stat``.
        """
        path = os.path.join(self.tempdir(), name)
        try:
            os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(7, 250))
        except OSError as exc:
            self.skipTest('cannot create a block device node: %s' % exc)
        return path

    def loop_device(self, size=16 * 1024 * 1024):
        """A real loop device over a sparse temporary file."""
        losetup = shutil.which('losetup')
        if not losetup or os.geteuid() != 0:
            self.skipTest('loop devices need root and losetup')
        backing = self.regular_file('backing.img', size)
        try:
            out = subprocess.run([losetup, '--find', '--show', backing],
                                 check=True, capture_output=True, text=True,
                                 timeout=30)
        except (subprocess.SubprocessError, OSError) as exc:
            self.skipTest('cannot attach a loop device: %s' % exc)
        device = out.stdout.strip()
        self.addCleanup(subprocess.run, [losetup, '-d', device],
                        check=False, timeout=30)
        return device
