"""Helpers for testing the emulator's actions through the official SDK."""

import os
import time

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import exceptions as sdk_exceptions
import testtools

from ebs_emulator import rules
from tests import emulator_fixture

MIB = 1024 * 1024
GIB = 1024 * MIB
WAIT_TIMEOUT = 20


def allocated_bytes(path):
    """Bytes really allocated on disk under path (file or directory)."""
    if os.path.isfile(path):
        return os.stat(path).st_blocks * 512
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


class EmulatorClient(object):
    """Small wrappers around the SDK calls the tests make over and over."""

    def __init__(self, test, emu):
        self.test = test
        self.emu = emu
        self.sdk = emu.sdk_client()
        self.region = emu.region_id
        self.zone = emu.zone_id

    # -- disks ----------------------------------------------------------------
    def create_disk(self, size=1, category='cloud_essd', level='PL0',
                    multi_attach=False, wait=True, **kw):
        request = ecs_models.CreateDiskRequest(
            region_id=self.region, zone_id=kw.pop('zone_id', self.zone),
            size=size, disk_category=category, performance_level=level,
            multi_attach='Enabled' if multi_attach else 'Disabled', **kw)
        disk_id = self.sdk.create_disk(request).body.disk_id
        if wait:
            self.wait_disk(disk_id, 'Available')
        return disk_id

    def disks(self, **kw):
        kw.setdefault('region_id', self.region)
        kw.setdefault('page_size', 100)
        body = self.sdk.describe_disks(
            ecs_models.DescribeDisksRequest(**kw)).body.to_map()
        return body

    def disk(self, disk_id):
        found = self.disks(disk_ids='["%s"]' % disk_id)['Disks']['Disk']
        return found[0] if found else None

    def wait_disk(self, disk_id, status):
        return self.wait_for(
            lambda: self.disk(disk_id),
            lambda disk: disk and disk['Status'] == status,
            'disk %s %s' % (disk_id, status))

    def attached_instances(self, disk_id):
        disk = self.disk(disk_id)
        return sorted(item['InstanceId']
                      for item in disk['Attachments']['Attachment'])

    def attach(self, disk_id, instance_id, wait=True):
        self.sdk.attach_disk(ecs_models.AttachDiskRequest(
            disk_id=disk_id, instance_id=instance_id))
        if wait:
            self.wait_for(lambda: self.attached_instances(disk_id),
                          lambda ids: instance_id in ids,
                          'attach %s to %s' % (disk_id, instance_id))

    def detach(self, disk_id, instance_id, wait=True):
        self.sdk.detach_disk(ecs_models.DetachDiskRequest(
            disk_id=disk_id, instance_id=instance_id))
        if wait:
            self.wait_for(lambda: self.attached_instances(disk_id),
                          lambda ids: instance_id not in ids,
                          'detach %s from %s' % (disk_id, instance_id))

    def delete_disk(self, disk_id):
        self.sdk.delete_disk(ecs_models.DeleteDiskRequest(disk_id=disk_id))

    def attach_once(self, disk_id):
        """Attach a disk to an instance of its zone and detach it again.

        ECS snapshots only disks that have been attached before.
        """
        disk = self.disk(disk_id)
        if disk['AttachedTime']:
            return
        instance_id = next(i['InstanceId'] for i in self.emu.instances
                           if i['ZoneId'] == disk['ZoneId'])
        self.attach(disk_id, instance_id)
        self.detach(disk_id, instance_id)

    # -- snapshots ------------------------------------------------------------
    def create_snapshot(self, disk_id, wait=True, attach_first=True, **kw):
        """Snapshot a disk (attached once first, unless told not to)."""
        if attach_first:
            self.attach_once(disk_id)
        snapshot_id = self.sdk.create_snapshot(
            ecs_models.CreateSnapshotRequest(disk_id=disk_id, **kw)
        ).body.snapshot_id
        if wait:
            self.wait_for(lambda: self.snapshot(snapshot_id),
                          lambda snap: snap['Status'] == 'accomplished',
                          'snapshot %s' % snapshot_id)
        return snapshot_id

    def snapshots(self, **kw):
        kw.setdefault('region_id', self.region)
        kw.setdefault('page_size', 100)
        return self.sdk.describe_snapshots(
            ecs_models.DescribeSnapshotsRequest(**kw)).body.to_map()

    def snapshot(self, snapshot_id):
        found = self.snapshots(
            snapshot_ids='["%s"]' % snapshot_id)['Snapshots']['Snapshot']
        return found[0] if found else None

    # -- data ---------------------------------------------------------------
    def device(self, disk_id, instance_id):
        return self.emu.device_path(instance_id, disk_id)

    def write(self, disk_id, instance_id, offset, data):
        fd = os.open(self.device(disk_id, instance_id), os.O_WRONLY)
        try:
            os.pwrite(fd, data, offset)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, disk_id, instance_id, offset, length):
        fd = os.open(self.device(disk_id, instance_id), os.O_RDONLY)
        try:
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)

    def disk_file(self, disk_id):
        return os.path.join(self.emu.state_dir, 'disks', '%s.img' % disk_id)

    def chunk_bytes(self):
        return allocated_bytes(os.path.join(self.emu.state_dir, 'chunks'))

    # -- misc ---------------------------------------------------------------
    def wait_for(self, fetch, done, what, timeout=WAIT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            value = fetch()
            if done(value):
                return value
            if time.monotonic() > deadline:
                self.test.fail('timed out waiting for %s (last: %r)'
                               % (what, value))
            time.sleep(0.02)


class EmulatorTestCase(testtools.TestCase):
    """Common settings and assertions."""

    use_loop_devices = 'auto'
    fuse_views = 'no'
    transition_delay = 0.05
    # The default reading of every disputed rule, whatever the environment.
    readings = rules.default_readings()

    def assertEcsError(self, code, status, func, *args, **kwargs):
        """Assert that an SDK call fails with this ECS code and status."""
        error = self.assertRaises(sdk_exceptions.ClientException, func,
                                  *args, **kwargs)
        self.assertEqual((code, status), (error.code, error.status_code),
                         error.message)
        self.assertTrue(error.request_id)
        return error


class SharedEmulatorTestCase(EmulatorTestCase,
                             emulator_fixture.EmulatorPerClassTestCase):
    """One emulator process for all the tests of a class."""

    @classmethod
    def emulator_kwargs(cls):
        return {'use_loop_devices': cls.use_loop_devices,
                'fuse_views': cls.fuse_views,
                'transition_delay': cls.transition_delay,
                'readings': cls.readings}

    def setUp(self):
        super().setUp()
        self.api = EmulatorClient(self, self.emu)


class OwnEmulatorTestCase(EmulatorTestCase):
    """A fresh emulator per test (for restarts or special settings)."""

    def setUp(self):
        super().setUp()
        self.emu = self.useFixture(self.make_fixture())
        self.api = EmulatorClient(self, self.emu)

    def make_fixture(self, **kw):
        kw.setdefault('use_loop_devices', self.use_loop_devices)
        kw.setdefault('fuse_views', self.fuse_views)
        kw.setdefault('transition_delay', self.transition_delay)
        kw.setdefault('readings', self.readings)
        return emulator_fixture.EmulatorFixture(**kw)
