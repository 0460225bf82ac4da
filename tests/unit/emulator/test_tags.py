"""Tags, instances and regions."""

from alibabacloud_ecs20140526 import models as ecs_models

from tests.unit.emulator import base


class TagTest(base.SharedEmulatorTestCase):
    use_loop_devices = 'no'

    def _tag(self, resource_type, ids, pairs):
        self.api.sdk.tag_resources(ecs_models.TagResourcesRequest(
            region_id=self.api.region, resource_type=resource_type,
            resource_id=ids, tag=[ecs_models.TagResourcesRequestTag(
                key=k, value=v) for k, v in pairs]))

    def _tags(self, resource_type, resource_id):
        body = self.api.sdk.list_tag_resources(
            ecs_models.ListTagResourcesRequest(
                region_id=self.api.region, resource_type=resource_type,
                resource_id=[resource_id])).body.to_map()
        return {row['TagKey']: row['TagValue']
                for row in body['TagResources']['TagResource']}

    def test_tag_untag_disks_and_snapshots(self):
        disk_id = self.api.create_disk()
        snapshot_id = self.api.create_snapshot(disk_id)
        self._tag('disk', [disk_id], [('a', '1'), ('b', '2')])
        self._tag('disk', [disk_id], [('a', 'changed')])
        self._tag('snapshot', [snapshot_id], [('s', 'x')])
        self.assertEqual({'a': 'changed', 'b': '2'},
                         self._tags('disk', disk_id))
        self.assertEqual({'s': 'x'}, self._tags('snapshot', snapshot_id))
        disk = self.api.disk(disk_id)
        self.assertEqual([{'TagKey': 'a', 'TagValue': 'changed'},
                          {'TagKey': 'b', 'TagValue': '2'}],
                         disk['Tags']['Tag'])
        self.assertEqual([disk_id], [d['DiskId'] for d in self.api.disks(
            tag=[ecs_models.DescribeDisksRequestTag(
                key='a', value='changed')])['Disks']['Disk']])
        self.api.sdk.untag_resources(ecs_models.UntagResourcesRequest(
            region_id=self.api.region, resource_type='disk',
            resource_id=[disk_id], tag_key=['a']))
        self.assertEqual({'b': '2'}, self._tags('disk', disk_id))
        self.api.sdk.untag_resources(ecs_models.UntagResourcesRequest(
            region_id=self.api.region, resource_type='disk',
            resource_id=[disk_id], all=True))
        self.assertEqual({}, self._tags('disk', disk_id))

    def test_tag_errors(self):
        disk_id = self.api.create_disk()
        self.assertEcsError('InvalidResourceId.NotFound', 404, self._tag,
                            'disk', ['d-nothere'], [('a', '1')])
        self.assertEcsError('InvalidResourceType.NotFound', 404, self._tag,
                            'volume', [disk_id], [('a', '1')])
        self.assertEcsError('MissingParameter', 400, self._tag, 'disk',
                            [disk_id], [])
        self.assertEcsError('InvalidTagKey.Malformed', 400, self._tag,
                            'disk', [disk_id], [('aliyun-x', '1')])
        self._tag('disk', [disk_id], [('k%d' % n, 'v') for n in range(20)])
        self.assertEcsError('QuotaExceed.Tags', 403, self._tag, 'disk',
                            [disk_id], [('one-more', 'v')])


class InventoryTest(base.SharedEmulatorTestCase):
    use_loop_devices = 'no'

    def test_describe_instances(self):
        describe = self.api.sdk.describe_instances
        body = describe(ecs_models.DescribeInstancesRequest(
            region_id=self.api.region, page_size=100)).body
        self.assertEqual(20, body.total_count)
        first = body.instances.instance[0]
        self.assertEqual(('i-emu0000', 'host-0', 'Running', self.api.zone,
                          self.api.region),
                         (first.instance_id, first.host_name, first.status,
                          first.zone_id, first.region_id))
        self.assertTrue(first.serial_number)
        body = describe(ecs_models.DescribeInstancesRequest(
            region_id=self.api.region,
            instance_ids='["i-emu0003", "i-emu0007"]')).body
        self.assertEqual(['i-emu0003', 'i-emu0007'],
                         [i.instance_id for i in body.instances.instance])
        body = describe(ecs_models.DescribeInstancesRequest(
            region_id=self.api.region, page_size=5, page_number=4)).body
        self.assertEqual(['i-emu%04d' % n for n in range(15, 20)],
                         [i.instance_id for i in body.instances.instance])
        self.assertEcsError('InvalidRegionId.NotFound', 404, describe,
                            ecs_models.DescribeInstancesRequest(
                                region_id='mars'))
        self.assertEcsError('MissingParameter', 400, describe,
                            ecs_models.DescribeInstancesRequest())

    def test_describe_regions(self):
        body = self.api.sdk.describe_regions(
            ecs_models.DescribeRegionsRequest()).body
        self.assertEqual([self.api.region],
                         [r.region_id for r in body.regions.region])
