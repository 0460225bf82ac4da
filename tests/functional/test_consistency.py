"""``ebs-cinder-reconcile``'s checks against real Cinder records and ECS.

Each mismatch is made as a dead volume service or a hand on the backend
would leave it, then reported, and the safe ones repaired; a second
pass finds nothing left of them.
"""

import io

from alibabacloud_ecs20140526 import models as ecs_models
from cinder import context as cinder_context
from cinder.db import api as cinder_db

from cinder_ebs_driver import naming
from cinder_ebs_driver import reconcile_cmd
from tests.functional import cinder_harness


class TestConsistency(cinder_harness.EBSFunctionalTestBase):

    def check(self, repair=False):
        driver = self.volume.manager.driver
        checker = reconcile_cmd.checker_for(driver.configuration)
        return checker.check(self.volume.host, repair=repair)

    def kinds(self, mismatches, volume_id=None):
        return sorted((m.kind, m.repaired) for m in mismatches
                      if volume_id is None or m.volume_id == volume_id)

    @staticmethod
    def gigabytes_in_use(volume_id):
        ctxt = cinder_context.get_admin_context()
        project_id = cinder_db.volume_get(ctxt, volume_id).project_id
        usage = cinder_db.quota_usage_get_all_by_project(ctxt, project_id)
        return usage['gigabytes']['in_use']

    def test_nothing_to_report(self):
        volume = self.create_volume(size=1)
        attachment = self.create_attachment(volume['id'], self.connector(0))
        self.assertEqual([], self.check())
        self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])

    def test_leaked_attachment_reported_then_repaired(self):
        volume = self.create_volume(size=1)
        disk_id = self.volume_disk(volume['id'])['DiskId']
        self.ecs.attach_disk(ecs_models.AttachDiskRequest(
            disk_id=disk_id, instance_id='i-emu0003'))
        self.wait_for(lambda: self.disk_instances(
            self.backend_disk(disk_id)) == ['i-emu0003'], what='the leak')
        self.assertEqual([('attached-without-record', False)],
                         self.kinds(self.check()))
        out = io.StringIO()
        left = reconcile_cmd.report(self.check(repair=True), out)
        self.assertEqual(0, left)
        self.assertIn('repaired', out.getvalue())
        self.assertEqual([], self.disk_instances(self.backend_disk(disk_id)))
        self.assertEqual([], self.check())
        self.delete_volume(volume['id'])

    def test_record_without_backend_attachment(self):
        volume = self.create_volume(size=1)
        disk_id = self.volume_disk(volume['id'])['DiskId']
        attachment = self.create_attachment(volume['id'], self.connector(0))
        self.ecs.detach_disk(ecs_models.DetachDiskRequest(
            disk_id=disk_id, instance_id='i-emu0000'))
        self.wait_for(lambda: not self.disk_instances(
            self.backend_disk(disk_id)), what='the detach behind Cinder')
        self.assertEqual([('record-without-attachment', False)],
                         self.kinds(self.check(repair=True)))
        self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])

    def test_stuck_extend_finished_with_the_size_ecs_reports(self):
        volume = self.create_volume(size=1)
        disk_id = self.volume_disk(volume['id'])['DiskId']
        # The service died after ResizeDisk, before Cinder recorded it.
        self.ecs.resize_disk(ecs_models.ResizeDiskRequest(
            disk_id=disk_id, new_size=3, type='offline'))
        self.volume_action(volume['id'], 'os-reset_status',
                           {'status': 'extending'})
        self.assertEqual([('stuck-extending', False)],
                         self.kinds(self.check()))
        self.assertEqual([('stuck-extending', True)],
                         self.kinds(self.check(repair=True)))
        volume = self.get_volume(volume['id'])
        self.assertEqual(('available', 3), (volume['status'],
                                            volume['size']))
        # The project's usage counts the new size, as after an extend.
        self.assertEqual(3, self.gigabytes_in_use(volume['id']))
        self.assertEqual([], self.check())
        self.delete_volume(volume['id'])

    def test_missing_and_orphan_disks_reported_never_deleted(self):
        volume = self.create_volume(size=1)
        disk_id = self.volume_disk(volume['id'])['DiskId']
        self.ecs.delete_disk(ecs_models.DeleteDiskRequest(disk_id=disk_id))
        orphan = self.ecs.create_disk(ecs_models.CreateDiskRequest(
            region_id=self.emulator.region_id,
            zone_id=self.emulator.zone_id, size=1,
            disk_category='cloud_essd', performance_level='PL0',
            tag=[ecs_models.CreateDiskRequestTag(
                key=naming.VOLUME_TAG, value='not-a-cinder-volume')]
        )).body.disk_id
        self.wait_for(lambda: self.backend_disk(orphan)['Status'] ==
                      'Available', what='the orphan disk')
        found = self.check(repair=True)
        self.assertEqual([('disk-missing', False), ('orphan-disk', False)],
                         self.kinds(found))
        self.assertIsNotNone(self.backend_disk(orphan))
        self.ecs.delete_disk(ecs_models.DeleteDiskRequest(disk_id=orphan))
        self.delete_volume(volume['id'])
