"""The driver under the real service's rules (see ebs_emulator.rules).

Through real Cinder services: snapshots and clones of volumes never
attached (ECS refuses to snapshot those disks), snapshots deleted while
disks made from them exist (ECS wants ``Force``), online extend of an
attached multi-attach volume under both readings of the ResizeDisk page,
the categories that may be multi-attach under both readings, and retypes
of multi-attach volumes (ECS changes neither their category nor their
performance level).
"""

import os

from alibabacloud_ecs20140526 import models as ecs_models
from cinder import context
from cinder import objects

from cinder_ebs_driver import origins
from ebs_emulator import rules
from tests.functional import cinder_harness

MARK = b'written-by-an-instance-once'
OFFSET = 3 * 1024 * 1024


def provider_id(snapshot_id):
    """The snapshot's provider_id in Cinder's database."""
    return objects.Snapshot.get_by_id(context.get_admin_context(),
                                      snapshot_id).provider_id


class TestReadings(cinder_harness.EBSFunctionalTestBase):

    def test_readings_follow_the_environment(self):
        """``tox -e strict`` really runs the emulator strictly."""
        strict = os.environ.get('OS_DEFAULT__STRICT_READINGS', '').lower()
        expected = (rules.strict_readings() if strict in ('1', 'true')
                    else rules.default_readings())
        self.assertEqual(expected,
                         self.emulator.get_state()['service']['readings'])


class TestNeverAttached(cinder_harness.EBSFunctionalTestBase):

    def assertNeverAttached(self, volume_id):
        disk = self.volume_disk(volume_id)
        self.assertEqual(('', ''), (disk['AttachedTime'],
                                    disk['DetachedTime']))
        return disk

    def test_blank_volume(self):
        volume = self.create_volume(size=1)
        snapshot = self.create_snapshot(volume['id'])
        self.assertEqual(origins.EMPTY, provider_id(snapshot['id']))
        self.assertEqual([], self.backend_snapshots())
        from_snapshot = self.create_volume(size=2,
                                           snapshot_id=snapshot['id'])
        clone = self.create_volume(size=1, source_volid=volume['id'])
        for vol in (from_snapshot, clone):
            disk = self.volume_disk(vol['id'])
            self.assertEqual('', disk['SourceSnapshotId'])
            self.assertEqual(b'\0' * len(MARK),
                             self.read_disk(disk['DiskId'], len(MARK),
                                            OFFSET))
        # Nothing was attached behind the operator's back.
        for vol in (volume, from_snapshot, clone):
            self.assertNeverAttached(vol['id'])
        self.assertEqual([], self.backend_snapshots())
        self.delete_volume(clone['id'])
        self.delete_snapshot(snapshot['id'])
        self.delete_volume(from_snapshot['id'])
        self.delete_volume(volume['id'])

    def test_volume_made_from_a_snapshot(self):
        source = self.create_volume(size=1)
        self.write_disk(self.volume_disk(source['id'])['DiskId'], MARK,
                        OFFSET)
        first = self.create_snapshot(source['id'])
        [ecs_snapshot] = [s['SnapshotId'] for s in self.backend_snapshots()]
        made = self.create_volume(size=1, snapshot_id=first['id'])
        self.assertNeverAttached(made['id'])

        # Its snapshot and its clone come from what it was made from: no
        # new ECS snapshot, no attach, the same data.
        second = self.create_snapshot(made['id'])
        self.assertEqual(ecs_snapshot, provider_id(second['id']))
        clone = self.create_volume(size=2, source_volid=made['id'])
        from_second = self.create_volume(size=1, snapshot_id=second['id'])
        self.assertEqual([ecs_snapshot],
                         [s['SnapshotId'] for s in self.backend_snapshots()])
        for vol in (clone, from_second):
            disk = self.volume_disk(vol['id'])
            self.assertEqual(ecs_snapshot, disk['SourceSnapshotId'])
            self.assertEqual(MARK, self.read_disk(disk['DiskId'], len(MARK),
                                                  OFFSET))
        self.assertNeverAttached(made['id'])

        # Deleting any of them keeps every other object whole: the ECS
        # snapshot goes with the last object that needs it.
        self.delete_snapshot(first['id'])
        self.delete_snapshot(second['id'])
        self.delete_volume(made['id'])
        self.assertEqual([ecs_snapshot],
                         [s['SnapshotId'] for s in self.backend_snapshots()])
        self.delete_volume(clone['id'])
        self.assertEqual(MARK, self.read_disk(
            self.volume_disk(from_second['id'])['DiskId'], len(MARK),
            OFFSET))
        self.delete_volume(from_second['id'])
        self.assertEqual([], self.backend_snapshots())
        self.assertEqual(MARK, self.read_disk(
            self.volume_disk(source['id'])['DiskId'], len(MARK), OFFSET))
        self.delete_volume(source['id'])

    def test_revert_of_a_volume_never_attached_since(self):
        source = self.create_volume(size=1)
        self.write_disk(self.volume_disk(source['id'])['DiskId'], MARK,
                        OFFSET)
        first = self.create_snapshot(source['id'])
        made = self.create_volume(size=1, snapshot_id=first['id'])
        recorded = self.create_snapshot(made['id'])
        self.volume_action(made['id'], 'revert',
                           {'snapshot_id': recorded['id']}, version='3.40')
        made = self.wait_volume(made['id'], 'available',
                                done=lambda v: v['status'] != 'reverting')
        self.assertEqual(MARK, self.read_disk(
            self.volume_disk(made['id'])['DiskId'], len(MARK), OFFSET))
        self.assertNeverAttached(made['id'])
        for snap in (recorded, first):
            self.delete_snapshot(snap['id'])
        for vol in (made, source):
            self.delete_volume(vol['id'])


class TestSnapshotDeletion(cinder_harness.EBSFunctionalTestBase):

    def test_snapshot_with_volumes_made_from_it(self):
        """ECS keeps such a snapshot unless Force is sent."""
        volume = self.create_volume(size=1)
        self.write_disk(self.volume_disk(volume['id'])['DiskId'], MARK,
                        OFFSET)
        snapshot = self.create_snapshot(volume['id'])
        made = self.create_volume(size=1, snapshot_id=snapshot['id'])
        made_disk = self.volume_disk(made['id'])['DiskId']
        # Attached once, the new volume no longer needs the snapshot.
        self.attach_once(made_disk)
        self.delete_snapshot(snapshot['id'])
        self.assertEqual([], self.backend_snapshots())
        self.assertEqual(MARK, self.read_disk(made_disk, len(MARK), OFFSET))
        for vol in (made, volume):
            self.delete_volume(vol['id'])


class _ExtendMultiattachBase(cinder_harness.EBSFunctionalTestBase):

    def extend_attached(self):
        vtype = self.create_type(multiattach=True)
        volume = self.create_volume(size=1, volume_type=vtype['id'])
        attachments = [self.create_attachment(volume['id'], self.connector(n))
                       for n in (0, 1)]
        self.volume_action(volume['id'], 'os-extend', {'new_size': 2},
                           version='3.42')
        volume = self.wait_volume(volume['id'],
                                  done=lambda v: v['status'] != 'extending')
        return volume, attachments

    def detach_and_delete(self, volume, attachments):
        for attachment in attachments:
            self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])


class TestExtendMultiattachOnline(_ExtendMultiattachBase):
    """ResizeDisk's description: multi-attach disks resize online."""

    EMULATOR_KWARGS = {'readings': {
        'multi-attach-online-resize': 'description'}}

    def test_extend_attached_multiattach_volume(self):
        volume, attachments = self.extend_attached()
        self.assertEqual(('in-use', 2), (volume['status'], volume['size']))
        disk = self.volume_disk(volume['id'])
        self.assertEqual(2, disk['Size'])
        self.assertEqual(['i-emu0000', 'i-emu0001'],
                         self.disk_instances(disk))
        # Cinder told Nova, as for any in-use extend.
        self.nova_extend.assert_called_once()
        self.detach_and_delete(volume, attachments)


class TestExtendMultiattachRefused(_ExtendMultiattachBase):
    """ResizeDisk's error table: refused online for multi-attach disks."""

    EMULATOR_KWARGS = {'readings': {
        'multi-attach-online-resize': 'error-table'}}

    def test_extend_attached_multiattach_volume(self):
        volume, attachments = self.extend_attached()
        self.assertEqual(('error_extending', 1),
                         (volume['status'], volume['size']))
        disk = self.volume_disk(volume['id'])
        self.assertEqual(1, disk['Size'])
        self.assertEqual(['i-emu0000', 'i-emu0001'],
                         self.disk_instances(disk))
        self.nova_extend.assert_not_called()
        messages = self.user_messages(volume['id'])
        self.assertIn('extend', messages[0]['user_message'])
        # Detached from every host, the same disk extends offline.
        self.volume_action(volume['id'], 'os-reset_status',
                           {'status': 'in-use'})
        for attachment in attachments:
            self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.volume_action(volume['id'], 'os-extend', {'new_size': 2})
        self.wait_volume(volume['id'], 'available',
                         done=lambda v: v['status'] != 'extending')
        self.assertEqual(2, self.volume_disk(volume['id'])['Size'])
        self.delete_volume(volume['id'])


class _CategoriesBase(cinder_harness.EBSFunctionalTestBase):

    def create_shared(self, category, expect_status='available'):
        vtype = self.create_type(multiattach=True,
                                 extra_specs={'ebs:category': category})
        return self.create_volume(size=20, volume_type=vtype['id'],
                                  expect_status=expect_status)


class TestMultiattachCategoriesGuide(_CategoriesBase):
    """The multi-attach guide: ESSD, ESSD AutoPL and Regional ESSD."""

    EMULATOR_KWARGS = {'readings': {'multi-attach-categories': 'guide'}}

    def test_autopl_multiattach_volume(self):
        volume = self.create_shared('cloud_auto')
        disk = self.volume_disk(volume['id'])
        self.assertEqual(('cloud_auto', 'Enabled'),
                         (disk['Category'], disk['MultiAttach']))
        self.delete_volume(volume['id'])


class TestMultiattachCategoriesCreateDisk(_CategoriesBase):
    """CreateDisk's MultiAttach parameter: ESSD only."""

    EMULATOR_KWARGS = {'readings': {'multi-attach-categories': 'createdisk'}}

    def test_autopl_multiattach_volume_refused(self):
        volume = self.create_shared('cloud_auto', expect_status='error')
        self.assertEqual([], self.backend_disks())
        self.delete_volume(volume['id'])
        volume = self.create_shared('cloud_essd')
        self.assertEqual('Enabled',
                         self.volume_disk(volume['id'])['MultiAttach'])
        self.delete_volume(volume['id'])


class TestRetypeMultiattach(cinder_harness.EBSFunctionalTestBase):
    """ECS fixes a multi-attach disk's category and performance level."""

    def _types(self):
        pl0 = self.create_type(multiattach=True,
                               extra_specs={'ebs:performance_level': 'PL0'})
        pl1 = self.create_type(multiattach=True,
                               extra_specs={'ebs:performance_level': 'PL1'})
        return pl0, pl1

    def test_level_change_without_migration_refused(self):
        pl0, pl1 = self._types()
        volume = self.create_volume(size=20, volume_type=pl0['id'])
        disk = self.volume_disk(volume['id'])
        volume = self.retype(volume['id'], pl1, 'never')
        self.assertEqual(('available', pl0['name']),
                         (volume['status'], volume['volume_type']))
        after = self.volume_disk(volume['id'])
        self.assertEqual((disk['DiskId'], 'PL0', 'Enabled'),
                         (after['DiskId'], after['PerformanceLevel'],
                          after['MultiAttach']))
        self.delete_volume(volume['id'])

    def test_level_change_migrates_on_demand(self):
        pl0, pl1 = self._types()
        volume = self.create_volume(size=20, volume_type=pl0['id'])
        disk = self.volume_disk(volume['id'])
        self.write_disk(disk['DiskId'], MARK, OFFSET)
        self.allow_host_copy()
        volume = self.retype(volume['id'], pl1, 'on-demand')
        self.assertEqual(('available', pl1['name']),
                         (volume['status'], volume['volume_type']))
        self.wait_for(lambda: len(self.backend_disks()) == 1,
                      what='the old disk to be deleted')
        after = self.volume_disk(volume['id'])
        self.assertNotEqual(disk['DiskId'], after['DiskId'])
        self.assertEqual(('PL1', 'Enabled'),
                         (after['PerformanceLevel'], after['MultiAttach']))
        self.assertEqual(MARK, self.read_disk(after['DiskId'], len(MARK),
                                              OFFSET))
        self.delete_volume(volume['id'])


class TestReconcile(cinder_harness.EBSFunctionalTestBase):
    """What a dead volume service left attached is detached."""

    DRIVER_FLAGS = {'ebs_stats_min_interval': 0}

    def _leak(self, disk_id, index):
        """Attach as a service that died before Cinder recorded it."""
        instance_id = self.instance(index)['InstanceId']
        self.ecs.attach_disk(ecs_models.AttachDiskRequest(
            disk_id=disk_id, instance_id=instance_id))
        self.wait_for(lambda: instance_id in self.disk_instances(
            self.backend_disk(disk_id)), what='the leaked attach')

    def _reconcile(self):
        self.volume.manager.driver.get_volume_stats(refresh=True)

    def test_single_attach_volume_attaches_elsewhere_at_once(self):
        # The attach detaches the leak first: no record holds its host and
        # no other attach is in flight.
        volume = self.create_volume(size=1)
        disk_id = self.volume_disk(volume['id'])['DiskId']
        self._leak(disk_id, 3)
        attachment = self.create_attachment(volume['id'], self.connector(0))
        self.assertEqual(['i-emu0000'],
                         self.disk_instances(self.backend_disk(disk_id)))
        self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])

    def test_multiattach_leak_detached_recorded_hosts_kept(self):
        vtype = self.create_type(multiattach=True)
        volume = self.create_volume(size=1, volume_type=vtype['id'])
        disk_id = self.volume_disk(volume['id'])['DiskId']
        attachments = [self.create_attachment(volume['id'], self.connector(n))
                       for n in (0, 1)]
        self._leak(disk_id, 4)
        self._reconcile()
        self.assertEqual(['i-emu0000', 'i-emu0001'],
                         self.disk_instances(self.backend_disk(disk_id)))
        for attachment in attachments:
            self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])
