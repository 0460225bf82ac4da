"""The test harness's own backend reads."""

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

    def test_disks_and_snapshots_past_the_first_page(self):
        region = self.emulator.region_id
        disk_ids = [self.ecs.create_disk(ecs_models.CreateDiskRequest(
            region_id=region, zone_id=self.emulator.zone_id, size=1,
            disk_category='cloud_essd', performance_level='PL0',
            disk_name='d%d' % n)).body.disk_id
            for n in range(COUNT)]
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
