"""The reconciliation of backend attachments with Cinder's records.

One test per rule: what no record accounts for is detached (under the
host's locks, after a fresh look at the records), what a record holds, an
attach in flight, a volume Cinder is copying or migrating and a host with
no name are left alone.
"""

import datetime

from oslo_utils import timeutils

from cinder_ebs_driver import naming
from cinder_ebs_driver import reconcile
from tests.unit.driver import fakes

VOLUME_ID = fakes.uuid(1)


def record(host, status='attached', connector=True, age=3600):
    created = timeutils.utcnow() - datetime.timedelta(seconds=age)
    return {'attach_status': status, 'attached_host': host,
            'connector': {'host': host} if connector and host else None,
            'created_at': created}


class TestUnaccounted(fakes.DriverTestCase):

    def instance_of(self, rec):
        return {'h1': 'i-1', 'h2': 'i-2'}[rec['attached_host']]

    def test_rules(self):
        disk = fakes.disk(instances=['i-1', 'i-2'])
        cases = [
            ([record('h1'), record('h2')], []),
            ([record('h1')], ['i-2']),
            # Records that no longer hold a host account for nothing.
            ([record('h1'), record('h2', status='detached')], ['i-2']),
            ([], ['i-1', 'i-2']),
            # 'attaching' holds its host.
            ([record('h1', status='attaching'), record('h2')], []),
            # A reservation without a host accounts for no instance here
            # (whether it is an attach in flight is the releaser's call).
            ([record(None, status='reserved'), record('h2')], ['i-1']),
        ]
        for records, expected in cases:
            self.assertEqual(expected, reconcile.unaccounted(
                disk, records, self.instance_of), records)

    def test_unmappable_host_makes_nothing_certain(self):
        def instance_of(rec):
            raise reconcile.exception.InvalidConnectorException(
                missing='x')
        self.assertIsNone(reconcile.unaccounted(
            fakes.disk(instances=['i-1']), [record('h9')], instance_of))

    def test_settled_statuses(self):
        self.assertTrue(reconcile.settled(('in-use', None)))
        self.assertTrue(reconcile.settled(('available', 'success')))
        for state in (None, ('downloading', None), ('maintenance', None),
                      ('backing-up', None), ('in-use', 'migrating'),
                      ('available', 'target:x'), ('error', None)):
            self.assertFalse(reconcile.settled(state), state)


class TestReconcileThroughStats(fakes.DriverTestCase):
    """The driver reconciles with each listing of its disks."""

    def setUp(self):
        super().setUp()
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1', 'h2': 'i-2'},
                           ebs_stats_min_interval=0)
        self.records = {}
        self.states = {VOLUME_ID: ('in-use', None)}
        self.driver.set_client(
            self.client,
            attachment_records=lambda vid: list(self.records.get(vid, [])),
            snapshot_refs=self.snapshot_refs,
            volume_state=self.states.get)
        self.client.get_disk.side_effect = lambda disk_id: self.disk
        self.disk = fakes.disk(instances=['i-1', 'i-2'],
                               tags={naming.VOLUME_TAG: VOLUME_ID})
        self.client.list_disks.return_value = [self.disk]

    def refresh(self):
        self.driver.get_volume_stats(refresh=True)

    def test_leaked_attachment_detached(self):
        self.records[VOLUME_ID] = [record('h1')]
        self.refresh()
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-2')

    def test_accounted_attachments_left_alone(self):
        self.records[VOLUME_ID] = [record('h1'), record('h2')]
        self.refresh()
        self.client.detach_disk.assert_not_called()
        self.client.get_disk.assert_not_called()

    def test_attach_in_flight_left_alone(self):
        # A recent reservation with no host yet may be the attach to h2.
        self.records[VOLUME_ID] = [record('h1'),
                                   record(None, status='reserved', age=5)]
        self.refresh()
        self.client.detach_disk.assert_not_called()

    def test_old_reservation_is_no_attach_in_flight(self):
        self.records[VOLUME_ID] = [record('h1'),
                                   record(None, status='reserved',
                                          age=10000)]
        self.refresh()
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-2')

    def test_volume_being_copied_left_alone(self):
        self.states[VOLUME_ID] = ('downloading', None)
        self.refresh()
        self.client.detach_disk.assert_not_called()

    def test_volume_cinder_does_not_have_left_alone(self):
        del self.states[VOLUME_ID]
        self.refresh()
        self.client.detach_disk.assert_not_called()

    def test_instance_without_host_name_left_alone(self):
        self.disk = fakes.disk(instances=['i-1', 'i-9'],
                               tags={naming.VOLUME_TAG: VOLUME_ID})
        self.client.list_disks.return_value = [self.disk]
        self.client.list_instances.return_value = []
        self.records[VOLUME_ID] = [record('h1')]
        self.refresh()
        self.client.detach_disk.assert_not_called()

    def test_host_name_from_the_instance_list(self):
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1'})
        self.client.list_instances.return_value = [
            {'InstanceId': 'i-2', 'HostName': 'h2', 'SerialNumber': 's2'}]
        self.records[VOLUME_ID] = [record('h1')]
        self.refresh()
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-2')

    def test_disabled(self):
        self.flags_backend(ebs_reconcile_attachments=False)
        self.refresh()
        self.client.detach_disk.assert_not_called()

    def test_stats_survive_a_failed_reconciliation(self):
        self.client.get_disk.side_effect = RuntimeError('boom')
        self.records[VOLUME_ID] = [record('h1')]
        self.refresh()
        self.assertEqual(1, len(self.driver.get_volume_stats()['pools']))
