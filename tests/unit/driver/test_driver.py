"""The driver class itself: setup, attach and detach, migration.

The operations it hands to the modules that do the work are tested
with those modules (test_volumes, test_volume_changes, test_snapshots,
test_manage, test_stats), through the driver too.
"""

from unittest import mock

from cinder import exception

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import naming
from tests.unit.driver import fakes


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


class TestMigratedVolume(fakes.DriverTestCase):

    def test_update_migrated_volume(self):
        volume = self.volume()
        new = self.volume(id=fakes.uuid(3), provider_id='d-new')
        update = self.driver.update_migrated_volume(self.ctxt, volume, new,
                                                    'available')
        # Cinder swaps provider_id itself; returning it would undo that.
        self.assertEqual({'_name_id': None}, update)
        self.client.tag_disk.assert_called_once_with(
            'd-new', {naming.VOLUME_TAG: volume.id})
