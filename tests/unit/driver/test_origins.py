"""Snapshots and clones of disks never attached, and shared snapshots.

ECS refuses CreateSnapshot for a disk never attached to an instance
(``IncorrectDiskStatus.NeverAttached``); the driver records what such a
disk was made from instead, and keeps an ECS snapshot while a Cinder
snapshot records it or a never-attached disk made from it needs it.
"""

from cinder import exception

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import naming
from cinder_ebs_driver import origins
from tests.unit.driver import fakes

SOURCE = 's-source0000000000001'


def never_attached_refusal():
    return ebs_exc.EBSIncorrectStatus(
        action='CreateSnapshot', code=origins.NEVER_ATTACHED,
        http_status=403)


class TestSnapshotOfNeverAttachedDisk(fakes.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.client.create_snapshot.side_effect = never_attached_refusal()

    def test_blank_disk_records_empty(self):
        self.client.get_disk.return_value = fakes.disk(attached_before=False)
        update = self.driver.create_snapshot(self.snapshot(provider_id=None))
        self.assertEqual({'provider_id': origins.EMPTY}, update)
        self.client.wait_for_snapshot.assert_not_called()
        self.client.attach_disk.assert_not_called()

    def test_disk_from_snapshot_records_that_snapshot(self):
        self.client.get_disk.return_value = fakes.disk(
            attached_before=False, source_snapshot=SOURCE)
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(SOURCE)
        update = self.driver.create_snapshot(self.snapshot(provider_id=None))
        self.assertEqual({'provider_id': SOURCE}, update)
        self.client.attach_disk.assert_not_called()

    def test_source_snapshot_gone_is_a_clear_error(self):
        self.client.get_disk.return_value = fakes.disk(
            attached_before=False, source_snapshot=SOURCE)
        self.client.get_snapshot.side_effect = ebs_exc.EBSNotFound(
            code='InvalidSnapshotId.NotFound')
        err = self.assertRaises(exception.InvalidVolume,
                                self.driver.create_snapshot,
                                self.snapshot(provider_id=None))
        self.assertIn('Attach the volume once', str(err))
        self.assertIn(SOURCE, str(err))

    def test_other_refusals_propagate(self):
        self.client.create_snapshot.side_effect = ebs_exc.EBSIncorrectStatus(
            code='IncorrectDiskStatus')
        self.assertRaises(ebs_exc.EBSIncorrectStatus,
                          self.driver.create_snapshot, self.snapshot())
        self.client.get_disk.assert_not_called()


class TestVolumesFromRecordedOrigins(fakes.DriverTestCase):

    def test_volume_from_empty_snapshot_is_blank(self):
        self.client.create_disk.return_value = 'd-new'
        self.client.wait_for_disk_status.return_value = fakes.disk('d-new')
        volume = self.volume(provider_id=None)
        self.driver.create_volume_from_snapshot(
            volume, self.snapshot(provider_id=origins.EMPTY))
        self.assertIsNone(
            self.client.create_disk.call_args.kwargs['snapshot_id'])

    def test_clone_of_never_attached_disk_from_its_origin(self):
        self.client.create_snapshot.side_effect = never_attached_refusal()
        self.client.get_disk.return_value = fakes.disk(
            attached_before=False, source_snapshot=SOURCE)
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(SOURCE)
        self.client.create_disk.return_value = 'd-new'
        self.client.wait_for_disk_status.return_value = fakes.disk(
            'd-new', size=2)
        volume = self.volume(id=fakes.uuid(5), provider_id=None, size=2)
        self.assertEqual({'provider_id': 'd-new'},
                         self.driver.create_cloned_volume(volume,
                                                          self.volume()))
        self.assertEqual(SOURCE, self.client.create_disk.call_args.kwargs[
            'snapshot_id'])
        self.client.attach_disk.assert_not_called()
        self.client.delete_snapshot.assert_not_called()

    def test_clone_of_blank_never_attached_disk_is_blank(self):
        self.client.create_snapshot.side_effect = never_attached_refusal()
        self.client.get_disk.return_value = fakes.disk(attached_before=False)
        self.client.create_disk.return_value = 'd-new'
        self.client.wait_for_disk_status.return_value = fakes.disk('d-new')
        volume = self.volume(id=fakes.uuid(5), provider_id=None)
        self.driver.create_cloned_volume(volume, self.volume())
        self.assertIsNone(
            self.client.create_disk.call_args.kwargs['snapshot_id'])

    def test_revert_never_attached_disk_to_its_origin_is_a_no_op(self):
        self.client.get_disk.return_value = fakes.disk(
            attached_before=False, source_snapshot=SOURCE)
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            SOURCE, disk_id='d-other')
        volume = self.volume()
        self.driver.revert_to_snapshot(
            self.ctxt, volume, self.snapshot(volume, provider_id=SOURCE))
        self.client.reset_disk.assert_not_called()

    def test_revert_to_recorded_origin_after_an_attach_is_generic(self):
        # ResetDisk takes only the disk's own snapshots: Cinder copies.
        self.client.get_disk.return_value = fakes.disk(
            source_snapshot=SOURCE)
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            SOURCE, disk_id='d-other')
        volume = self.volume()
        self.assertRaises(NotImplementedError,
                          self.driver.revert_to_snapshot, self.ctxt, volume,
                          self.snapshot(volume, provider_id=SOURCE))
        self.client.reset_disk.assert_not_called()


class TestRelease(fakes.DriverTestCase):

    def _ours(self, **tags):
        tags = tags or {naming.SNAPSHOT_TAG: fakes.uuid(9)}
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            SOURCE, tags=tags)

    def test_deleted_with_force_when_nothing_needs_it(self):
        self._ours()
        self.client.list_disks.return_value = [fakes.disk('d-made')]
        self.driver.delete_snapshot(self.snapshot(provider_id=SOURCE))
        self.client.delete_snapshot.assert_called_once_with(SOURCE,
                                                            force=True)

    def test_kept_while_another_cinder_snapshot_records_it(self):
        self._ours()
        self.snapshot_records[SOURCE] = [fakes.uuid(8)]
        self.driver.delete_snapshot(self.snapshot(provider_id=SOURCE))
        self.client.delete_snapshot.assert_not_called()
        # Its own deletion releases it; no retained tag needed.
        self.client.tag_snapshot.assert_not_called()

    def test_the_leaving_snapshot_does_not_count(self):
        self._ours()
        snapshot = self.snapshot(provider_id=SOURCE)
        self.snapshot_records[SOURCE] = [snapshot.id]
        self.driver.delete_snapshot(snapshot)
        self.client.delete_snapshot.assert_called_once_with(SOURCE,
                                                            force=True)

    def test_kept_and_tagged_while_a_never_attached_disk_needs_it(self):
        self._ours()
        self.client.list_disks.return_value = [fakes.disk(
            'd-made', attached_before=False, source_snapshot=SOURCE)]
        self.driver.delete_snapshot(self.snapshot(provider_id=SOURCE))
        self.client.delete_snapshot.assert_not_called()
        self.client.tag_snapshot.assert_called_once_with(
            SOURCE, {origins.RETAINED_TAG: 'true'})

    def test_a_snapshot_not_made_by_cinder_is_left_alone(self):
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(SOURCE)
        self.driver.delete_snapshot(self.snapshot(provider_id=SOURCE))
        self.client.delete_snapshot.assert_not_called()
        self.client.list_disks.assert_not_called()

    def test_empty_snapshot_needs_nothing_on_the_backend(self):
        self.driver.delete_snapshot(self.snapshot(provider_id=origins.EMPTY))
        self.client.get_snapshot.assert_not_called()
        self.client.delete_snapshot.assert_not_called()

    def test_clone_keeps_its_snapshot_while_the_clone_is_new(self):
        self.client.create_snapshot.return_value = 's-tmp'
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            's-tmp', tags={naming.CLONE_TAG: fakes.uuid(5)})
        self.client.create_disk.return_value = 'd-new'
        self.client.wait_for_disk_status.return_value = fakes.disk('d-new')
        self.client.list_disks.return_value = [fakes.disk(
            'd-new', attached_before=False, source_snapshot='s-tmp')]
        volume = self.volume(id=fakes.uuid(5), provider_id=None)
        self.driver.create_cloned_volume(volume, self.volume())
        self.client.delete_snapshot.assert_not_called()
        self.client.tag_snapshot.assert_called_once_with(
            's-tmp', {origins.RETAINED_TAG: 'true'})

    def test_deleting_a_clone_releases_its_snapshot(self):
        self.client.get_disk.return_value = fakes.disk(
            source_snapshot='s-tmp')
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            's-tmp', tags={naming.CLONE_TAG: fakes.uuid(5),
                           origins.RETAINED_TAG: 'true'})
        self.driver.delete_volume(self.volume(source_volid=fakes.uuid(6)))
        self.client.delete_disk.assert_called_once_with(fakes.DISK_ID)
        self.client.delete_snapshot.assert_called_once_with('s-tmp',
                                                            force=True)

    def test_sweep_releases_what_nothing_needs(self):
        kept = fakes.ebs_snapshot('s-kept', tags={origins.RETAINED_TAG: 't'})
        free = fakes.ebs_snapshot('s-free', tags={origins.RETAINED_TAG: 't'})
        self.client.list_snapshots.return_value = [kept, free]
        self.client.get_snapshot.side_effect = lambda snap_id: {
            's-kept': kept, 's-free': free}[snap_id]
        self.client.list_disks.side_effect = lambda **kw: (
            [fakes.disk('d-new', attached_before=False,
                        source_snapshot='s-kept')]
            if kw.get('source_snapshot_id') == 's-kept' else [])
        self.driver.get_volume_stats(refresh=True)
        self.client.list_snapshots.assert_called_once_with(
            tags={origins.RETAINED_TAG: None})
        self.client.delete_snapshot.assert_called_once_with('s-free',
                                                            force=True)
