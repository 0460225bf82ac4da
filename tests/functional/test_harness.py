"""The test harness's own backend reads."""

import time

from alibabacloud_ecs20140526 import models as ecs_models
import testtools

from tests import emulator_fixture
from tests.functional import cinder_harness

# More than one page of the harness's reads (100 items).
COUNT = 103


class EveryPageTestCase(testtools.TestCase):
    """The backend-clean check sees leftovers past the first page."""

    def setUp(self):
        super().setUp()
        self.emulator = self.useFixture(
            emulator_fixture.EmulatorFixture(transition_delay=0,
                                             num_instances=1))
        self.ecs = self.emulator.sdk_client()

    def _wait_status(self, disk_id, status):
        deadline = time.monotonic() + 30
        while self.ecs.describe_disks(ecs_models.DescribeDisksRequest(
                region_id=self.emulator.region_id,
                disk_ids='["%s"]' % disk_id)).body.disks.disk[0].status \
                != status:
            self.assertLess(time.monotonic(), deadline, disk_id)
            time.sleep(0.01)

    def test_disks_and_snapshots_past_the_first_page(self):
        region = self.emulator.region_id
        disk_ids = [self.ecs.create_disk(ecs_models.CreateDiskRequest(
            region_id=region, zone_id=self.emulator.zone_id, size=1,
            disk_category='cloud_essd', performance_level='PL0',
            disk_name='d%d' % n)).body.disk_id
            for n in range(COUNT)]
        # ECS snapshots only disks that were attached before.
        instance_id = self.emulator.instances[0]['InstanceId']
        for disk_id in disk_ids:
            self.ecs.attach_disk(ecs_models.AttachDiskRequest(
                disk_id=disk_id, instance_id=instance_id))
            self._wait_status(disk_id, 'In_use')
            self.ecs.detach_disk(ecs_models.DetachDiskRequest(
                disk_id=disk_id, instance_id=instance_id))
            self._wait_status(disk_id, 'Available')
        snapshot_ids = [self.ecs.create_snapshot(
            ecs_models.CreateSnapshotRequest(disk_id=disk_id)).body.snapshot_id
            for disk_id in disk_ids]

        disks = cinder_harness.every_page(
            self.ecs.describe_disks, region,
            ecs_models.DescribeDisksRequest, 'Disks', 'Disk')
        snapshots = cinder_harness.every_page(
            self.ecs.describe_snapshots, region,
            ecs_models.DescribeSnapshotsRequest, 'Snapshots', 'Snapshot')

        self.assertEqual(sorted(disk_ids), sorted(d['DiskId'] for d in disks))
        self.assertEqual(sorted(snapshot_ids),
                         sorted(s['SnapshotId'] for s in snapshots))
