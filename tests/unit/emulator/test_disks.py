"""Disk actions of the emulator, through the official SDK over HTTP."""

import os
import re
import uuid

from alibabacloud_ecs20140526 import models as ecs_models

from tests.unit.emulator import base

DISK_ID = re.compile(r'^d-[a-z0-9]{20}$')


def tag(key, value, cls=ecs_models.CreateDiskRequestTag):
    return cls(key=key, value=value)


class CreateDiskTest(base.SharedEmulatorTestCase):

    def _create(self, **kw):
        kw.setdefault('region_id', self.api.region)
        kw.setdefault('zone_id', self.api.zone)
        return self.api.sdk.create_disk(ecs_models.CreateDiskRequest(**kw))

    def test_create_and_describe(self):
        body = self._create(
            size=20, disk_category='cloud_essd', performance_level='PL1',
            multi_attach='Enabled', disk_name='volume-1',
            description='cinder volume', encrypted=False,
            tag=[tag('cinder-volume-id', 'vol-1')]).body
        self.assertRegex(body.disk_id, DISK_ID)
        self.assertEqual('', body.order_id)
        disk = self.api.wait_disk(body.disk_id, 'Available')
        expected = {
            'DiskId': body.disk_id, 'DiskName': 'volume-1',
            'Description': 'cinder volume', 'Size': 20,
            'Category': 'cloud_essd', 'PerformanceLevel': 'PL1',
            'Type': 'data', 'MultiAttach': 'Enabled',
            'SerialNumber': body.disk_id[2:], 'Encrypted': False,
            'ZoneId': self.api.zone, 'RegionId': self.api.region,
            'SourceSnapshotId': '', 'Portable': True, 'InstanceId': '',
            'Attachments': {'Attachment': []},
            'Tags': {'Tag': [{'TagKey': 'cinder-volume-id',
                              'TagValue': 'vol-1'}]},
        }
        for key, value in expected.items():
            self.assertEqual(value, disk[key], key)
        self.assertRegex(disk['CreationTime'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')

    def test_defaults(self):
        disk_id = self._create(size=30,
                               disk_category='cloud_essd').body.disk_id
        disk = self.api.wait_disk(disk_id, 'Available')
        self.assertEqual(('PL1', 'Disabled'),
                         (disk['PerformanceLevel'], disk['MultiAttach']))
        other = self._create(size=30, disk_category='cloud_ssd').body.disk_id
        self.assertEqual('', self.api.disk(other)['PerformanceLevel'])

    def test_multi_attach_categories(self):
        for category, level in (('cloud_essd', 'PL0'), ('cloud_auto', None),
                                ('cloud_regional_disk_auto', None)):
            disk_id = self._create(size=20, disk_category=category,
                                   performance_level=level,
                                   multi_attach='Enabled').body.disk_id
            self.assertEqual('Enabled',
                             self.api.disk(disk_id)['MultiAttach'])
        for category in ('cloud_efficiency', 'cloud_ssd'):
            self.assertEcsError(
                'InvalidParameter.DiskCategoryAndMultiAttachNotMatch', 403,
                self._create, size=20, disk_category=category,
                multi_attach='Enabled')

    def test_client_token_is_idempotent(self):
        token = str(uuid.uuid4())
        name = 'idem-%s' % token[:8]
        first = self._create(size=1, disk_category='cloud_auto',
                             client_token=token, disk_name=name)
        second = self._create(size=1, disk_category='cloud_auto',
                              client_token=token, disk_name=name)
        self.assertEqual(first.body.disk_id, second.body.disk_id)
        self.assertEqual(
            1, self.api.disks(disk_name=name)['TotalCount'])
        self.assertEcsError(
            'IdempotentParameterMismatch', 403, self._create, size=2,
            disk_category='cloud_auto', client_token=token, disk_name=name)

    def test_invalid_input(self):
        cases = [
            ('InvalidDiskCategory.ValueNotSupported', 400,
             dict(size=20, disk_category='cloud_floppy')),
            ('InvalidParameter.MultiAttach', 403,
             dict(size=20, disk_category='cloud_essd', multi_attach='Yes')),
            ('OperationDenied.PerformanceLevelNotMatch', 403,
             dict(size=1, disk_category='cloud_essd',
                  performance_level='PL1')),
            ('InvalidDataDiskSize.ValueNotSupported', 403,
             dict(size=70000, disk_category='cloud_auto')),
            ('InvalidDataDiskSize.ValueNotSupported', 403,
             dict(size=10, disk_category='cloud_efficiency')),
            ('InvalidPerformanceLevel.Malformed', 400,
             dict(size=20, disk_category='cloud_essd',
                  performance_level='PL9')),
            ('MissingParameter', 400, dict(disk_category='cloud_essd')),
            ('MissingParameter', 400,
             dict(size=20, disk_category='cloud_essd', zone_id=None)),
            ('InvalidZoneId.NotFound', 404,
             dict(size=20, disk_category='cloud_essd', zone_id='nowhere')),
            ('InvalidRegionId.NotFound', 404,
             dict(size=20, disk_category='cloud_essd', region_id='mars')),
            ('InvalidDiskName.Malformed', 400,
             dict(size=20, disk_category='cloud_essd', disk_name='1 bad')),
            ('InvalidDescription.Malformed', 400,
             dict(size=20, disk_category='cloud_essd',
                  description='http://spam')),
            ('InvalidTagKey.Malformed', 400,
             dict(size=20, disk_category='cloud_essd',
                  tag=[tag('acs:reserved', 'x')])),
            ('Duplicate.TagKey', 400,
             dict(size=20, disk_category='cloud_essd',
                  tag=[tag('k', '1'), tag('k', '2')])),
            ('InvalidSnapshotId.NotFound', 404,
             dict(disk_category='cloud_essd', snapshot_id='s-missing')),
        ]
        for code, status, kw in cases:
            self.assertEcsError(code, status, self._create, **kw)

    def test_malformed_values_are_client_errors(self):
        for params in ({'Size': 'twenty'}, {'Size': '-5'},
                       {'Encrypted': 'perhaps'}, {'Tag.0.Key': 'x'}):
            query = {'RegionId': self.api.region, 'ZoneId': self.api.zone,
                     'DiskCategory': 'cloud_essd', 'Size': '20'}
            query.update(params)
            status, _headers, body = self.emu.raw_request('CreateDisk', query)
            self.assertEqual(400, status, (params, body))
            self.assertNotIn('Traceback', str(body))


class DiskLifecycleTest(base.SharedEmulatorTestCase):

    def test_delete_disk(self):
        disk_id = self.api.create_disk()
        self.api.delete_disk(disk_id)
        self.assertIsNone(self.api.disk(disk_id))
        # The default reading of delete-missing: ignored.
        self.api.delete_disk(disk_id)

    def test_unknown_disk(self):
        sdk = self.api.sdk
        for call, request in (
                (sdk.resize_disk, ecs_models.ResizeDiskRequest(
                    disk_id='d-nothere', new_size=40)),
                (sdk.modify_disk_spec, ecs_models.ModifyDiskSpecRequest(
                    disk_id='d-nothere', performance_level='PL2')),
                (sdk.modify_disk_attribute,
                 ecs_models.ModifyDiskAttributeRequest(
                     disk_id='d-nothere', disk_name='abc')),
                (sdk.create_snapshot, ecs_models.CreateSnapshotRequest(
                    disk_id='d-nothere'))):
            self.assertEcsError('InvalidDiskId.NotFound', 404, call, request)
        self.assertEcsError('MissingParameter', 400, sdk.delete_disk,
                            ecs_models.DeleteDiskRequest())

    def test_resize_offline(self):
        disk_id = self.api.create_disk(size=20, category='cloud_auto',
                                       level=None)
        resize = self.api.sdk.resize_disk
        resize(ecs_models.ResizeDiskRequest(disk_id=disk_id, new_size=40,
                                            type='offline'))
        self.assertEqual(40, self.api.disk(disk_id)['Size'])
        self.assertEqual(40 * base.GIB,
                         os.path.getsize(self.api.disk_file(disk_id)))
        self.assertEcsError('InvalidDiskSize.TooSmall', 403, resize,
                            ecs_models.ResizeDiskRequest(disk_id=disk_id,
                                                         new_size=30))
        self.assertEcsError('InvalidDiskSize', 403, resize,
                            ecs_models.ResizeDiskRequest(disk_id=disk_id,
                                                         new_size=40))
        self.assertEcsError('InvalidDiskSize.TooLarge', 403, resize,
                            ecs_models.ResizeDiskRequest(disk_id=disk_id,
                                                         new_size=70000))
        self.assertEcsError('IncorrectDiskStatus', 403, resize,
                            ecs_models.ResizeDiskRequest(
                                disk_id=disk_id, new_size=50,
                                type='online'))
        self.assertEcsError('InvalidParameter', 400, resize,
                            ecs_models.ResizeDiskRequest(
                                disk_id=disk_id, new_size=50,
                                type='sideways'))

    def test_modify_disk_spec(self):
        disk_id = self.api.create_disk(size=500, level='PL1')
        spec = self.api.sdk.modify_disk_spec
        spec(ecs_models.ModifyDiskSpecRequest(disk_id=disk_id,
                                              performance_level='PL2'))
        self.assertEqual('PL2', self.api.disk(disk_id)['PerformanceLevel'])
        self.assertEcsError('OperationDenied.PerformanceLevelNotMatch', 403,
                            spec, ecs_models.ModifyDiskSpecRequest(
                                disk_id=disk_id, performance_level='PL3'))
        spec(ecs_models.ModifyDiskSpecRequest(disk_id=disk_id,
                                              disk_category='cloud_auto'))
        disk = self.api.disk(disk_id)
        self.assertEqual(('cloud_auto', ''),
                         (disk['Category'], disk['PerformanceLevel']))
        self.assertEcsError(
            'InvalidDiskCategory.ValueNotSupported', 400, spec,
            ecs_models.ModifyDiskSpecRequest(disk_id=disk_id,
                                             disk_category='tape'))

    def test_modify_disk_attribute(self):
        disk_id = self.api.create_disk()
        modify = self.api.sdk.modify_disk_attribute
        modify(ecs_models.ModifyDiskAttributeRequest(
            disk_id=disk_id, disk_name='renamed', description='new text'))
        disk = self.api.disk(disk_id)
        self.assertEqual(('renamed', 'new text'),
                         (disk['DiskName'], disk['Description']))
        self.assertEcsError('InvalidDiskName.Malformed', 400, modify,
                            ecs_models.ModifyDiskAttributeRequest(
                                disk_id=disk_id, disk_name='-x'))


class DescribeDisksTest(base.SharedEmulatorTestCase):

    def setUp(self):
        super().setUp()
        self.marker = uuid.uuid4().hex[:8]
        tags = [tag('suite', self.marker)]
        self.multi = [self.api.create_disk(multi_attach=True, tag=tags,
                                           wait=False) for _ in range(3)]
        self.single = [self.api.create_disk(
            size=30, category='cloud_ssd', level=None, tag=tags,
            disk_name='single-%s' % self.marker, wait=False)]
        for disk_id in self.multi + self.single:
            self.api.wait_disk(disk_id, 'Available')

    def _ids(self, **kw):
        kw.setdefault('tag', [tag('suite', self.marker,
                                  ecs_models.DescribeDisksRequestTag)])
        body = self.api.disks(**kw)
        return [disk['DiskId'] for disk in body['Disks']['Disk']], body

    def test_filters(self):
        everything = self.multi + self.single
        self.assertEqual(everything, self._ids()[0])
        self.assertEqual(self.multi, self._ids(multi_attach='Enabled')[0])
        self.assertEqual(self.single, self._ids(category='cloud_ssd')[0])
        self.assertEqual(self.single,
                         self._ids(disk_name='single-%s' % self.marker)[0])
        self.assertEqual(everything, self._ids(status='Available')[0])
        self.assertEqual([], self._ids(status='In_use')[0])
        self.assertEqual(
            self.multi[:2],
            self._ids(disk_ids='["%s", "%s", "d-gone"]' % tuple(
                self.multi[:2]))[0])
        self.assertEqual([], self._ids(
            tag=[tag('suite', 'other', ecs_models.DescribeDisksRequestTag)]
        )[0])

    def test_page_number_pagination(self):
        ids, body = self._ids(page_size=3, page_number=1)
        self.assertEqual((self.multi, 4, 1, 3), (
            ids, body['TotalCount'], body['PageNumber'], body['PageSize']))
        ids, body = self._ids(page_size=3, page_number=2)
        self.assertEqual(self.single, ids)

    def test_next_token_pagination(self):
        seen, token = [], None
        while True:
            ids, body = self._ids(page_size=None, max_results=1,
                                  next_token=token)
            seen += ids
            token = body.get('NextToken')
            if not token:
                break
        self.assertEqual(self.multi + self.single, seen)

    def test_bad_filters(self):
        describe = self.api.sdk.describe_disks
        for kw, code, status in (
                (dict(disk_ids='not json'), 'InvalidParameter', 400),
                (dict(disk_ids=str(['d-%d' % n for n in range(101)])
                      .replace("'", '"')), 'InvalidDiskIds.Malformed', 403),
                (dict(status='Sleeping'), 'InvalidParameter', 400),
                (dict(page_size=500), 'InvalidParameter', 400),
                (dict(next_token='garbage'), 'InvalidParameter', 400),
                (dict(region_id='mars'), 'InvalidRegionId.NotFound', 404)):
            kw.setdefault('region_id', self.api.region)
            self.assertEcsError(code, status, describe,
                                ecs_models.DescribeDisksRequest(**kw))
