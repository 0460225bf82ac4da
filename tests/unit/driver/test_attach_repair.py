"""An attach that finds a single-attach disk left on another instance.

A volume service that died after AttachDisk leaves the disk attached to
the old host's instance while Cinder has no attachment there. The next
attach detaches it first when the volume's records prove the old attach
dead (no record holds the old host, no reservation but the caller's own
may be an attach in flight), and otherwise refuses with what to do.
"""

from cinder import exception

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import naming
from tests.unit.driver import fakes
from tests.unit.driver import test_reconcile

record = test_reconcile.record
VOLUME_ID = test_reconcile.VOLUME_ID


class TestAttachRepairsADeadAttach(fakes.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1', 'h2': 'i-2'})
        self.records = {}
        self.driver.set_client(
            self.client,
            attachment_records=lambda vid: list(self.records.get(vid, [])),
            snapshot_refs=self.snapshot_refs)
        self.vol = self.volume(id=VOLUME_ID, multiattach=False)
        self.left_on = ['i-1']
        self.client.get_disk.side_effect = lambda disk_id: fakes.disk(
            instances=list(self.left_on), multiattach=False,
            tags={naming.VOLUME_TAG: VOLUME_ID})
        self.attach_calls = 0

        def attach_disk(disk_id, instance_id):
            self.attach_calls += 1
            if self.left_on:
                raise ebs_exc.EBSIncorrectStatus(code='IncorrectDiskStatus')
            self.left_on.append(instance_id)

        def detach_disk(disk_id, instance_id):
            self.left_on.remove(instance_id)

        self.client.attach_disk.side_effect = attach_disk
        self.client.detach_disk.side_effect = detach_disk

    def attach_to_h2(self):
        return self.driver.initialize_connection(self.vol, {'host': 'h2'})

    def test_left_by_a_dead_attach_detached_first(self):
        # The caller's own reservation is the only record.
        self.records[VOLUME_ID] = [record(None, status='reserved', age=2)]
        info = self.attach_to_h2()
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')
        self.assertEqual(['i-2'], self.left_on)
        self.assertEqual(2, self.attach_calls)
        self.assertIn(fakes.DISK_ID[2:], info['data']['device_path'])

    def test_kept_where_cinder_has_an_attachment(self):
        self.records[VOLUME_ID] = [record('h1'),
                                   record(None, status='reserved', age=2)]
        err = self.assertRaises(exception.InvalidVolume, self.attach_to_h2)
        self.assertIn('i-1: an attachment of the volume in Cinder is on '
                      'that host', str(err))
        self.client.detach_disk.assert_not_called()
        self.assertEqual(['i-1'], self.left_on)

    def test_kept_while_another_attach_may_be_in_flight(self):
        # Two recent reservations: one is not the caller's.
        self.records[VOLUME_ID] = [record(None, status='reserved', age=2),
                                   record(None, status='reserved', age=3)]
        err = self.assertRaises(exception.InvalidVolume, self.attach_to_h2)
        self.assertIn('may be in flight', str(err))
        self.client.detach_disk.assert_not_called()

    def test_an_old_reservation_is_no_attach_in_flight(self):
        self.records[VOLUME_ID] = [record(None, status='reserved', age=2),
                                   record(None, status='reserved',
                                          age=100000)]
        self.attach_to_h2()
        self.assertEqual(['i-2'], self.left_on)

    def test_unknown_instance_is_left_and_the_error_says_what_to_run(self):
        self.left_on = ['i-9']
        self.client.list_instances.return_value = []
        self.records[VOLUME_ID] = [record(None, status='reserved', age=2)]
        err = self.assertRaises(exception.InvalidVolume, self.attach_to_h2)
        self.assertIn('ebs-cinder-reconcile --repair', str(err))
        self.assertNotIn('Invalid volume: Invalid volume', str(err))
        self.client.detach_disk.assert_not_called()
