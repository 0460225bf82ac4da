"""Extending, reverting and retyping volumes in place, through the driver."""

from unittest import mock

from cinder import exception
import ddt

from cinder_ebs_driver import exception as ebs_exc
from tests.unit.driver import fakes


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
