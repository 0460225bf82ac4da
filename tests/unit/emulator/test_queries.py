"""DescribeDisks and DescribeSnapshots filters answered by the database."""

import json
import shutil
import tempfile
import time

import testtools

from ebs_emulator import actions_disks
from ebs_emulator import config
from ebs_emulator import db
from ebs_emulator import service as service_mod

# Attachment states of the disks built below, one disk per combination.
ATTACHMENT_STATES = [
    (), ('attaching',), ('attached',), ('detaching',),
    ('attached', 'attaching'), ('attached', 'detaching'),
    ('detaching', 'attaching'), ('detaching', 'detaching'),
]


class DatabaseFiltersTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        state_dir = tempfile.mkdtemp(prefix='ebs-queries-')
        self.addCleanup(shutil.rmtree, state_dir, ignore_errors=True)
        self.instances = config.default_instances(2, config.DEFAULT_ZONE)
        # No transition is ever due: the states stay as written.
        self.service = service_mod.EmulatorService(
            state_dir, self.instances, zone_id=config.DEFAULT_ZONE,
            transition_delay=3600, use_loop_devices=False)
        self.addCleanup(self.service.close)
        self.disks = self._build()

    def _build(self):
        now = time.time()
        ids = []
        with self.service.db.session() as session:
            rows = [('Creating', ()), ('ReIniting', ())] + [
                ('Available', states) for states in ATTACHMENT_STATES]
            for n, (status, states) in enumerate(rows):
                disk_id = 'd-query%03d' % n
                ids.append(disk_id)
                session.add(db.Disk(
                    id=disk_id, region_id=self.service.region_id,
                    zone_id=config.DEFAULT_ZONE, name='disk-%d' % (n % 3),
                    size=20, category='cloud_essd', performance_level='PL1',
                    multi_attach=True, status=status, created_at=now + n))
                for index, state in enumerate(states):
                    session.add(db.Attachment(
                        disk_id=disk_id,
                        instance_id=self.instances[index]['InstanceId'],
                        state=state, device='/dev/xvdb', attached_at=now))
                if n % 2:
                    session.add(db.Tag(resource_type='disk',
                                       resource_id=disk_id, key='owner',
                                       value='v%d' % (n % 4),
                                       created_at=now))
        return ids

    def _describe(self, **params):
        params.setdefault('RegionId', self.service.region_id)
        params.setdefault('PageSize', '100')
        body = self.service.call('DescribeDisks', params)
        return body['Disks']['Disk']

    def test_status_filter_matches_the_listed_status(self):
        listed = {disk['DiskId']: disk['Status']
                  for disk in self._describe()}
        self.assertEqual(set(self.disks), set(listed))
        seen = set()
        for status in actions_disks.DISK_STATUSES:
            found = [disk['DiskId'] for disk in self._describe(Status=status)]
            expected = [disk_id for disk_id in self.disks
                        if listed[disk_id] == status]
            self.assertEqual(expected, found, status)
            seen.update(listed[disk_id] for disk_id in found)
        # Every status occurs among the disks built.
        self.assertEqual(set(actions_disks.DISK_STATUSES), seen)

    def test_instance_filter_sees_listed_attachments_only(self):
        instance_id = self.instances[0]['InstanceId']
        found = [disk['DiskId'] for disk in
                 self._describe(InstanceId=instance_id)]
        expected = [disk['DiskId'] for disk in self._describe()
                    if instance_id in [a['InstanceId'] for a in
                                       disk['Attachments']['Attachment']]]
        self.assertTrue(expected)
        self.assertEqual(expected, found)

    def test_tag_filters(self):
        with_key = [disk['DiskId'] for disk in
                    self._describe(**{'Tag.1.Key': 'owner'})]
        self.assertEqual(self.disks[1::2], with_key)
        with_value = [disk['DiskId'] for disk in self._describe(
            **{'Tag.1.Key': 'owner', 'Tag.1.Value': 'v1'})]
        self.assertEqual(self.disks[1::4], with_value)
        self.assertEqual([], self._describe(**{'Tag.1.Key': 'owner',
                                               'Tag.1.Value': 'v1',
                                               'Tag.2.Key': 'other'}))

    def test_ids_names_and_pages(self):
        wanted = [self.disks[3], self.disks[0], 'd-gone']
        self.assertEqual(
            [self.disks[0], self.disks[3]],
            [disk['DiskId'] for disk in
             self._describe(DiskIds=json.dumps(wanted))])
        self.assertEqual(
            self.disks[1::3],
            [disk['DiskId'] for disk in self._describe(DiskName='disk-1')])
        body = self.service.call('DescribeDisks', {
            'RegionId': self.service.region_id, 'PageSize': '4',
            'PageNumber': '2', 'Tag.1.Key': 'owner'})
        self.assertEqual(len(self.disks) // 2, body['TotalCount'])
        self.assertEqual(self.disks[9:17:2],
                         [disk['DiskId'] for disk in body['Disks']['Disk']])

    def test_snapshot_usage_of_the_page(self):
        with self.service.db.session() as session:
            for n, disk_id in enumerate(self.disks[:2]):
                session.add(db.Snapshot(
                    id='s-query%d' % n, region_id=self.service.region_id,
                    source_disk_id=disk_id, source_disk_size=20,
                    source_disk_category='cloud_essd', status='accomplished',
                    created_at=time.time() + n))
            session.get(db.Disk, self.disks[5]).source_snapshot_id = (
                's-query1')
        body = self.service.call('DescribeSnapshots', {
            'RegionId': self.service.region_id,
            'DiskId': self.disks[1]})
        snapshots = body['Snapshots']['Snapshot']
        self.assertEqual(['s-query1'], [s['SnapshotId'] for s in snapshots])
        self.assertEqual('disk', snapshots[0]['Usage'])
        body = self.service.call('DescribeSnapshots', {
            'RegionId': self.service.region_id,
            'SnapshotIds': json.dumps(['s-query0'])})
        self.assertEqual('none', body['Snapshots']['Snapshot'][0]['Usage'])
