"""Thin data: sparse disk files and incremental snapshots, measured in
bytes really allocated on the file system."""

import os

from alibabacloud_ecs20140526 import models as ecs_models

from tests.unit.emulator import base

MIB = base.MIB
# File systems may allocate a little metadata or round up.
SLACK = 256 * 1024


class ThinDataTest(base.OwnEmulatorTestCase):

    def assertAbout(self, expected, actual):
        self.assertTrue(expected <= actual <= expected + SLACK,
                        'expected about %d bytes, got %d' % (expected,
                                                             actual))

    def test_disk_files_are_sparse(self):
        disk_id = self.api.create_disk(size=100, category='cloud_auto',
                                       level=None)
        path = self.api.disk_file(disk_id)
        self.assertEqual(100 * base.GIB, os.path.getsize(path))
        self.assertLess(base.allocated_bytes(path), SLACK)
        self.api.sdk.resize_disk(ecs_models.ResizeDiskRequest(
            disk_id=disk_id, new_size=200))
        self.assertEqual(200 * base.GIB, os.path.getsize(path))
        self.assertLess(base.allocated_bytes(path), SLACK)
        # An empty disk's snapshot stores nothing.
        self.api.create_snapshot(disk_id)
        self.assertEqual(0, self.api.chunk_bytes())
        self.api.delete_disk(disk_id)
        self.assertFalse(os.path.exists(path))

    def test_snapshots_store_only_changed_chunks(self):
        disk_id = self.api.create_disk(size=1)
        self.api.attach(disk_id, 'i-emu0000')
        self.api.write(disk_id, 'i-emu0000', 0, os.urandom(2 * MIB))
        self.assertAbout(2 * MIB,
                         base.allocated_bytes(self.api.disk_file(disk_id)))

        first = self.api.create_snapshot(disk_id)
        self.assertAbout(2 * MIB, self.api.chunk_bytes())

        self.api.write(disk_id, 'i-emu0000', MIB, os.urandom(MIB))
        second = self.api.create_snapshot(disk_id)
        self.assertAbout(3 * MIB, self.api.chunk_bytes())

        # Nothing changed: the third snapshot costs nothing.
        third = self.api.create_snapshot(disk_id)
        self.assertAbout(3 * MIB, self.api.chunk_bytes())

        # Deleting frees only what no other snapshot uses.
        delete = self.api.sdk.delete_snapshot
        delete(ecs_models.DeleteSnapshotRequest(snapshot_id=first))
        self.assertAbout(2 * MIB, self.api.chunk_bytes())
        delete(ecs_models.DeleteSnapshotRequest(snapshot_id=third))
        self.assertAbout(2 * MIB, self.api.chunk_bytes())
        delete(ecs_models.DeleteSnapshotRequest(snapshot_id=second))
        self.assertEqual(0, self.api.chunk_bytes())

    def test_restored_disk_is_thin(self):
        disk_id = self.api.create_disk(size=1)
        self.api.attach(disk_id, 'i-emu0000')
        self.api.write(disk_id, 'i-emu0000', 512 * MIB, os.urandom(MIB))
        snapshot_id = self.api.create_snapshot(disk_id)
        copy = self.api.create_disk(size=50, snapshot_id=snapshot_id,
                                    category='cloud_auto', level=None)
        self.assertAbout(MIB, base.allocated_bytes(self.api.disk_file(copy)))
