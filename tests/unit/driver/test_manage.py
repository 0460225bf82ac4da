"""Managing and unmanaging disks and snapshots, through the driver."""

from unittest import mock

from cinder import exception

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import naming
from tests.unit.driver import fakes

KEY_ID = fakes.KEY_ID


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
