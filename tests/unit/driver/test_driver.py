"""EBSVolumeDriver operations against a mocked backend client."""

import threading
from unittest import mock

from cinder import exception
import ddt

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import naming
from tests.unit.driver import fakes

KEY_ID = fakes.uuid(99)


class TestSetup(fakes.DriverTestCase):

    def test_check_for_setup_error_ok(self):
        self.driver.check_for_setup_error()

    def test_check_for_setup_error_missing(self):
        self.flags_backend(ebs_zone_id='', ebs_access_key_secret=None)
        err = self.assertRaises(exception.VolumeDriverException,
                                self.driver.check_for_setup_error)
        self.assertIn('ebs_zone_id', str(err))
        self.assertIn('ebs_access_key_secret', str(err))

    def test_check_for_setup_error_without_keys_for_ecs_ram_role(self):
        self.flags_backend(ebs_credential_type='ecs_ram_role',
                           ebs_access_key_id=None,
                           ebs_access_key_secret=None)
        self.driver.check_for_setup_error()

    def test_check_for_setup_error_options_of_the_type(self):
        self.flags_backend(ebs_credential_type='ram_role_arn')
        err = self.assertRaises(exception.VolumeDriverException,
                                self.driver.check_for_setup_error)
        self.assertIn('ebs_role_arn', str(err))
        self.assertIn('ram_role_arn', str(err))

    def test_check_for_setup_error_bad_template(self):
        self.flags_backend(ebs_device_path_template='/dev/{nope}')
        self.assertRaises(exception.InvalidConfigurationValue,
                          self.driver.check_for_setup_error)

    @mock.patch('cinder_ebs_driver.client.EBSClient')
    def test_do_setup_creates_client(self, client_cls):
        self.driver.do_setup(self.ctxt)
        client_cls.assert_called_once_with(self.configuration)
        self.assertIs(client_cls.return_value, self.driver.client)

    def test_validate_connector(self):
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1'})
        self.driver.validate_connector({'host': 'h1'})
        self.assertRaises(exception.InvalidConnectorException,
                          self.driver.validate_connector, {'host': 'h9'})
        self.assertRaises(exception.InvalidConnectorException,
                          self.driver.validate_connector, {})


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


class TestConnection(fakes.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.flags_backend(
            ebs_host_instance_map={'h1': 'i-1'},
            ebs_device_path_template='/x/{instance_id}/{host}/{serial}')

    def test_initialize_connection(self):
        self.client.get_disk.return_value = fakes.disk()
        volume = self.volume()
        info = self.driver.initialize_connection(
            volume, {'host': 'h1', 'mode': 'rw'})
        self.client.attach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')
        self.assertEqual('local', info['driver_volume_type'])
        self.assertEqual({
            'device_path': '/x/i-1/h1/%s' % fakes.DISK_ID[2:],
            'disk_id': fakes.DISK_ID,
            'volume_id': volume.id,
            'instance_id': 'i-1',
            'access_mode': 'rw',
            'discard': True,
            'multiattach': True,
        }, info['data'])

    def test_second_attachment_on_a_host_reads_and_sends_nothing(self):
        # The disk is read, not assumed attached: the other attachment's
        # detach may have run in between (its record is updated later).
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        volume = self.volume(attachments=[
            self.attachment('h1', attachment_id=fakes.uuid(1)),
            self.attachment('h1', status='attaching',
                            attachment_id=fakes.uuid(2))])
        info = self.driver.initialize_connection(volume, {'host': 'h1'})
        self.assertEqual('i-1', info['data']['instance_id'])
        self.client.get_disk.assert_called_once_with(fakes.DISK_ID)
        self.client.attach_disk.assert_not_called()
        self.client.wait_for_attachment.assert_not_called()

    def test_second_attachment_after_the_host_was_detached(self):
        self.client.get_disk.return_value = fakes.disk(instances=[])
        volume = self.volume(attachments=[
            self.attachment('h1', attachment_id=fakes.uuid(1))])
        self.driver.initialize_connection(volume, {'host': 'h1'})
        self.client.attach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')
        self.client.wait_for_attachment.assert_called_once_with(
            fakes.DISK_ID, 'i-1', attached=True)

    def test_attachments_elsewhere_or_in_progress_still_attach(self):
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1', 'h2': 'i-2'})
        volume = self.volume(attachments=[
            self.attachment('h2', attachment_id=fakes.uuid(1)),
            self.attachment('h1', status='attaching',
                            attachment_id=fakes.uuid(2))])
        self.driver.initialize_connection(volume, {'host': 'h1'})
        self.client.attach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')

    def test_initialize_connection_read_only(self):
        # Already attached there: ECS refuses the attach, the disk says
        # why, and the connection is answered.
        self.client.attach_disk.side_effect = ebs_exc.EBSIncorrectStatus(
            code='IncorrectDiskStatus')
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        info = self.driver.initialize_connection(
            self.volume(multiattach=False), {'host': 'h1', 'mode': 'ro'})
        self.assertEqual('ro', info['data']['access_mode'])
        self.assertFalse(info['data']['multiattach'])
        self.client.wait_for_attachment.assert_not_called()

    def test_initialize_connection_unmappable(self):
        self.assertRaises(exception.InvalidConnectorException,
                          self.driver.initialize_connection, self.volume(),
                          {'host': 'nowhere'})
        self.client.attach_disk.assert_not_called()

    def _lock_names(self, *calls):
        with mock.patch('cinder.coordination.COORDINATOR.get_lock') as lock:
            for call in calls:
                call()
        return [c.args[0] for c in lock.call_args_list]

    def test_attach_and_detach_lock_the_volume_on_one_host(self):
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1', 'h2': 'i-2'})
        volume = self.volume()
        names = self._lock_names(
            lambda: self.driver.initialize_connection(volume, {'host': 'h1'}),
            lambda: self.driver.initialize_connection(volume, {'host': 'h2'}),
            lambda: self.driver.terminate_connection(volume, {'host': 'h1'}))
        self.assertEqual(['ebs-%s-host-h1' % volume.id,
                          'ebs-%s-host-h2' % volume.id,
                          'ebs-%s-host-h1' % volume.id], names)

    def test_host_limit_below_ecs_locks_the_volume_too(self):
        self.flags_backend(ebs_max_attach_hosts=4)
        self.client.get_disk.return_value = fakes.disk()
        volume = self.volume()
        names = self._lock_names(
            lambda: self.driver.initialize_connection(volume, {'host': 'h1'}),
            lambda: self.driver.terminate_connection(volume, {'host': 'h1'}))
        self.assertEqual(['ebs-%s-host-h1' % volume.id, 'ebs-%s' % volume.id,
                          'ebs-%s-host-h1' % volume.id], names)

    def test_force_detach_and_delete_lock_the_whole_volume(self):
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        volume = self.volume()
        names = self._lock_names(
            lambda: self.driver.terminate_connection(volume, None),
            lambda: self.driver.delete_volume(volume))
        self.assertEqual(['ebs-%s' % volume.id] * 2, names)

    def test_host_lock_when_another_attachment_keeps_the_host(self):
        volume = self.volume(attachments=[
            self.attachment('h1', attachment_id=fakes.uuid(1)),
            self.attachment('h1', attachment_id=fakes.uuid(2))])
        names = self._lock_names(
            lambda: self.driver.terminate_connection(volume, {'host': 'h1'}))
        self.assertEqual(['ebs-%s-host-h1' % volume.id], names)
        self.client.detach_disk.assert_not_called()


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


@ddt.ddt
class TestExtendRevertRetype(fakes.DriverTestCase):

    @ddt.data(([], False, 'Available'), (['i-1'], True, 'In_use'))
    @ddt.unpack
    def test_extend(self, instances, online, status):
        self.client.get_disk.return_value = fakes.disk(instances=instances,
                                                       multiattach=False)
        self.client.wait_for_disk_status.return_value = fakes.disk(size=5)
        self.driver.extend_volume(self.volume(), 5)
        self.client.resize_disk.assert_called_once_with(fakes.DISK_ID, 5,
                                                        online=online)
        self.client.wait_for_disk_status.assert_called_once_with(
            fakes.DISK_ID, [status])

    def test_extend_attached_multiattach_online(self):
        # The ResizeDisk description: multi-attach disks resize online.
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        self.client.wait_for_disk_status.return_value = fakes.disk(size=5)
        volume = self.volume(attachments=[self.attachment('h1')])
        self.driver.extend_volume(volume, 5)
        self.client.resize_disk.assert_called_once_with(fakes.DISK_ID, 5,
                                                        online=True)
        self.client.detach_disk.assert_not_called()

    def test_extend_attached_multiattach_refused_by_ecs(self):
        # The ResizeDisk error table's reading: ECS refuses it.
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        self.client.resize_disk.side_effect = ebs_exc.EBSBackendError(
            code='InvalidOperation.MultiAttachDiskNotSupportResizeOnline',
            request_id='REQ-1')
        volume = self.volume(attachments=[self.attachment('h1')])
        err = self.assertRaises(exception.InvalidVolume,
                                self.driver.extend_volume, volume, 5)
        self.assertIn('Detach it from every host', str(err))
        self.assertIn('REQ-1', str(err))
        self.client.detach_disk.assert_not_called()

    def test_extend_detaches_what_cinder_detached_first(self):
        # No attachment holds a host, yet ECS lists one: the last ones on
        # that host went at the same moment and its re-check is pending.
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        self.client.wait_for_disk_status.return_value = fakes.disk(size=5)
        volume = self.volume(attachments=[self.attachment('h1',
                                                          status='detached')])
        self.driver.extend_volume(volume, 5)
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')
        self.client.resize_disk.assert_called_once_with(fakes.DISK_ID, 5,
                                                        online=False)

    def test_revert(self):
        self.client.get_disk.return_value = fakes.disk()
        self.client.get_snapshot.return_value = fakes.ebs_snapshot()
        volume = self.volume()
        self.driver.revert_to_snapshot(self.ctxt, volume,
                                       self.snapshot(volume))
        self.client.reset_disk.assert_called_once_with(fakes.DISK_ID,
                                                       fakes.SNAP_ID)

    def test_revert_attached_refused(self):
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        self.assertRaises(exception.InvalidVolume,
                          self.driver.revert_to_snapshot, self.ctxt,
                          self.volume(), self.snapshot())
        self.client.reset_disk.assert_not_called()

    def _retype(self, disk, specs, diff=None, volume=None):
        self.client.get_disk.return_value = disk
        new_type = {'id': fakes.uuid(7), 'extra_specs': specs}
        return self.driver.retype(self.ctxt, volume or self.volume(),
                                  new_type, diff or {}, {'host': 'x'})

    @ddt.unpack
    @ddt.data(
        # (disk multiattach, category, level), new specs, result, modify
        ((False, 'cloud_essd', 'PL0'),
         {'ebs:performance_level': 'PL1'},
         True, {'performance_level': 'PL1', 'category': None}),
        ((False, 'cloud_essd', 'PL0'), {'ebs:category': 'cloud_auto'},
         True, {'performance_level': None, 'category': 'cloud_auto'}),
        # A multi-attach disk keeps its category and level (the
        # multi-attach guide's restrictions): migrate.
        ((True, 'cloud_essd', 'PL0'),
         {'multiattach': '<is> True', 'ebs:performance_level': 'PL1'},
         False, None),
        ((True, 'cloud_essd', 'PL0'),
         {'multiattach': '<is> True', 'ebs:category': 'cloud_auto'},
         False, None),
        ((True, 'cloud_essd', 'PL0'), {'multiattach': '<is> True'},
         True, None),
        # Multi-attach toggles: migrate.
        ((True, 'cloud_essd', 'PL0'), {}, False, None),
        ((False, 'cloud_essd', 'PL0'), {'multiattach': '<is> True'},
         False, None),
        # Regional category: new disk needed.
        ((False, 'cloud_essd', 'PL0'),
         {'ebs:category': 'cloud_regional_disk_auto'}, False, None),
    )
    def test_retype(self, disk, specs, result, modify):
        multi, category, level = disk
        self.assertEqual(result, self._retype(
            fakes.disk(multiattach=multi, category=category, level=level),
            specs))
        if modify:
            self.client.modify_disk_spec.assert_called_once_with(
                fakes.DISK_ID, provisioned_iops=None, **modify)
        else:
            self.client.modify_disk_spec.assert_not_called()

    def test_retype_invalid_specs(self):
        self.assertRaises(exception.InvalidVolumeType, self._retype,
                          fakes.disk(), {'ebs:performance_level': 'PL7'})

    def test_retype_encryption_change_migrates(self):
        self.assertFalse(self._retype(
            fakes.disk(multiattach=False), {},
            diff={'encryption': {'provider': ('a', 'b')}},
            volume=self.volume(multiattach=False)))

    @mock.patch('cinder.volume.volume_types.is_encrypted',
                return_value=True)
    def test_retype_multiattach_encrypted_refused(self, is_encrypted):
        self.assertRaises(exception.InvalidVolume, self._retype,
                          fakes.disk(), {'multiattach': '<is> True'})
        self.client.modify_disk_spec.assert_not_called()

    def test_update_migrated_volume(self):
        volume = self.volume()
        new = self.volume(id=fakes.uuid(3), provider_id='d-new')
        update = self.driver.update_migrated_volume(self.ctxt, volume, new,
                                                    'available')
        # Cinder swaps provider_id itself; returning it would undo that.
        self.assertEqual({'_name_id': None}, update)
        self.client.tag_disk.assert_called_once_with(
            'd-new', {naming.VOLUME_TAG: volume.id})


class TestManage(fakes.DriverTestCase):

    def test_manage_by_id(self):
        self.client.get_disk.return_value = fakes.disk(name='old')
        volume = self.volume(provider_id=None)
        self.assertEqual({'provider_id': fakes.DISK_ID},
                         self.driver.manage_existing(
                             volume, {'source-id': fakes.DISK_ID}))
        self.client.modify_disk_attribute.assert_called_once_with(
            fakes.DISK_ID, name=volume.name, description=mock.ANY)
        self.client.tag_disk.assert_called_once_with(
            fakes.DISK_ID, {naming.VOLUME_TAG: volume.id})

    def test_manage_by_name_and_size(self):
        self.client.list_disks.return_value = [
            fakes.disk(name='mine', size=7), fakes.disk('d-2', name='b')]
        volume = self.volume(provider_id=None)
        self.assertEqual(7, self.driver.manage_existing_get_size(
            volume, {'source-name': 'mine'}))

    def test_manage_refusals(self):
        volume = self.volume(provider_id=None)
        cases = [
            (fakes.disk(instances=['i-1']), 'attached'),
            (fakes.disk(tags={naming.VOLUME_TAG: 'other'}),
             'already belongs'),
            (fakes.disk(status='Creating'), 'not Available'),
            (fakes.disk(zone='other-zone'), 'in zone'),
        ]
        for disk, text in cases:
            self.client.get_disk.return_value = disk
            err = self.assertRaises(exception.ManageExistingInvalidReference,
                                    self.driver.manage_existing, volume,
                                    {'source-id': fakes.DISK_ID})
            self.assertIn(text, str(err))
        self.client.tag_disk.assert_not_called()

    def test_manage_bad_refs(self):
        volume = self.volume(provider_id=None)
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing, volume, {})
        self.client.get_disk.side_effect = ebs_exc.EBSNotFound(code='x')
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing, volume,
                          {'source-id': 'd-x'})
        self.client.list_disks.return_value = [fakes.disk(name='n'),
                                               fakes.disk('d-2', name='n')]
        err = self.assertRaises(exception.ManageExistingInvalidReference,
                                self.driver.manage_existing, volume,
                                {'source-name': 'n'})
        self.assertIn('have that name', str(err))

    def test_manage_type_mismatch(self):
        self.client.get_disk.return_value = fakes.disk(multiattach=False)
        self.assertRaises(exception.ManageExistingVolumeTypeMismatch,
                          self.driver.manage_existing,
                          self.volume(provider_id=None),
                          {'source-id': fakes.DISK_ID})
        self.client.get_disk.return_value = fakes.disk(category='cloud_auto')
        self.assertRaises(exception.ManageExistingVolumeTypeMismatch,
                          self.driver.manage_existing,
                          self.volume(provider_id=None,
                                      extra_specs={'ebs:category':
                                                   'cloud_essd'}),
                          {'source-id': fakes.DISK_ID})

    def test_manage_encrypted_multiattach(self):
        self.client.get_disk.return_value = fakes.disk()
        self.assertRaises(exception.InvalidVolume,
                          self.driver.manage_existing,
                          self.volume(provider_id=None,
                                      encryption_key_id=KEY_ID),
                          {'source-id': fakes.DISK_ID})
        self.client.tag_disk.assert_not_called()

    def test_unmanage(self):
        volume = self.volume()
        self.driver.unmanage(volume)
        self.client.untag_disk.assert_called_once_with(
            fakes.DISK_ID, [naming.VOLUME_TAG])

    def test_manageable_volumes(self):
        cinder_vol = self.volume(provider_id='d-3')
        self.client.list_disks.return_value = [
            fakes.disk('d-1', size=5),
            fakes.disk('d-2', instances=['i-1']),
            fakes.disk('d-3'),
            fakes.disk('d-4', tags={naming.VOLUME_TAG: 'v4'}),
            fakes.disk('d-5', zone='elsewhere'),
        ]
        entries = self.driver.get_manageable_volumes(
            [cinder_vol], None, 10, 0, ['reference'], ['asc'])
        by_id = {e['reference']['source-id']: e for e in entries}
        self.assertEqual(['d-1', 'd-2', 'd-3', 'd-4'], sorted(by_id))
        self.assertTrue(by_id['d-1']['safe_to_manage'])
        self.assertEqual(5, by_id['d-1']['size'])
        self.assertFalse(by_id['d-2']['safe_to_manage'])
        self.assertIn('Attached', by_id['d-2']['reason_not_safe'])
        self.assertEqual(cinder_vol.id, by_id['d-3']['cinder_id'])
        self.assertFalse(by_id['d-3']['safe_to_manage'])
        self.assertEqual('v4', by_id['d-4']['cinder_id'])
        page = self.driver.get_manageable_volumes(
            [], None, 2, 1, ['reference'], ['asc'])
        self.assertEqual(2, len(page))

    def test_manage_snapshot(self):
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(size=3)
        snapshot = self.snapshot(provider_id=None)
        self.assertEqual(3, self.driver.manage_existing_snapshot_get_size(
            snapshot, {'source-id': fakes.SNAP_ID}))
        self.assertEqual({'provider_id': fakes.SNAP_ID},
                         self.driver.manage_existing_snapshot(
                             snapshot, {'source-id': fakes.SNAP_ID}))

    def test_manage_snapshot_of_other_disk(self):
        self.client.get_snapshot.return_value = fakes.ebs_snapshot(
            disk_id='d-other')
        self.assertRaises(exception.ManageExistingInvalidReference,
                          self.driver.manage_existing_snapshot,
                          self.snapshot(provider_id=None),
                          {'source-id': fakes.SNAP_ID})

    def test_manageable_snapshots(self):
        self.client.list_disks.return_value = [
            fakes.disk(tags={naming.VOLUME_TAG: 'v1'})]
        self.client.list_snapshots.return_value = [
            fakes.ebs_snapshot('s-1'),
            fakes.ebs_snapshot('s-2', tags={naming.SNAPSHOT_TAG: 'c2'}),
            fakes.ebs_snapshot('s-3', disk_id='d-unknown'),
        ]
        entries = self.driver.get_manageable_snapshots(
            [], None, 10, 0, ['reference'], ['asc'])
        self.assertEqual(['s-1', 's-2'],
                         [e['reference']['source-id'] for e in entries])
        self.assertTrue(entries[0]['safe_to_manage'])
        self.assertEqual({'source-id': fakes.DISK_ID},
                         entries[0]['source_reference'])
        self.assertEqual('c2', entries[1]['cinder_id'])


class TestStats(fakes.DriverTestCase):

    def test_stats_one_listing(self):
        self.client.list_disks.return_value = [
            fakes.disk('d-1', size=10), fakes.disk('d-2', size=5),
            fakes.disk('d-3', size=100, zone='elsewhere')]
        stats = self.driver.get_volume_stats(refresh=True)
        # Only the disks Cinder manages (they carry the volume id tag).
        self.client.list_disks.assert_called_once_with(
            tags={naming.VOLUME_TAG: None})
        self.assertEqual('ebs', stats['volume_backend_name'])
        self.assertTrue(stats['multiattach'])
        pool = stats['pools'][0]
        self.assertEqual(fakes.ZONE, pool['pool_name'])
        self.assertEqual('infinite', pool['total_capacity_gb'])
        self.assertEqual('infinite', pool['free_capacity_gb'])
        self.assertEqual(15, pool['provisioned_capacity_gb'])
        for key in ('multiattach', 'thin_provisioning_support',
                    'online_extend_support', 'QoS_support'):
            self.assertTrue(pool[key], key)
        # What back-end QoS specs may ask of one disk: a PL3's.
        self.assertEqual((1000000, 4000, 50000), (
            pool['max_iops_per_volume'],
            pool['max_throughput_mbps_per_volume'],
            pool['max_provisioned_iops_per_volume']))
        self.assertTrue(stats['sparse_copy_volume'])
        self.driver.get_volume_stats()
        self.client.list_disks.assert_called_once_with(
            tags={naming.VOLUME_TAG: None})
        self.assertEqual(fakes.ZONE, self.driver.get_pool(self.volume()))

    @mock.patch('time.monotonic')
    def test_refreshes_within_the_min_interval_reuse_the_figures(
            self, monotonic):
        self.flags_backend(ebs_stats_min_interval=30)
        monotonic.return_value = 1000.0
        self.client.list_disks.return_value = [fakes.disk(size=10)]
        first = self.driver.get_volume_stats(refresh=True)
        # cinder-volume's start: init_capabilities, init_host_with_rpc and
        # the first periodic report, each asking for a refresh.
        self.client.list_disks.return_value = [fakes.disk(size=20)]
        monotonic.return_value = 1029.0
        self.assertIs(first, self.driver.get_volume_stats(refresh=True))
        self.assertEqual(1, self.client.list_disks.call_count)
        monotonic.return_value = 1030.0
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(20, pool['provisioned_capacity_gb'])
        self.assertEqual(2, self.client.list_disks.call_count)

    def test_a_refresh_during_a_listing_waits_for_its_figures(self):
        self.flags_backend(ebs_stats_min_interval=30)
        listing = threading.Event()
        second_asked = threading.Event()
        real_lock = self.driver._stats_lock
        asked = []

        class CountingLock(object):
            def __enter__(self):
                asked.append(None)
                if len(asked) == 2:
                    second_asked.set()
                return real_lock.__enter__()

            def __exit__(self, *exc_info):
                return real_lock.__exit__(*exc_info)

        self.driver._stats_lock = CountingLock()

        def slow_listing(**kwargs):
            listing.set()
            # Answer once the second refresh has been asked for.
            second_asked.wait(5)
            return [fakes.disk(size=10)]

        self.client.list_disks.side_effect = slow_listing
        first = threading.Thread(
            target=self.driver.get_volume_stats, kwargs={'refresh': True})
        first.start()
        self.assertTrue(listing.wait(5))
        results = []
        second = threading.Thread(target=lambda: results.append(
            self.driver.get_volume_stats(refresh=True)))
        second.start()
        first.join(10)
        second.join(10)
        self.assertTrue(second_asked.is_set())
        self.assertEqual(1, self.client.list_disks.call_count)
        self.assertEqual(10, results[0]['pools'][0]['provisioned_capacity_gb'])

    def test_own_volume_changes_are_counted_without_listing(self):
        self.flags_backend(ebs_stats_min_interval=30,
                           ebs_pool_capacity_gb=1000)
        self.client.list_disks.return_value = [fakes.disk(size=100)]
        self.driver.get_volume_stats(refresh=True)
        self.client.create_disk.return_value = 'd-new'
        self.client.get_disk.return_value = fakes.disk('d-new', size=40)
        self.client.wait_for_disk_status.return_value = fakes.disk(
            'd-new', size=60)
        self.driver.create_volume(self.volume(size=40, provider_id=None))
        self.driver.extend_volume(self.volume(size=40, provider_id='d-new'),
                                  60)
        # cinder-volume refreshes after each deletion.
        self.driver.delete_volume(self.volume(size=100))
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(1, self.client.list_disks.call_count)
        self.assertEqual(60, pool['provisioned_capacity_gb'])
        self.assertEqual(940, pool['free_capacity_gb'])

    def _stats_listings(self):
        return [c for c in self.client.list_disks.call_args_list
                if c == mock.call(tags={naming.VOLUME_TAG: None})]

    def test_failed_or_unmeasured_changes_make_the_next_refresh_list(self):
        self.flags_backend(ebs_stats_min_interval=30)
        self.client.list_disks.return_value = []
        self.driver.get_volume_stats(refresh=True)
        self.client.create_disk.side_effect = ebs_exc.EBSServerError(
            code='InternalError')
        self.assertRaises(ebs_exc.EBSServerError, self.driver.create_volume,
                          self.volume(provider_id=None))
        self.driver.get_volume_stats(refresh=True)
        self.assertEqual(2, len(self._stats_listings()))
        # A volume without provider_id may have had no disk.
        self.driver.delete_volume(self.volume(provider_id=None))
        self.driver.get_volume_stats(refresh=True)
        self.assertEqual(3, len(self._stats_listings()))
        self.driver.get_volume_stats(refresh=True)
        self.assertEqual(3, len(self._stats_listings()))

    def test_min_interval_zero_lists_on_every_refresh(self):
        self.flags_backend(ebs_stats_min_interval=0)
        for _ in range(3):
            self.driver.get_volume_stats(refresh=True)
        self.assertEqual(3, self.client.list_disks.call_count)

    def test_stats_capacity_option(self):
        self.flags_backend(ebs_pool_capacity_gb=100)
        self.client.list_disks.return_value = [fakes.disk(size=30)]
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(100, pool['total_capacity_gb'])
        self.assertEqual(70, pool['free_capacity_gb'])
