"""Manage / unmanage of EBS disks and snapshots, and what the scheduler
sees of the backend, through Cinder's API."""

import uuid

from alibabacloud_ecs20140526 import models as ecs_models

from tests.functional import cinder_harness

MANAGE_VERSION = '3.8'


class TestManage(cinder_harness.EBSFunctionalTestBase):

    # -- backend resources made outside Cinder ---------------------------

    def sdk_disk(self, size=1, multi_attach=False, name=None):
        request = ecs_models.CreateDiskRequest(
            region_id=self.emulator.region_id, zone_id=self.emulator.zone_id,
            disk_name=name or 'outside-%s' % uuid.uuid4().hex[:6],
            size=size, disk_category='cloud_essd', performance_level='PL0',
            multi_attach='Enabled' if multi_attach else 'Disabled')
        disk_id = self.ecs.create_disk(request).body.disk_id
        self.wait_for(lambda: self.backend_disk(disk_id)['Status'] ==
                      'Available', what='disk %s' % disk_id)
        return disk_id

    def sdk_delete_disk(self, disk_id):
        self.ecs.delete_disk(ecs_models.DeleteDiskRequest(disk_id=disk_id))

    def sdk_snapshot(self, disk_id):
        self.attach_once(disk_id)
        request = ecs_models.CreateSnapshotRequest(
            disk_id=disk_id, snapshot_name='outside-snap-%s' %
            uuid.uuid4().hex[:6])
        snap_id = self.ecs.create_snapshot(request).body.snapshot_id
        self.wait_for(lambda: [s['Status'] for s in self.backend_snapshots()
                               if s['SnapshotId'] == snap_id] ==
                      ['accomplished'], what='snapshot %s' % snap_id)
        return snap_id

    def sdk_delete_snapshot(self, snapshot_id):
        self.ecs.delete_snapshot(
            ecs_models.DeleteSnapshotRequest(snapshot_id=snapshot_id))

    @staticmethod
    def tags(resource):
        return {t['TagKey']: t['TagValue']
                for t in (resource.get('Tags') or {}).get('Tag') or []}

    # -- API -------------------------------------------------------------

    def manage_volume(self, ref, volume_type=None, expect='available'):
        body = {'volume': {'host': self.backend_host(), 'ref': ref,
                           'name': 'managed-%s' % uuid.uuid4().hex[:6]}}
        if volume_type:
            body['volume']['volume_type'] = volume_type
        _, data = self.api_call('POST', '/manageable_volumes', body,
                                version=MANAGE_VERSION, expect=202)
        return self.wait_volume(data['volume']['id'], expect)

    def manageable(self, kind='volumes'):
        _, data = self.api_call(
            'GET', '/manageable_%s/detail?host=%s' % (kind,
                                                      self.backend_host()),
            version=MANAGE_VERSION, expect=200)
        return data['manageable-%s' % kind]

    def unmanage_volume(self, volume_id):
        self.volume_action(volume_id, 'os-unmanage')
        self.wait_for(lambda: self.get_volume(volume_id) is None,
                      what='volume %s to be unmanaged' % volume_id)

    # -- tests -----------------------------------------------------------

    def test_manage_and_unmanage_disk(self):
        disk_id = self.sdk_disk(size=2)
        listed = {e['reference']['source-id']: e for e in self.manageable()}
        self.assertTrue(listed[disk_id]['safe_to_manage'])
        self.assertEqual(2, listed[disk_id]['size'])

        volume = self.manage_volume({'source-id': disk_id})
        self.assertEqual(2, volume['size'])
        disk = self.backend_disk(disk_id)
        self.assertEqual('volume-%s' % volume['id'], disk['DiskName'])
        self.assertEqual(volume['id'], self.tags(disk)['cinder-volume-id'])
        listed = {e['reference']['source-id']: e for e in self.manageable()}
        self.assertFalse(listed[disk_id]['safe_to_manage'])
        self.assertEqual(volume['id'], listed[disk_id]['cinder_id'])

        # It works as any volume: attach it.
        attachment = self.create_attachment(volume['id'], self.connector(4))
        self.assertEqual(['i-emu0004'],
                         self.disk_instances(self.backend_disk(disk_id)))
        self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')

        self.unmanage_volume(volume['id'])
        disk = self.backend_disk(disk_id)
        self.assertIsNotNone(disk, 'unmanage deleted the disk')
        self.assertNotIn('cinder-volume-id', self.tags(disk))
        listed = {e['reference']['source-id']: e for e in self.manageable()}
        self.assertTrue(listed[disk_id]['safe_to_manage'])
        self.sdk_delete_disk(disk_id)

    def test_manage_refusals(self):
        single = self.sdk_disk()
        shared_type = self.create_type(multiattach=True)
        # A multi-attach type needs a disk created multi-attach.
        volume = self.manage_volume({'source-id': single},
                                    volume_type=shared_type['id'],
                                    expect='error')
        self.assertNotIn('cinder-volume-id',
                         self.tags(self.backend_disk(single)))
        self.delete_volume(volume['id'])
        self.assertIsNotNone(self.backend_disk(single))
        # A disk that does not exist.
        volume = self.manage_volume({'source-id': 'd-doesnotexist0000000'},
                                    expect='error')
        self.delete_volume(volume['id'])
        self.sdk_delete_disk(single)

    def test_manage_multiattach_disk(self):
        disk_id = self.sdk_disk(multi_attach=True)
        shared_type = self.create_type(multiattach=True)
        volume = self.manage_volume({'source-id': disk_id},
                                    volume_type=shared_type['id'])
        self.assertTrue(volume['multiattach'])
        attachments = [self.create_attachment(volume['id'], self.connector(n))
                       for n in (5, 6)]
        self.assertEqual(['i-emu0005', 'i-emu0006'],
                         self.disk_instances(self.backend_disk(disk_id)))
        for attachment in attachments:
            self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])
        self.assertIsNone(self.backend_disk(disk_id))

    def test_manage_and_unmanage_snapshot(self):
        volume = self.create_volume(size=1)
        disk_id = self.volume_disk(volume['id'])['DiskId']
        snap_id = self.sdk_snapshot(disk_id)
        listed = {e['reference']['source-id']: e
                  for e in self.manageable('snapshots')}
        self.assertTrue(listed[snap_id]['safe_to_manage'])

        body = {'snapshot': {'volume_id': volume['id'],
                             'ref': {'source-id': snap_id}}}
        _, data = self.api_call('POST', '/manageable_snapshots', body,
                                version=MANAGE_VERSION, expect=202)
        snapshot = self.wait_snapshot(data['snapshot']['id'], 'available')
        ebs_snap = [s for s in self.backend_snapshots()
                    if s['SnapshotId'] == snap_id][0]
        self.assertEqual(snapshot['id'],
                         self.tags(ebs_snap)['cinder-snapshot-id'])

        # A managed snapshot serves as any other.
        clone = self.create_volume(size=1, snapshot_id=snapshot['id'])
        self.assertEqual(snap_id,
                         self.volume_disk(clone['id'])['SourceSnapshotId'])
        self.delete_volume(clone['id'])

        self.api_call('POST', '/snapshots/%s/action' % snapshot['id'],
                      {'os-unmanage': None}, expect=202)
        self.wait_for(lambda: self.get_snapshot(snapshot['id']) is None,
                      what='the snapshot to be unmanaged')
        ebs_snap = [s for s in self.backend_snapshots()
                    if s['SnapshotId'] == snap_id]
        self.assertEqual(1, len(ebs_snap), 'unmanage deleted the snapshot')
        self.assertNotIn('cinder-snapshot-id', self.tags(ebs_snap[0]))
        self.sdk_delete_snapshot(snap_id)
        self.delete_volume(volume['id'])


class TestSchedulerStats(cinder_harness.EBSFunctionalTestBase):

    def pools(self):
        _, data = self.api_call(
            'GET', '/scheduler-stats/get_pools?detail=True', expect=200)
        return data['pools']

    def test_pools(self):
        volume = self.create_volume(size=3)
        other = self.create_volume(size=1)
        # The volume service publishes fresh stats after a delete (and
        # periodically); then the remaining disk is counted.
        self.delete_volume(other['id'])
        self.wait_for(lambda: self.pools()[0]['capabilities'][
            'provisioned_capacity_gb'] == 3, what='fresh stats')
        pools = self.pools()
        self.assertEqual(1, len(pools))
        self.assertTrue(pools[0]['name'].endswith(
            '#%s' % self.emulator.zone_id))
        caps = pools[0]['capabilities']
        self.assertIs(True, caps['multiattach'])
        self.assertIs(True, caps['thin_provisioning_support'])
        self.assertIs(True, caps['online_extend_support'])
        self.assertEqual(100000, caps['total_capacity_gb'])
        self.assertEqual(100000 - 3, caps['free_capacity_gb'])
        self.assertEqual('Alibaba Cloud', caps['vendor_name'])
        self.assertEqual('NVMe', caps['storage_protocol'])
        self.delete_volume(volume['id'])
