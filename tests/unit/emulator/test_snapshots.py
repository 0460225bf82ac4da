"""Snapshots, disks created from them and ResetDisk."""

import os
import re
import uuid

from alibabacloud_ecs20140526 import models as ecs_models

from tests.unit.emulator import base

MIB = base.MIB
SNAPSHOT_ID = re.compile(r'^s-[a-z0-9]{20}$')


class SnapshotTest(base.SharedEmulatorTestCase):

    def _disk_with_data(self, instance_id, data, offset=0, **kw):
        disk_id = self.api.create_disk(**kw)
        self.api.attach(disk_id, instance_id)
        self.api.write(disk_id, instance_id, offset, data)
        return disk_id

    def test_snapshot_lifecycle(self):
        disk_id = self.api.create_disk(size=1)
        snapshot_id = self.api.create_snapshot(
            disk_id, snapshot_name='nightly', description='before upgrade',
            tag=[ecs_models.CreateSnapshotRequestTag(
                key='cinder-snapshot-id', value='snap-1')])
        self.assertRegex(snapshot_id, SNAPSHOT_ID)
        snap = self.api.snapshot(snapshot_id)
        expected = {
            'SnapshotName': 'nightly', 'Description': 'before upgrade',
            'SourceDiskId': disk_id, 'SourceDiskSize': '1',
            'Status': 'accomplished', 'Progress': '100%',
            'Tags': {'Tag': [{'TagKey': 'cinder-snapshot-id',
                              'TagValue': 'snap-1'}]},
        }
        for key, value in expected.items():
            self.assertEqual(value, snap[key], key)
        self.assertTrue(snap['CreationTime'])
        self.assertEqual([snapshot_id], [
            s['SnapshotId'] for s in self.api.snapshots(
                disk_id=disk_id)['Snapshots']['Snapshot']])
        delete = self.api.sdk.delete_snapshot
        delete(ecs_models.DeleteSnapshotRequest(snapshot_id=snapshot_id))
        self.assertIsNone(self.api.snapshot(snapshot_id))
        # The default reading of delete-missing: ignored.
        delete(ecs_models.DeleteSnapshotRequest(snapshot_id=snapshot_id))

    def test_snapshot_errors_and_idempotency(self):
        disk_id = self.api.create_disk()
        create = self.api.sdk.create_snapshot
        self.assertEcsError('InvalidSnapshotName.Malformed', 400, create,
                            ecs_models.CreateSnapshotRequest(
                                disk_id=disk_id, snapshot_name='auto-x'))
        token = str(uuid.uuid4())
        first = self.api.create_snapshot(disk_id, client_token=token)
        again = self.api.create_snapshot(disk_id, client_token=token)
        self.assertEqual(first, again)
        self.assertEcsError('IdempotentParameterMismatch', 403, create,
                            ecs_models.CreateSnapshotRequest(
                                disk_id=disk_id, client_token=token,
                                snapshot_name='other'))
        describe = self.api.sdk.describe_snapshots
        self.assertEcsError('InvalidParameter', 400, describe,
                            ecs_models.DescribeSnapshotsRequest(
                                region_id=self.api.region,
                                snapshot_ids='[1, 2]'))

    def test_disk_from_snapshot_gets_the_data(self):
        data = os.urandom(3 * MIB)
        source = self._disk_with_data('i-emu0001', data, offset=5 * MIB,
                                      size=2, category='cloud_auto',
                                      level=None)
        snapshot_id = self.api.create_snapshot(source)
        # Later writes to the source do not change the snapshot.
        self.api.write(source, 'i-emu0001', 5 * MIB, b'\xff' * MIB)
        copy = self.api.create_disk(size=3, snapshot_id=snapshot_id,
                                    category='cloud_auto', level=None)
        disk = self.api.disk(copy)
        self.assertEqual((snapshot_id, 3),
                         (disk['SourceSnapshotId'], disk['Size']))
        self.api.attach(copy, 'i-emu0002')
        self.assertEqual(data,
                         self.api.read(copy, 'i-emu0002', 5 * MIB, 3 * MIB))
        self.assertEqual(bytes(MIB), self.api.read(copy, 'i-emu0002', 0,
                                                   MIB))
        # A smaller Size still gives a disk as big as the snapshot.
        small = self.api.create_disk(size=1, snapshot_id=snapshot_id,
                                     category='cloud_auto', level=None,
                                     wait=False)
        self.assertEqual(2, self.api.disk(small)['Size'])
        self.assertEqual('disk', self.api.snapshot(snapshot_id)['Usage'])

    def test_reset_disk_restores_the_snapshot(self):
        original = os.urandom(2 * MIB)
        disk_id = self._disk_with_data('i-emu0003', original)
        snapshot_id = self.api.create_snapshot(disk_id)
        self.api.write(disk_id, 'i-emu0003', 0, b'\x01' * 4 * MIB)
        reset = self.api.sdk.reset_disk
        request = ecs_models.ResetDiskRequest(disk_id=disk_id,
                                              snapshot_id=snapshot_id)
        self.assertEcsError('IncorrectDiskStatus', 403, reset, request)
        self.api.detach(disk_id, 'i-emu0003')
        self.api.wait_disk(disk_id, 'Available')
        reset(request)
        self.api.wait_disk(disk_id, 'Available')
        self.api.attach(disk_id, 'i-emu0003')
        self.assertEqual(original + bytes(2 * MIB),
                         self.api.read(disk_id, 'i-emu0003', 0, 4 * MIB))

        other = self.api.create_disk()
        self.assertEcsError('InvalidParameter.Mismatch', 403, reset,
                            ecs_models.ResetDiskRequest(
                                disk_id=other, snapshot_id=snapshot_id))
        self.assertEcsError('InvalidSnapshotId.NotFound', 404, reset,
                            ecs_models.ResetDiskRequest(
                                disk_id=other, snapshot_id='s-nothere'))

    def test_deleting_a_snapshot_keeps_the_others_whole(self):
        first_data = os.urandom(2 * MIB)
        disk_id = self._disk_with_data('i-emu0004', first_data)
        first = self.api.create_snapshot(disk_id)
        from_first = self.api.create_disk(snapshot_id=first, size=1,
                                          category='cloud_auto', level=None)
        second_data = os.urandom(MIB)
        self.api.write(disk_id, 'i-emu0004', MIB, second_data)
        second = self.api.create_snapshot(disk_id)
        self.api.sdk.delete_snapshot(
            ecs_models.DeleteSnapshotRequest(snapshot_id=first, force=True))

        from_second = self.api.create_disk(snapshot_id=second, size=1,
                                           category='cloud_auto', level=None)
        self.api.attach(from_second, 'i-emu0005')
        self.assertEqual(first_data[:MIB] + second_data,
                         self.api.read(from_second, 'i-emu0005', 0, 2 * MIB))
        self.api.attach(from_first, 'i-emu0005')
        self.assertEqual(first_data,
                         self.api.read(from_first, 'i-emu0005', 0, 2 * MIB))
