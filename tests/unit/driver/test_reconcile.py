"""The reconciliation of backend attachments with Cinder's records.

One test per rule: what no record accounts for is detached (under the
host's locks, after a fresh look at the records), what a record holds, an
attach in flight, a volume Cinder is copying or migrating or does not
have, and a host with no name are left alone. A pass reads Cinder's
database once, whatever the number of disks.
"""

import datetime

from cinder.db import api as cinder_db
from cinder import objects
from oslo_utils import timeutils
import sqlalchemy

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import host_release
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
        def volume(status, migration_status):
            return reconcile.CinderVolume(status, migration_status, [])
        self.assertTrue(reconcile.settled(volume('in-use', None)))
        self.assertTrue(reconcile.settled(volume('available', 'success')))
        self.assertFalse(reconcile.settled(None))
        for state in (('downloading', None), ('maintenance', None),
                      ('backing-up', None), ('in-use', 'migrating'),
                      ('available', 'target:x'), ('error', None)):
            self.assertFalse(reconcile.settled(volume(*state)), state)


class TestReconcileThroughStats(fakes.DriverTestCase):
    """The driver reconciles with each listing of its disks."""

    def setUp(self):
        super().setUp()
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1', 'h2': 'i-2'},
                           ebs_stats_min_interval=0)
        self.records = {}
        self.states = {VOLUME_ID: ('in-use', None)}
        self.asked = []
        self.driver.set_client(
            self.client,
            attachment_records=lambda vid: list(self.records.get(vid, [])),
            snapshot_refs=self.snapshot_refs,
            cinder_volumes=self.cinder_volumes)
        self.client.get_disk.side_effect = lambda disk_id: self.disk
        self.disk = fakes.disk(instances=['i-1', 'i-2'],
                               tags={naming.VOLUME_TAG: VOLUME_ID})
        self.client.list_disks.return_value = [self.disk]

    def cinder_volumes(self, volume_ids):
        self.asked.append(list(volume_ids))
        return {vid: reconcile.CinderVolume(
            *self.states[vid], records=list(self.records.get(vid, [])))
            for vid in volume_ids if vid in self.states}

    def refresh(self):
        self.driver.get_volume_stats(refresh=True)

    def test_leaked_attachment_detached(self):
        self.records[VOLUME_ID] = [record('h1')]
        self.refresh()
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-2')

    def test_repairs_per_pass_are_bounded(self):
        self.flags_backend(ebs_reconcile_max_repairs=1)
        self.driver.set_client(self.client,
                               cinder_volumes=self.cinder_volumes)

        def detach(disk_id, instance_id):
            left = [i for i in ('i-1', 'i-2')
                    if i in ebs_client.attached_instance_ids(self.disk)
                    and i != instance_id]
            self.disk = fakes.disk(instances=left,
                                   tags={naming.VOLUME_TAG: VOLUME_ID})
            self.client.list_disks.return_value = [self.disk]

        self.client.detach_disk.side_effect = detach
        self.refresh()
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')
        self.refresh()
        self.assertEqual([('i-1',), ('i-2',)], [
            c.args[1:] for c in self.client.detach_disk.call_args_list])

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

    def test_one_read_for_all_the_attached_disks(self):
        other = fakes.uuid(2)
        self.states[other] = ('available', None)
        self.client.list_disks.return_value = [
            self.disk,
            fakes.disk(disk_id='d-2', instances=['i-2'],
                       tags={naming.VOLUME_TAG: other}),
            # Not attached, or not Cinder's: not asked about.
            fakes.disk(disk_id='d-3', tags={naming.VOLUME_TAG: fakes.uuid(3)}),
            fakes.disk(disk_id='d-4', instances=['i-1']),
            # A disk of a volume missing from the answer is skipped.
            fakes.disk(disk_id='d-5', instances=['i-1'],
                       tags={naming.VOLUME_TAG: fakes.uuid(5)})]
        self.records[VOLUME_ID] = [record('h1'), record('h2')]
        self.refresh()
        self.assertEqual([sorted([VOLUME_ID, other, fakes.uuid(5)])],
                         self.asked)
        # The available volume's disk is attached where no record is.
        self.client.detach_disk.assert_called_once_with('d-2', 'i-2')

    def test_nothing_attached_nothing_read(self):
        self.disk = fakes.disk(tags={naming.VOLUME_TAG: VOLUME_ID})
        self.client.list_disks.return_value = [self.disk]
        self.refresh()
        self.assertEqual([], self.asked)

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


class TestCinderVolumes(fakes.DriverTestCase):
    """The volumes and records a pass reads from Cinder's database."""

    def setUp(self):
        super().setUp()
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1', 'h2': 'i-2'},
                           ebs_stats_min_interval=0)
        # Cinder's database for everything, the re-checks included.
        self.driver.set_client(self.client, snapshot_refs=self.snapshot_refs)
        self.client.list_disks.return_value = []

    def volume_with(self, *attachments, **updates):
        updates.setdefault('status', 'in-use')
        volume = objects.Volume(self.ctxt, size=1, **updates)
        volume.create()
        for status, host in attachments:
            objects.VolumeAttachment(
                self.ctxt, volume_id=volume.id, attach_status=status,
                attached_host=host,
                connector={'host': host} if host else None).create()
        return volume

    def test_volumes_with_their_records(self):
        volume = self.volume_with(('attached', 'h1'), ('reserved', None),
                                  ('detached', 'h2'))
        moving = self.volume_with(migration_status='migrating')

        found = reconcile.cinder_volumes([volume.id, moving.id,
                                          fakes.uuid(9)])

        # A volume Cinder does not have is left out.
        self.assertEqual({volume.id, moving.id}, set(found))
        self.assertEqual(('in-use', None), found[volume.id][:2])
        self.assertEqual('migrating', found[moving.id].migration_status)
        self.assertEqual([], found[moving.id].records)
        # Detached records are left out; the connector is a dict again,
        # as the re-check under the locks reads them.
        self.assertEqual(
            sorted(host_release.attachment_records(volume.id),
                   key=lambda r: r['attach_status']),
            sorted(found[volume.id].records,
                   key=lambda r: r['attach_status']))
        self.assertEqual(['attached', 'reserved'], sorted(
            r['attach_status'] for r in found[volume.id].records))

    def selects_of_a_refresh(self, disks):
        selects = []

        def count(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith('SELECT'):
                selects.append(statement)

        engine = cinder_db.get_engine()
        self.client.list_disks.return_value = disks
        sqlalchemy.event.listen(engine, 'before_cursor_execute', count)
        try:
            self.driver.get_volume_stats(refresh=True)
        finally:
            sqlalchemy.event.remove(engine, 'before_cursor_execute', count)
        return len(selects)

    def attached_disks(self, count):
        disks = []
        for n in range(count):
            volume = self.volume_with(('attached', 'h1'))
            disks.append(fakes.disk(disk_id='d-%d' % n, instances=['i-1'],
                                    tags={naming.VOLUME_TAG: volume.id}))
        return disks

    def test_reads_do_not_grow_with_the_disks(self):
        few = self.selects_of_a_refresh(self.attached_disks(2))
        many = self.selects_of_a_refresh(self.attached_disks(30))
        self.assertGreater(few, 0)
        self.assertEqual(few, many)
        self.client.detach_disk.assert_not_called()

    def test_a_repair_reads_the_records_again(self):
        leaked = self.volume_with(status='available')
        disks = self.attached_disks(3) + [
            fakes.disk(disk_id='d-leak', instances=['i-2'],
                       tags={naming.VOLUME_TAG: leaked.id})]
        self.client.get_disk.side_effect = lambda disk_id: disks[-1]
        without = self.selects_of_a_refresh(disks[:3])
        self.assertGreater(self.selects_of_a_refresh(disks), without)
        self.client.detach_disk.assert_called_once_with('d-leak', 'i-2')
