"""Test volumes: sparse files, and loop devices over them."""

import os
import subprocess

import fixtures

from ebs_allinone import leftovers
from tests.libvirt import daemons

SIZE = 64 * 1024 * 1024


def _losetup():
    return daemons.find_binary('losetup')


def loop_devices_of(backing_file):
    """Loop devices whose backing file is ``backing_file`` (even deleted)."""
    return [name for name, back in leftovers.loop_devices()
            if back == backing_file]


class FileVolume(fixtures.Fixture):
    """A sparse regular file; ``path`` is what the guest gets."""

    def __init__(self, directory, name, size=SIZE):
        super().__init__()
        self.file = os.path.join(directory, name + '.img')
        self.size = size

    def _setUp(self):
        with open(self.file, 'wb') as f:
            f.truncate(self.size)
        self.addCleanup(self._remove_file)
        self.path = self.file

    def _remove_file(self):
        if os.path.exists(self.file):
            os.unlink(self.file)

    def read(self, length=512, offset=0):
        with open(self.file, 'rb') as f:
            f.seek(offset)
            return f.read(length)


class LoopVolume(FileVolume):
    """A loop device over a sparse file; ``path`` is the loop device."""

    def _setUp(self):
        super()._setUp()
        out = subprocess.run([_losetup(), '--find', '--show',
                              self.file],
                             capture_output=True, text=True, check=True)
        self.path = out.stdout.strip()
        self.addCleanup(self._detach)

    def _detach(self):
        for dev in loop_devices_of(self.file):
            subprocess.run([_losetup(), '--detach', dev], check=True)
        left = loop_devices_of(self.file)
        if left:
            raise AssertionError('loop devices left over %s: %s'
                                 % (self.file, left))
