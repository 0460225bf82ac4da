"""Rules that depend on transient statuses (slow transitions)."""

from alibabacloud_ecs20140526 import models as ecs_models

from tests.unit.emulator import base


class TransientStatusTest(base.SharedEmulatorTestCase):
    transition_delay = 1.0
    use_loop_devices = 'no'

    def test_creating_disk(self):
        disk_id = self.api.create_disk(wait=False)
        self.assertEqual('Creating', self.api.disk(disk_id)['Status'])
        self.assertEcsError('IncorrectDiskStatus', 403,
                            self.api.delete_disk, disk_id)
        self.assertEcsError('IncorrectDiskStatus', 403,
                            self.api.sdk.attach_disk,
                            ecs_models.AttachDiskRequest(
                                disk_id=disk_id, instance_id='i-emu0000'))
        self.api.wait_disk(disk_id, 'Available')
        self.api.delete_disk(disk_id)

    def test_attaching_and_detaching(self):
        disk_id = self.api.create_disk()
        self.api.attach(disk_id, 'i-emu0000', wait=False)
        disk = self.api.disk(disk_id)
        self.assertEqual(('Attaching', []), (
            disk['Status'], disk['Attachments']['Attachment']))
        detach = self.api.sdk.detach_disk
        request = ecs_models.DetachDiskRequest(disk_id=disk_id,
                                               instance_id='i-emu0000')
        self.assertEcsError('IncorrectDiskStatus', 403, detach, request)
        self.api.wait_disk(disk_id, 'In_use')
        detach(request)
        self.assertEqual('Detaching', self.api.disk(disk_id)['Status'])
        self.assertEcsError('InvalidOperation.DiskDetachingFromThisEcs',
                            403, detach, request)
        self.api.wait_disk(disk_id, 'Available')

    def test_progressing_snapshot(self):
        disk_id = self.api.create_disk()
        snapshot_id = self.api.create_snapshot(disk_id, wait=False)
        self.assertEqual('progressing',
                         self.api.snapshot(snapshot_id)['Status'])
        self.assertEcsError('IncorrectDiskStatus.CreatingSnapshot', 403,
                            self.api.sdk.create_snapshot,
                            ecs_models.CreateSnapshotRequest(disk_id=disk_id))
        self.assertEcsError('InvalidSnapshotId.NotReady', 403,
                            self.api.create_disk, snapshot_id=snapshot_id,
                            wait=False)
        self.assertEcsError('InvalidSnapshotId.NotReady', 403,
                            self.api.sdk.reset_disk,
                            ecs_models.ResetDiskRequest(
                                disk_id=disk_id, snapshot_id=snapshot_id))
        self.api.wait_for(lambda: self.api.snapshot(snapshot_id),
                          lambda snap: snap['Status'] == 'accomplished',
                          'snapshot')
        self.api.sdk.reset_disk(ecs_models.ResetDiskRequest(
            disk_id=disk_id, snapshot_id=snapshot_id))
        self.assertEqual('ReIniting', self.api.disk(disk_id)['Status'])
        self.api.wait_disk(disk_id, 'Available')
