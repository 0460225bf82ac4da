"""EBSClient against a fake SDK: requests, answers, retries, logs."""

import json
import logging

from cinder import exception as cinder_exception
from cinder.volume import configuration as cinder_configuration
import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception
from cinder_ebs_driver import options
from tests.unit.client import fakes


def disk(disk_id, status='Available', instances=(), **kw):
    item = {'DiskId': disk_id, 'Status': status, 'Size': 10,
            'Category': 'cloud_essd', 'PerformanceLevel': 'PL1',
            'MultiAttach': 'Enabled',
            'Attachments': {'Attachment': [{'InstanceId': i}
                                           for i in instances]}}
    item.update(kw)
    return item


def disks_page(items, total=None, page_size=100):
    return {'Disks': {'Disk': list(items)}, 'PageSize': page_size,
            'TotalCount': len(items) if total is None else total}


class ClientTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(levelname)s %(message)s'))
        self.conf = fakes.make_conf(self)
        self.sleeps = []
        self.client = ebs_client.EBSClient(self.conf,
                                           sleep=self.sleeps.append)
        self.sdk = fakes.FakeSDK()
        self.client._sdk = self.sdk

    def request(self, index=-1):
        return self.sdk.calls[index][1]


class ConfigTestCase(testtools.TestCase):

    def test_sdk_config(self):
        conf = fakes.make_conf(self, ebs_api_timeout=7,
                               ebs_endpoint='ecs.example.com:8443',
                               ebs_protocol='https')
        client = ebs_client.EBSClient(conf)
        sdk = client._sdk
        self.assertEqual('ecs.example.com:8443', sdk._endpoint)
        self.assertEqual('https', sdk._protocol)
        self.assertEqual('emu-region-1', sdk._region_id)
        self.assertEqual(7000, sdk._read_timeout)
        self.assertEqual(7000, sdk._connect_timeout)
        self.assertIsNone(sdk._retry_options)
        self.assertEqual(3, client._retries)
        self.assertEqual(0.0, client._retry_interval)

    def test_region_endpoint_when_no_endpoint(self):
        conf = fakes.make_conf(self, ebs_endpoint=None,
                               ebs_region_id='cn-hangzhou')
        client = ebs_client.EBSClient(conf)
        self.assertEqual('ecs-cn-hangzhou.aliyuncs.com',
                         client._sdk._endpoint)

    def test_retry_interval_argument_wins(self):
        conf = fakes.make_conf(self, ebs_api_retry_interval=3.0)
        self.assertEqual(3.0, ebs_client.EBSClient(conf)._retry_interval)
        self.assertEqual(
            0.01,
            ebs_client.EBSClient(conf, retry_interval=0.01)._retry_interval)

    def test_missing_settings(self):
        conf = fakes.make_conf(self, ebs_access_key_secret=None,
                               ebs_region_id=None)
        error = self.assertRaises(
            cinder_exception.InvalidConfigurationValue,
            ebs_client.EBSClient, conf)
        self.assertIn('ebs_region_id', str(error))
        self.assertIn('ebs_access_key_secret', str(error))

    def test_cinder_configuration(self):
        # The driver hands its backend Configuration to the client.
        self.useFixture(config_fixture.Config(cfg.CONF))
        configuration = cinder_configuration.Configuration(
            options.ebs_opts, config_group='ebs-cfg-test')
        cfg.CONF.set_override('ebs_region_id', 'r-9', group='ebs-cfg-test')
        cfg.CONF.set_override('ebs_access_key_id', 'AK',
                              group='ebs-cfg-test')
        cfg.CONF.set_override('ebs_access_key_secret', 'sk',
                              group='ebs-cfg-test')
        cfg.CONF.set_override('ebs_endpoint', '127.0.0.1:1',
                              group='ebs-cfg-test')
        client = ebs_client.EBSClient(configuration)
        self.assertEqual('r-9', client._region_id)
        self.assertEqual(5, client._retries)
        self.assertEqual(300, client._state_timeout)
        self.assertEqual('https', client._sdk._protocol)


class DiskCallsTestCase(ClientTestCase):

    def test_create_disk(self):
        self.sdk.script('create_disk', {'DiskId': 'd-abc'})
        disk_id = self.client.create_disk(
            'volume-1', 20, 'cloud_essd', 'PL2', True, 'tok-1',
            description='Cinder volume', tags={'cinder-volume-id': 'v1'},
            snapshot_id='s-1', encrypted=True)
        self.assertEqual('d-abc', disk_id)
        self.assertEqual({
            'RegionId': 'emu-region-1', 'ZoneId': 'emu-zone-a',
            'DiskName': 'volume-1', 'Size': 20, 'DiskCategory': 'cloud_essd',
            'PerformanceLevel': 'PL2', 'MultiAttach': 'Enabled',
            'ClientToken': 'tok-1', 'Description': 'Cinder volume',
            'Tag': [{'Key': 'cinder-volume-id', 'Value': 'v1'}],
            'SnapshotId': 's-1', 'Encrypted': True}, self.request())

    def test_create_disk_minimal(self):
        self.sdk.script('create_disk', {'DiskId': 'd-abc'})
        self.client.create_disk('v', 1, 'cloud_auto', None, False, 't')
        request = self.request()
        self.assertEqual('Disabled', request['MultiAttach'])
        for key in ('PerformanceLevel', 'Tag', 'SnapshotId', 'Encrypted',
                    'Description'):
            self.assertNotIn(key, request)

    def test_create_disk_retried_with_same_token(self):
        self.sdk.script('create_disk', fakes.unanswered(), fakes.throttled(),
                        {'DiskId': 'd-abc'})
        self.assertEqual('d-abc', self.client.create_disk(
            'v', 1, 'cloud_essd', 'PL1', True, 'tok-7'))
        self.assertEqual(3, self.sdk.count('create_disk'))
        self.assertEqual({'tok-7'},
                         {c[1]['ClientToken'] for c in self.sdk.calls})
        self.assertEqual(2, len(self.sleeps))
        self.assertIn('WARNING ECS CreateDisk attempt 1 of 4 failed',
                      self.logger.output)

    def test_not_retried_on_client_error(self):
        self.sdk.script('create_disk', fakes.client_error(
            'InvalidDiskCategory.NotSupported', 'Not supported.'),
            {'DiskId': 'd-abc'})
        error = self.assertRaises(
            exception.EBSInvalidParameter, self.client.create_disk,
            'v', 1, 'cloud', 'PL1', True, 't')
        self.assertEqual('InvalidDiskCategory.NotSupported', error.code)
        self.assertEqual(1, self.sdk.count('create_disk'))
        self.assertEqual([], self.sleeps)

    def test_retries_exhausted(self):
        self.sdk.script('delete_disk', fakes.client_error(
            'ServiceUnavailable', status=503))
        self.assertRaises(exception.EBSThrottled, self.client.delete_disk,
                          'd-1')
        self.assertEqual(4, self.sdk.count('delete_disk'))
        self.assertEqual(3, len(self.sleeps))

    def test_bugs_are_not_translated(self):
        self.sdk.script('delete_disk', TypeError('a bug'))
        self.assertRaises(TypeError, self.client.delete_disk, 'd-1')
        self.assertEqual(1, self.sdk.count('delete_disk'))

    def test_delete_disk_not_found(self):
        self.sdk.script('delete_disk', fakes.client_error(
            'InvalidDiskId.NotFound', 'The specified disk does not exist.',
            status=404, request_id='R-404'))
        error = self.assertRaises(exception.EBSNotFound,
                                  self.client.delete_disk, 'd-gone')
        self.assertEqual('R-404', error.request_id)
        self.assertEqual({'DiskId': 'd-gone'}, self.request())

    def test_get_disk(self):
        self.sdk.script('describe_disks', disks_page([disk('d-1')]))
        self.assertEqual('d-1', self.client.get_disk('d-1')['DiskId'])
        self.assertEqual('["d-1"]', self.request()['DiskIds'])
        self.assertEqual('emu-region-1', self.request()['RegionId'])

    def test_get_disk_not_found(self):
        self.sdk.script('describe_disks', {'Disks': {'Disk': []},
                                           'RequestId': 'R-1'})
        error = self.assertRaises(exception.EBSNotFound,
                                  self.client.get_disk, 'd-none')
        self.assertEqual('InvalidDiskId.NotFound', error.code)
        self.assertEqual('R-1', error.request_id)
        self.assertIn('d-none', str(error))

    def test_list_disks_pagination(self):
        items = [disk('d-%03d' % i) for i in range(250)]
        self.sdk.script('describe_disks',
                        disks_page(items[:100], total=250),
                        disks_page(items[100:200], total=250),
                        disks_page(items[200:], total=250))
        result = self.client.list_disks(tags={'k': 'v'}, status='In_use')
        self.assertEqual([d['DiskId'] for d in items],
                         [d['DiskId'] for d in result])
        self.assertEqual([1, 2, 3],
                         [c[1]['PageNumber'] for c in self.sdk.calls])
        self.assertEqual({100}, {c[1]['PageSize'] for c in self.sdk.calls})
        self.assertEqual([{'Key': 'k', 'Value': 'v'}], self.request()['Tag'])
        self.assertEqual('In_use', self.request()['Status'])
        self.assertNotIn('DiskIds', self.request())

    def test_list_disks_exact_page_multiple(self):
        items = [disk('d-%03d' % i) for i in range(200)]
        self.sdk.script('describe_disks',
                        disks_page(items[:100], total=200),
                        disks_page(items[100:], total=200))
        self.assertEqual(200, len(self.client.list_disks()))
        self.assertEqual(2, self.sdk.count('describe_disks'))

    def test_list_disks_smaller_server_pages(self):
        items = [disk('d-%03d' % i) for i in range(25)]
        self.sdk.script('describe_disks',
                        disks_page(items[:10], 25, page_size=10),
                        disks_page(items[10:20], 25, page_size=10),
                        disks_page(items[20:], 25, page_size=10))
        self.assertEqual(25, len(self.client.list_disks()))

    def test_list_disks_by_ids(self):
        ids = ['d-%03d' % i for i in range(150)]
        self.sdk.script(
            'describe_disks',
            lambda request: disks_page(
                [disk(i) for i in json.loads(request.disk_ids)]))
        result = self.client.list_disks(disk_ids=ids)
        self.assertEqual(ids, [d['DiskId'] for d in result])
        self.assertEqual(2, self.sdk.count('describe_disks'))
        self.assertEqual([], self.client.list_disks(disk_ids=[]))
        self.assertEqual(2, self.sdk.count('describe_disks'))

    def test_attach_disk(self):
        self.sdk.script('attach_disk', {})
        self.client.attach_disk('d-1', 'i-1')
        self.assertEqual({'DiskId': 'd-1', 'InstanceId': 'i-1'},
                         self.request())

    def test_attach_repeated_after_lost_answer(self):
        # The first attempt attached the disk but its answer was lost; the
        # repeated one is refused because the disk is already attached.
        self.sdk.script('attach_disk', fakes.unanswered(),
                        fakes.client_error('InvalidOperation.Conflict'))
        self.sdk.script('describe_disks',
                        disks_page([disk('d-1', 'In_use', ['i-1'])]))
        self.client.attach_disk('d-1', 'i-1')
        self.assertEqual(2, self.sdk.count('attach_disk'))
        self.assertIn('did it', self.logger.output)

    def test_attach_repeated_while_the_first_is_under_way(self):
        # An attachment in progress is not listed: the client waits for the
        # disk to leave Attaching before deciding.
        self.sdk.script('attach_disk', fakes.unanswered(),
                        fakes.client_error('IncorrectDiskStatus',
                                           status=403))
        self.sdk.script('describe_disks',
                        disks_page([disk('d-1', 'Attaching')]),
                        disks_page([disk('d-1', 'Attaching')]),
                        disks_page([disk('d-1', 'In_use', ['i-1'])]))
        self.client.attach_disk('d-1', 'i-1')
        self.assertEqual(3, self.sdk.count('describe_disks'))

    def test_attach_repeated_and_the_first_did_not_happen(self):
        self.sdk.script('attach_disk', fakes.unanswered(),
                        fakes.client_error('IncorrectDiskStatus',
                                           status=403))
        self.sdk.script('describe_disks',
                        disks_page([disk('d-1', 'In_use', ['i-2'])]))
        self.assertRaises(exception.EBSIncorrectStatus,
                          self.client.attach_disk, 'd-1', 'i-1')

    def test_attach_refused_first_time_is_an_error(self):
        self.sdk.script('attach_disk', fakes.client_error(
            'IncorrectDiskStatus', 'The disk is not available.',
            status=403))
        self.assertRaises(exception.EBSIncorrectStatus,
                          self.client.attach_disk, 'd-1', 'i-1')
        self.assertEqual(0, self.sdk.count('describe_disks'))

    def test_attach_repeated_and_refused_for_real(self):
        self.sdk.script('attach_disk', fakes.throttled(),
                        fakes.client_error('InvalidInstanceId.NotFound',
                                           status=404))
        self.sdk.script('describe_disks', disks_page([disk('d-1')]))
        self.assertRaises(exception.EBSNotFound, self.client.attach_disk,
                          'd-1', 'i-1')

    def test_detach_repeated_after_lost_answer(self):
        self.sdk.script('detach_disk', fakes.unanswered(),
                        fakes.client_error('IncorrectDiskStatus',
                                           status=403))
        self.sdk.script('describe_disks',
                        disks_page([disk('d-1', 'In_use', ['i-2'])]))
        self.client.detach_disk('d-1', 'i-1')
        self.assertEqual({'DiskId': 'd-1', 'InstanceId': 'i-1'},
                         self.request(0))

    def test_detach_repeated_while_the_first_is_under_way(self):
        self.sdk.script('detach_disk', fakes.throttled(), fakes.client_error(
            'InvalidOperation.DiskDetachingFromThisEcs', status=403))
        self.client.detach_disk('d-1', 'i-1')
        self.assertEqual(0, self.sdk.count('describe_disks'))

    def test_detach_refused_first_time_is_an_error(self):
        self.sdk.script('detach_disk', fakes.client_error(
            'DependencyViolation', status=403))
        self.assertRaises(exception.EBSBackendError,
                          self.client.detach_disk, 'd-1', 'i-1')
        self.assertEqual(0, self.sdk.count('describe_disks'))

    def test_resize_disk(self):
        self.sdk.script('resize_disk', {})
        self.client.resize_disk('d-1', 30, online=True)
        request = self.request()
        self.assertEqual('online', request['Type'])
        self.assertEqual(30, request['NewSize'])
        self.assertTrue(request['ClientToken'])
        self.client.resize_disk('d-1', 40)
        self.assertEqual('offline', self.request()['Type'])

    def test_modify_disk_spec(self):
        self.sdk.script('modify_disk_spec', {})
        self.client.modify_disk_spec('d-1', performance_level='PL3')
        self.assertEqual({'DiskId': 'd-1', 'PerformanceLevel': 'PL3'},
                         self.request())

    def test_modify_disk_attribute(self):
        self.sdk.script('modify_disk_attribute', {})
        self.client.modify_disk_attribute('d-1', name='n', description='x')
        self.assertEqual({'DiskId': 'd-1', 'DiskName': 'n',
                          'Description': 'x'}, self.request())

    def test_tags(self):
        self.sdk.script('tag_resources', {})
        self.sdk.script('untag_resources', {})
        self.client.tag_disk('d-1', {'b': '2', 'a': '1'})
        self.assertEqual({'RegionId': 'emu-region-1', 'ResourceType': 'disk',
                          'ResourceId': ['d-1'],
                          'Tag': [{'Key': 'a', 'Value': '1'},
                                  {'Key': 'b', 'Value': '2'}]},
                         self.request())
        self.client.untag_disk('d-1', ['a'])
        self.assertEqual({'RegionId': 'emu-region-1', 'ResourceType': 'disk',
                          'ResourceId': ['d-1'], 'TagKey': ['a']},
                         self.request())

    def test_snapshot_tags(self):
        self.sdk.script('tag_resources', {})
        self.sdk.script('untag_resources', {})
        self.client.tag_snapshot('s-1', {'cinder-snapshot-id': 'x'})
        self.assertEqual('snapshot', self.request()['ResourceType'])
        self.assertEqual(['s-1'], self.request()['ResourceId'])
        self.client.untag_snapshot('s-1', ['cinder-snapshot-id'])
        self.assertEqual(['cinder-snapshot-id'], self.request()['TagKey'])

    def test_reset_disk(self):
        self.sdk.script('reset_disk', {})
        self.client.reset_disk('d-1', 's-1')
        self.assertEqual({'DiskId': 'd-1', 'SnapshotId': 's-1'},
                         self.request())


class SnapshotAndInstanceCallsTestCase(ClientTestCase):

    def test_create_snapshot(self):
        self.sdk.script('create_snapshot', {'SnapshotId': 's-1'})
        self.assertEqual('s-1', self.client.create_snapshot(
            'd-1', 'snap', 'tok', description='x', tags={'k': 'v'}))
        self.assertEqual({'DiskId': 'd-1', 'SnapshotName': 'snap',
                          'ClientToken': 'tok', 'Description': 'x',
                          'Tag': [{'Key': 'k', 'Value': 'v'}]},
                         self.request())

    def test_get_snapshot(self):
        self.sdk.script('describe_snapshots', {'Snapshots': {'Snapshot': [
            {'SnapshotId': 's-1', 'Status': 'accomplished'}]}})
        self.assertEqual('accomplished',
                         self.client.get_snapshot('s-1')['Status'])
        self.assertEqual('["s-1"]', self.request()['SnapshotIds'])
        self.sdk.script('describe_snapshots', {'Snapshots': {}})
        error = self.assertRaises(exception.EBSNotFound,
                                  self.client.get_snapshot, 's-2')
        self.assertEqual('InvalidSnapshotId.NotFound', error.code)

    def test_list_snapshots(self):
        self.sdk.script('describe_snapshots', {
            'Snapshots': {'Snapshot': [{'SnapshotId': 's-1'}]},
            'TotalCount': 1})
        self.assertEqual([{'SnapshotId': 's-1'}],
                         self.client.list_snapshots(disk_id='d-1'))
        self.assertEqual('d-1', self.request()['DiskId'])
        self.assertEqual([], self.client.list_snapshots(snapshot_ids=[]))

    def test_delete_snapshot(self):
        self.sdk.script('delete_snapshot', {})
        self.client.delete_snapshot('s-1')
        self.assertEqual({'SnapshotId': 's-1'}, self.request())

    def test_list_instances(self):
        instances = [{'InstanceId': 'i-%03d' % i} for i in range(120)]
        self.sdk.script(
            'describe_instances',
            {'Instances': {'Instance': instances[:100]}, 'TotalCount': 120},
            {'Instances': {'Instance': instances[100:]}, 'TotalCount': 120})
        self.assertEqual(instances, self.client.list_instances())


class WaiterTestCase(ClientTestCase):

    def test_wait_for_disk_status(self):
        self.sdk.script('describe_disks', disks_page([disk('d-1',
                                                           'Creating')]),
                        disks_page([disk('d-1', 'Available')]))
        result = self.client.wait_for_disk_status('d-1', 'Available')
        self.assertEqual('Available', result['Status'])
        self.assertEqual([0.01], self.sleeps)

    def test_wait_for_disk_status_timeout(self):
        conf = fakes.make_conf(self, ebs_state_timeout=1,
                               ebs_state_poll_interval=0.05)
        client = ebs_client.EBSClient(conf)
        client._sdk = self.sdk
        self.sdk.script('describe_disks',
                        disks_page([disk('d-1', 'Creating')]))
        error = self.assertRaises(exception.EBSTimeout,
                                  client.wait_for_disk_status, 'd-1',
                                  ['Available', 'In_use'], timeout=0.3)
        self.assertIn('waiting for disk d-1 to reach status Available or '
                      'In_use; last seen: status Creating', str(error))
        self.assertEqual(0.3, error.timeout)

    def test_wait_for_attachment(self):
        # A multi-attach disk lists an attachment once it is complete,
        # whatever other instances are doing.
        self.sdk.script(
            'describe_disks',
            disks_page([disk('d-1', 'Attaching', ['i-2'])]),
            disks_page([disk('d-1', 'Attaching', ['i-1', 'i-2'])]))
        result = self.client.wait_for_attachment('d-1', 'i-1')
        self.assertEqual(['i-1', 'i-2'],
                         ebs_client.attached_instance_ids(result))
        self.assertEqual(2, self.sdk.count('describe_disks'))

    def _clocked_client(self, **options):
        clock = fakes.FakeClock()
        self.useFixture(fixtures.MonkeyPatch('time.monotonic',
                                             clock.monotonic))
        conf = fakes.make_conf(self, **options) if options else self.conf
        client = ebs_client.EBSClient(conf, sleep=clock.sleep)
        client._sdk = self.sdk
        return client, clock

    def test_first_read_follows_the_last_transition_of_its_kind(self):
        client, clock = self._clocked_client()
        attaching = disks_page([disk('d-1', 'Attaching')])
        attached = disks_page([disk('d-1', 'In_use', ['i-1'])])
        # No estimate yet: read right away, then after a quarter of the
        # 0.01 s poll interval, doubling; seen done at 0.0075 s.
        self.sdk.script('describe_disks', attaching, attaching, attached)
        client.wait_for_attachment('d-1', 'i-1')
        self.assertEqual([0.0025, 0.005], clock.sleeps)
        # The next attach is first read when the last one was seen done.
        del clock.sleeps[:]
        self.sdk.script('describe_disks', attached)
        client.wait_for_attachment('d-1', 'i-1')
        self.assertEqual(1, len(clock.sleeps))
        self.assertAlmostEqual(0.0075, clock.sleeps[0])
        # Done at its first read: the next one reads a little earlier,
        # and too early, reads again a tenth of that time later.
        del clock.sleeps[:]
        self.sdk.script('describe_disks', attaching, attached)
        client.wait_for_attachment('d-1', 'i-1')
        self.assertEqual(2, len(clock.sleeps))
        self.assertAlmostEqual(0.00675, clock.sleeps[0])
        self.assertAlmostEqual(0.000675, clock.sleeps[1])
        # Seen done at 0.007425 s: that is the next estimate.
        del clock.sleeps[:]
        self.sdk.script('describe_disks', attached)
        client.wait_for_attachment('d-1', 'i-1')
        self.assertAlmostEqual(0.007425, clock.sleeps[0])
        # Other kinds keep their own estimate (none for detaches yet).
        del clock.sleeps[:]
        self.sdk.script('describe_disks', disks_page([disk('d-1')]))
        client.wait_for_attachment('d-1', 'i-1', attached=False)
        self.assertEqual([], clock.sleeps)

    def test_a_reads_own_duration_is_not_part_of_the_estimate(self):
        client, clock = self._clocked_client()
        attached = disks_page([disk('d-1', 'In_use', ['i-1'])])

        def slow_read(request):
            clock.now += 0.04
            return attached

        # Done at once, answered 40 ms later: the next wait does not wait
        # those 40 ms before its first read.
        self.sdk.script('describe_disks', slow_read)
        client.wait_for_attachment('d-1', 'i-1')
        client.wait_for_attachment('d-1', 'i-1')
        self.assertEqual([], [s for s in clock.sleeps if s > 0])
        # Seen done by the read sent 0.0025 s after the start: that is
        # the estimate, whatever the answer took.
        client, clock = self._clocked_client()
        attaching = disks_page([disk('d-1', 'Attaching')])
        self.sdk.script('describe_disks', attaching, slow_read)
        client.wait_for_attachment('d-1', 'i-1')
        del clock.sleeps[:]
        client.wait_for_attachment('d-1', 'i-1')
        self.assertEqual(1, len(clock.sleeps))
        self.assertAlmostEqual(0.0025, clock.sleeps[0])

    def test_reads_back_off_on_a_slow_backend(self):
        client, clock = self._clocked_client(ebs_state_poll_interval=1.0,
                                             ebs_state_timeout=300)
        creating = disks_page([disk('d-1', 'Creating')])
        available = disks_page([disk('d-1', 'Available')])
        self.sdk.script('describe_disks', creating, available)
        client.wait_for_disk_status('d-1', 'Available', transition='create')
        self.assertEqual([0.25], clock.sleeps)
        # This create takes far longer than the last one: after the first
        # read at 0.25 s the gaps double from a tenth of that (at least a
        # fiftieth of the interval) up to ten times the interval.
        del clock.sleeps[:]
        self.sdk.script('describe_disks', *([creating] * 10 + [available]))
        client.wait_for_disk_status('d-1', 'Available', transition='create')
        expected = [0.25, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4,
                    10.0]
        self.assertEqual(len(expected), len(clock.sleeps))
        for want, got in zip(expected, clock.sleeps):
            self.assertAlmostEqual(want, got)
        # The next create is first read when this one was seen done.
        seen_done = sum(clock.sleeps)
        del clock.sleeps[:]
        self.sdk.script('describe_disks', available)
        client.wait_for_disk_status('d-1', 'Available', transition='create')
        self.assertEqual(1, len(clock.sleeps))
        self.assertAlmostEqual(seen_done, clock.sleeps[0])

    def test_untimed_waits_poll_at_the_interval(self):
        client, clock = self._clocked_client(ebs_state_poll_interval=1.0,
                                             ebs_state_timeout=300)
        creating = disks_page([disk('d-1', 'Creating')])
        self.sdk.script('describe_disks', creating, creating,
                        disks_page([disk('d-1', 'Available')]))
        client.wait_for_disk_status('d-1', 'Available')
        self.assertEqual([1.0, 2.0], clock.sleeps)

    def test_wait_for_attachment_single_attach_disk(self):
        self.sdk.script(
            'describe_disks',
            disks_page([disk('d-1', 'Attaching', MultiAttach='Disabled')]),
            disks_page([disk('d-1', 'Attaching', MultiAttach='Disabled',
                             InstanceId='i-1')]),
            disks_page([disk('d-1', 'In_use', MultiAttach='Disabled',
                             InstanceId='i-1')]))
        result = self.client.wait_for_attachment('d-1', 'i-1')
        self.assertEqual('In_use', result['Status'])
        self.assertEqual(3, self.sdk.count('describe_disks'))

    def test_wait_for_detachment(self):
        self.sdk.script(
            'describe_disks',
            disks_page([disk('d-1', 'Detaching', ['i-1', 'i-2'])]),
            disks_page([disk('d-1', 'In_use', ['i-2'])]))
        result = self.client.wait_for_attachment('d-1', 'i-1',
                                                 attached=False)
        self.assertEqual(['i-2'], ebs_client.attached_instance_ids(result))

    def test_wait_for_detachment_of_a_deleted_disk(self):
        self.sdk.script('describe_disks', disks_page([]))
        self.assertIsNone(self.client.wait_for_attachment('d-1', 'i-1',
                                                          attached=False))

    def test_wait_for_attachment_timeout(self):
        self.sdk.script('describe_disks',
                        disks_page([disk('d-1', 'In_use', ['i-2'])]))
        error = self.assertRaises(exception.EBSTimeout,
                                  self.client.wait_for_attachment, 'd-1',
                                  'i-1', timeout=0.05)
        self.assertIn('disk d-1 to be attached to i-1', str(error))
        self.assertIn('last seen: status In_use, attached to i-2',
                      str(error))

    def test_wait_for_snapshot(self):
        self.sdk.script(
            'describe_snapshots',
            {'Snapshots': {'Snapshot': [{'SnapshotId': 's-1',
                                         'Status': 'progressing',
                                         'Progress': '40%'}]}},
            {'Snapshots': {'Snapshot': [{'SnapshotId': 's-1',
                                         'Status': 'accomplished',
                                         'Progress': '100%'}]}})
        self.assertEqual('100%',
                         self.client.wait_for_snapshot('s-1')['Progress'])

    def test_wait_for_failed_snapshot(self):
        self.sdk.script('describe_snapshots', {'Snapshots': {'Snapshot': [
            {'SnapshotId': 's-1', 'Status': 'failed'}]}})
        error = self.assertRaises(exception.EBSBackendError,
                                  self.client.wait_for_snapshot, 's-1')
        self.assertEqual('SnapshotFailed', error.code)
        self.assertEqual(1, self.sdk.count('describe_snapshots'))

    def test_wait_for_disk_deleted(self):
        self.sdk.script('describe_disks', disks_page([disk('d-1')]),
                        disks_page([]))
        self.assertIsNone(self.client.wait_for_disk_deleted('d-1'))
        self.assertEqual(2, self.sdk.count('describe_disks'))


class LoggingTestCase(ClientTestCase):

    def test_debug_log_of_a_call(self):
        self.sdk.script('create_disk', {'DiskId': 'd-1',
                                        'RequestId': 'REQ-LOGGED'})
        self.client.create_disk('vol', 1, 'cloud_essd', 'PL1', True, 'tok')
        output = self.logger.output
        self.assertIn("DEBUG ECS CreateDisk {", output)
        self.assertIn("'DiskName': 'vol'", output)
        self.assertIn('RequestId REQ-LOGGED', output)
        self.assertRegex(output, r'RequestId REQ-LOGGED, \d+\.\d{3} s')

    def test_secret_never_logged_nor_raised(self):
        # A service that echoes what it got, the secret included, in an
        # error message, and a caller that put it in a parameter.
        secret = fakes.SECRET
        self.sdk.script('modify_disk_attribute', fakes.unanswered(),
                        fakes.client_error(
                            'SignatureDoesNotMatch',
                            'The signature does not match: key %s' % secret,
                            request_id='R-SIG'))
        error = self.assertRaises(
            exception.EBSAuthError, self.client.modify_disk_attribute,
            'd-1', description='oops %s' % secret)
        self.assertEqual(2, self.sdk.count('modify_disk_attribute'))
        output = self.logger.output
        self.assertIn('ModifyDiskAttribute', output)
        self.assertIn('R-SIG', output)
        self.assertNotIn(secret, output)
        self.assertNotIn(secret, str(error))
        self.assertNotIn(secret, repr(error.args))
        self.assertIsNone(error.__cause__)

    def test_secret_not_in_connection_failure(self):
        conf = fakes.make_conf(self, ebs_api_retries=1,
                               ebs_endpoint='127.0.0.1:9',
                               ebs_api_timeout=2)
        client = ebs_client.EBSClient(conf, sleep=lambda s: None)
        error = self.assertRaises(exception.EBSConnectionError,
                                  client.list_instances)
        self.assertNotIn(fakes.SECRET, self.logger.output)
        self.assertNotIn(fakes.SECRET, str(error))
        self.assertIn('DescribeInstances', self.logger.output)
