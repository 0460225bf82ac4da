"""ebs_emulator.devices: where attached disks appear on an instance."""

import os
from unittest import mock

import fixtures
import testtools

from ebs_emulator import devices


class FakeFuse(object):
    def __init__(self, root):
        self.root = root
        self.withdrawn = []

    def expose(self, disk_id, instance_id, serial, disk_file):
        return os.path.join(self.root, instance_id, serial)

    def withdraw(self, disk_id, instance_id, serial, detached):
        self.withdrawn.append((disk_id, instance_id))


class FakeLoops(object):
    def __init__(self, calls):
        self.calls = calls
        self.count = 0

    def attach(self, path):
        self.calls.append(('attach', path))
        self.count += 1
        return '/dev/loop%d' % self.count

    def detach(self, device):
        self.calls.append(('detach', device))

    def refresh_capacity(self, device):
        self.calls.append(('refresh', device))


class BlockInstancesTest(testtools.TestCase):
    """Loop devices over the FUSE views of the chosen instances."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.calls = []
        self.fuse = FakeFuse(os.path.join(self.dir, 'views'))
        with mock.patch.object(devices.DeviceExposer, '_start_fuse',
                               return_value=self.fuse):
            self.exposer = devices.DeviceExposer(
                self.dir, self.dir, block_instances=['i-copy'])
        self.exposer.loops = FakeLoops(self.calls)

    def test_a_block_instance_sees_a_loop_device_over_its_view(self):
        link = self.exposer.expose('d-one', 'i-copy', '/disks/d-one.img')
        self.assertEqual('/dev/loop1', os.readlink(link))
        self.assertEqual(
            [('attach', os.path.join(self.dir, 'views', 'i-copy', 'one'))],
            self.calls)
        self.exposer.refresh('d-one')
        self.exposer.withdraw('d-one', 'i-copy')
        self.assertEqual([('refresh', '/dev/loop1'),
                          ('detach', '/dev/loop1')], self.calls[1:])
        self.assertEqual([('d-one', 'i-copy')], self.fuse.withdrawn)
        self.assertFalse(os.path.lexists(link))

    def test_other_instances_see_their_view(self):
        link = self.exposer.expose('d-one', 'i-host', '/disks/d-one.img')
        self.assertEqual(os.path.join(self.dir, 'views', 'i-host', 'one'),
                         os.readlink(link))
        self.exposer.refresh('d-one')
        self.exposer.withdraw('d-one', 'i-host')
        self.assertEqual([], self.calls)
