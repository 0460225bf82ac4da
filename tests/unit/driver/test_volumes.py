"""Creating, cloning and deleting volumes' disks, through the driver."""

from cinder import exception

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import naming
from tests.unit.driver import fakes

KEY_ID = fakes.KEY_ID


class TestCreateDelete(fakes.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.client.create_disk.return_value = fakes.DISK_ID
        self.client.wait_for_disk_status.return_value = fakes.disk()

    def test_create(self):
        volume = self.volume(provider_id=None, size=2,
                             extra_specs={'ebs:performance_level': 'PL0'})
        self.assertEqual({'provider_id': fakes.DISK_ID},
                         self.driver.create_volume(volume))
        kwargs = self.client.create_disk.call_args.kwargs
        self.assertEqual(volume.name, kwargs['name'])
        self.assertEqual(2, kwargs['size_gb'])
        self.assertEqual('cloud_essd', kwargs['category'])
        self.assertEqual('PL0', kwargs['performance_level'])
        self.assertTrue(kwargs['multi_attach'])
        self.assertEqual({naming.VOLUME_TAG: volume.id}, kwargs['tags'])
        self.assertIsNone(kwargs['snapshot_id'])
        token = kwargs['client_token']
        self.assertLessEqual(len(token), 64)
        self.assertIn(volume.id, token)
        self.client.wait_for_disk_status.assert_called_once_with(
            fakes.DISK_ID, ['Available'], transition='create')

    def test_create_migration_target_follows_its_type(self):
        # Cinder creates the target of a retype's migration with the
        # source's multiattach flag; the new type decides.
        volume = self.volume(provider_id=None, multiattach=False,
                             migration_status='target:%s' % fakes.uuid(2),
                             extra_specs={'multiattach': '<is> True'})
        self.assertEqual({'provider_id': fakes.DISK_ID, 'multiattach': True},
                         self.driver.create_volume(volume))
        self.assertTrue(
            self.client.create_disk.call_args.kwargs['multi_attach'])

    def test_create_trusts_volume_flag_otherwise(self):
        volume = self.volume(provider_id=None, multiattach=False,
                             extra_specs={'multiattach': '<is> True'})
        self.assertEqual({'provider_id': fakes.DISK_ID},
                         self.driver.create_volume(volume))
        self.assertFalse(
            self.client.create_disk.call_args.kwargs['multi_attach'])

    def test_create_token_deterministic(self):
        volume = self.volume(provider_id=None)
        self.driver.create_volume(volume)
        self.driver.create_volume(volume)
        first, second = self.client.create_disk.call_args_list
        self.assertEqual(first.kwargs['client_token'],
                         second.kwargs['client_token'])

    def test_client_token_limits(self):
        token = naming.client_token('k' * 80, 'x')
        self.assertLessEqual(len(token), 64)
        self.assertTrue(token.isascii())
        self.assertEqual(token, naming.client_token('k' * 80, 'x'))

    def test_create_invalid_spec_touches_nothing(self):
        volume = self.volume(extra_specs={'ebs:category': 'floppy'})
        self.assertRaises(exception.InvalidVolumeType,
                          self.driver.create_volume, volume)
        self.client.create_disk.assert_not_called()

    def test_create_encrypted_multiattach_refused(self):
        volume = self.volume(encryption_key_id=KEY_ID)
        err = self.assertRaises(exception.InvalidVolume,
                                self.driver.create_volume, volume)
        self.assertIn('encrypted', str(err))
        self.client.create_disk.assert_not_called()

    def test_create_encrypted_single_attach_allowed(self):
        volume = self.volume(encryption_key_id=KEY_ID, multiattach=False)
        self.driver.create_volume(volume)
        self.assertFalse(
            self.client.create_disk.call_args.kwargs['multi_attach'])

    def test_create_too_small_for_level(self):
        volume = self.volume(size=1,
                             extra_specs={'ebs:performance_level': 'PL1'})
        err = self.assertRaises(exception.InvalidInput,
                                self.driver.create_volume, volume)
        self.assertIn('at least 20 GiB', str(err))
        self.client.create_disk.assert_not_called()

    def test_create_wait_fails_deletes_disk(self):
        self.client.wait_for_disk_status.side_effect = ebs_exc.EBSTimeout(
            'available', 'Creating', 1)
        self.client.get_disk.return_value = fakes.disk()
        self.assertRaises(ebs_exc.EBSTimeout, self.driver.create_volume,
                          self.volume(provider_id=None))
        self.client.delete_disk.assert_called_once_with(fakes.DISK_ID)

    def test_create_after_rolled_back_attempt_uses_new_token(self):
        # A rescheduled create: the volume's token answers the disk of the
        # rolled-back attempt, which is gone.
        self.client.create_disk.side_effect = ['d-stale', 'd-new']
        self.client.wait_for_disk_status.side_effect = [
            ebs_exc.EBSNotFound(code='InvalidDiskId.NotFound'),
            fakes.disk('d-new')]
        volume = self.volume(provider_id=None)
        self.assertEqual('d-new',
                         self.driver.create_volume(volume)['provider_id'])
        first, second = [c.kwargs['client_token']
                         for c in self.client.create_disk.call_args_list]
        self.assertNotEqual(first, second)
        self.assertEqual(second, naming.client_token(
            'cinder-vol', '%s-d-stale' % volume.id))
        self.client.delete_disk.assert_not_called()

    def test_create_call_fails_removes_tagged_orphans(self):
        self.client.create_disk.side_effect = ebs_exc.EBSServerError(
            code='InternalError')
        self.client.list_disks.return_value = [fakes.disk('d-orphan')]
        self.client.get_disk.return_value = fakes.disk('d-orphan')
        volume = self.volume(provider_id=None)
        self.assertRaises(ebs_exc.EBSServerError, self.driver.create_volume,
                          volume)
        self.client.list_disks.assert_called_once_with(
            tags={naming.VOLUME_TAG: volume.id})
        self.client.delete_disk.assert_called_once_with('d-orphan')

    def _refusal(self):
        return ebs_exc.EBSBackendError(action='DeleteDisk',
                                       code='IncorrectDiskStatus')

    def test_delete(self):
        self.driver.delete_volume(self.volume())
        # No read before the call: DeleteDisk, then the wait.
        self.client.get_disk.assert_not_called()
        self.client.delete_disk.assert_called_once_with(fakes.DISK_ID)
        self.client.wait_for_disk_deleted.assert_called_once_with(
            fakes.DISK_ID)

    def test_delete_waits_for_creating_disk(self):
        # ECS refuses to delete a disk still being created (a timed-out
        # create being rolled back).
        self.client.delete_disk.side_effect = [self._refusal(), None]
        self.client.get_disk.return_value = fakes.disk(status='Creating')
        self.driver.delete_volume(self.volume())
        self.client.wait_for_disk_status.assert_called_once_with(
            fakes.DISK_ID, ['Available', 'In_use'])
        self.assertEqual(2, self.client.delete_disk.call_count)
        self.client.wait_for_disk_deleted.assert_called_once_with(
            fakes.DISK_ID)

    def test_delete_gone_is_deleted(self):
        self.client.delete_disk.side_effect = ebs_exc.EBSNotFound(code='x')
        self.driver.delete_volume(self.volume())
        self.client.get_disk.assert_not_called()
        self.client.wait_for_disk_deleted.assert_not_called()

    def test_delete_refused_then_gone_is_deleted(self):
        self.client.delete_disk.side_effect = self._refusal()
        self.client.get_disk.side_effect = ebs_exc.EBSNotFound(code='x')
        self.driver.delete_volume(self.volume())
        self.client.delete_disk.assert_called_once_with(fakes.DISK_ID)
        self.client.wait_for_disk_deleted.assert_not_called()

    def test_delete_refusal_with_no_cause_found_is_raised(self):
        refusal = self._refusal()
        self.client.delete_disk.side_effect = refusal
        self.client.get_disk.return_value = fakes.disk()
        raised = self.assertRaises(ebs_exc.EBSBackendError,
                                   self.driver.delete_volume, self.volume())
        self.assertIs(refusal, raised)
        self.client.delete_disk.assert_called_once_with(fakes.DISK_ID)

    def test_delete_without_provider_id_uses_tag(self):
        self.client.list_disks.return_value = []
        self.driver.delete_volume(self.volume(provider_id=None))
        self.client.delete_disk.assert_not_called()
        self.client.list_disks.return_value = [fakes.disk()]
        self.driver.delete_volume(self.volume(provider_id=None))
        self.client.delete_disk.assert_called_once_with(fakes.DISK_ID)

    def test_delete_detaches_leftovers(self):
        self.client.delete_disk.side_effect = [self._refusal(), None]
        self.client.get_disk.return_value = fakes.disk(
            instances=['i-1', 'i-2'])
        self.driver.delete_volume(self.volume())
        self.assertEqual(2, self.client.detach_disk.call_count)
        self.assertEqual(2, self.client.delete_disk.call_count)


class TestFromSnapshotAndClone(fakes.DriverTestCase):

    def test_create_from_snapshot_larger(self):
        self.client.create_disk.return_value = 'd-new'
        self.client.wait_for_disk_status.side_effect = [
            fakes.disk('d-new', size=1), fakes.disk('d-new', size=3)]
        volume = self.volume(provider_id=None, size=3)
        self.assertEqual({'provider_id': 'd-new'},
                         self.driver.create_volume_from_snapshot(
                             volume, self.snapshot()))
        kwargs = self.client.create_disk.call_args.kwargs
        self.assertEqual(fakes.SNAP_ID, kwargs['snapshot_id'])
        self.assertEqual(3, kwargs['size_gb'])
        self.client.resize_disk.assert_called_once_with('d-new', 3,
                                                        online=False)

    def test_create_from_snapshot_encrypted_multiattach(self):
        volume = self.volume(provider_id=None, encryption_key_id=KEY_ID)
        self.assertRaises(exception.InvalidVolume,
                          self.driver.create_volume_from_snapshot, volume,
                          self.snapshot())
        self.client.create_disk.assert_not_called()

    def test_clone_cleans_temporary_snapshot(self):
        self.client.create_snapshot.return_value = 's-tmp'
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            's-tmp', tags={naming.CLONE_TAG: fakes.uuid(5)})
        self.client.create_disk.return_value = 'd-new'
        self.client.wait_for_disk_status.return_value = fakes.disk('d-new')
        src = self.volume()
        volume = self.volume(id=fakes.uuid(5), provider_id=None)
        self.assertEqual({'provider_id': 'd-new'},
                         self.driver.create_cloned_volume(volume, src))
        self.assertEqual('s-tmp',
                         self.client.create_disk.call_args.kwargs[
                             'snapshot_id'])
        self.client.delete_snapshot.assert_called_once_with('s-tmp',
                                                            force=True)

    def test_clone_failure_still_cleans_snapshot(self):
        self.client.create_snapshot.return_value = 's-tmp'
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            's-tmp', tags={naming.CLONE_TAG: fakes.uuid(5)})
        self.client.create_disk.side_effect = ebs_exc.EBSQuotaExceeded(
            code='QuotaExceed.Disk')
        volume = self.volume(id=fakes.uuid(5), provider_id=None)
        self.assertRaises(ebs_exc.EBSQuotaExceeded,
                          self.driver.create_cloned_volume, volume,
                          self.volume())
        self.client.delete_snapshot.assert_called_once_with('s-tmp',
                                                            force=True)

    def test_clone_encrypted_multiattach(self):
        volume = self.volume(provider_id=None, encryption_key_id=KEY_ID)
        self.assertRaises(exception.InvalidVolume,
                          self.driver.create_cloned_volume, volume,
                          self.volume())
        self.client.create_snapshot.assert_not_called()
