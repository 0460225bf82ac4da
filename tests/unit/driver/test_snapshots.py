"""Creating and deleting snapshots, through the driver."""

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import naming
from tests.unit.driver import fakes


class TestSnapshots(fakes.DriverTestCase):

    def test_create_snapshot(self):
        self.client.create_snapshot.return_value = fakes.SNAP_ID
        snapshot = self.snapshot(provider_id=None)
        self.assertEqual({'provider_id': fakes.SNAP_ID},
                         self.driver.create_snapshot(snapshot))
        args = self.client.create_snapshot.call_args
        self.assertEqual(fakes.DISK_ID, args.args[0])
        self.assertEqual({naming.SNAPSHOT_TAG: snapshot.id},
                         args.kwargs['tags'])
        self.assertIn(snapshot.id, args.kwargs['client_token'])
        self.client.wait_for_snapshot.assert_called_once_with(fakes.SNAP_ID)

    def test_create_snapshot_fails_deletes_it(self):
        self.client.create_snapshot.return_value = fakes.SNAP_ID
        self.client.wait_for_snapshot.side_effect = ebs_exc.EBSBackendError(
            code='SnapshotFailed')
        self.assertRaises(ebs_exc.EBSBackendError,
                          self.driver.create_snapshot, self.snapshot())
        self.client.delete_snapshot.assert_called_once_with(fakes.SNAP_ID,
                                                            force=True)

    def test_delete_snapshot_idempotent(self):
        self.client.get_snapshot.side_effect = ebs_exc.EBSNotFound(code='x')
        self.driver.delete_snapshot(self.snapshot())
        self.client.delete_snapshot.assert_not_called()

    def test_delete_snapshot_forces(self):
        # ECS refuses to delete a snapshot disks were made from without
        # Force; Cinder's volumes made from it keep their data.
        snapshot = self.snapshot()
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            tags={naming.SNAPSHOT_TAG: snapshot.id})
        self.client.list_disks.return_value = [fakes.disk('d-made')]
        self.driver.delete_snapshot(snapshot)
        self.client.list_disks.assert_called_once_with(
            source_snapshot_id=fakes.SNAP_ID)
        self.client.delete_snapshot.assert_called_once_with(fakes.SNAP_ID,
                                                            force=True)
