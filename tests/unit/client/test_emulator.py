"""EBSClient against the EBS emulator over real HTTP, faults included."""

import logging
import os
import time
import uuid

import fixtures
import testtools

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception
from tests import emulator_fixture
from tests.unit.client import fakes

VOLUME_TAG = 'cinder-volume-id'
SNAPSHOT_TAG = 'cinder-snapshot-id'


class EmulatorTestCase(testtools.TestCase):
    """One emulator per test; a client configured for it."""

    emulator_kwargs = {}

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(levelname)s %(name)s %(message)s'))
        self.emu = self.useFixture(
            emulator_fixture.EmulatorFixture(**self.emulator_kwargs))
        self.sleeps = []
        self.client = self.make_client()

    def make_client(self, **overrides):
        values = dict(ebs_endpoint=self.emu.endpoint,
                      ebs_access_key_id=self.emu.access_key_id,
                      ebs_access_key_secret=self.emu.access_key_secret,
                      ebs_region_id=self.emu.region_id,
                      ebs_zone_id=self.emu.zone_id,
                      ebs_api_timeout=5, ebs_api_retries=4,
                      ebs_api_retry_interval=0.01,
                      ebs_state_poll_interval=0.02, ebs_state_timeout=15)
        values.update(overrides)
        conf = fakes.make_conf(self, **values)

        def sleep(seconds):
            self.sleeps.append(seconds)
            time.sleep(seconds)
        return ebs_client.EBSClient(conf, sleep=sleep)

    def create_disk(self, volume_id=None, size=20, multi_attach=True,
                    wait=True, **kw):
        volume_id = volume_id or str(uuid.uuid4())
        disk_id = self.client.create_disk(
            'volume-%s' % volume_id, size, 'cloud_essd', 'PL1',
            multi_attach, 'volume-%s' % volume_id,
            tags={VOLUME_TAG: volume_id}, **kw)
        if wait:
            self.client.wait_for_disk_status(disk_id, 'Available')
        return disk_id

    def attach_once(self, disk_id):
        """ECS snapshots only disks that have been attached before."""
        instance_id = self.emu.instances[0]['InstanceId']
        self.client.attach_disk(disk_id, instance_id)
        self.client.wait_for_attachment(disk_id, instance_id)
        self.client.detach_disk(disk_id, instance_id)
        self.client.wait_for_attachment(disk_id, instance_id,
                                        attached=False)

    def disks_of(self, volume_id):
        return self.client.list_disks(tags={VOLUME_TAG: volume_id})

    def forget_sleeps(self):
        del self.sleeps[:]

    def fired(self):
        return sum(rule['fired'] for rule in self.emu.get_faults())


class DiskTestCase(EmulatorTestCase):

    # A missing disk's deletion answers NotFound (see ebs_emulator.rules).
    emulator_kwargs = {'readings': {'delete-missing': 'not-found'}}

    def test_create_describe_delete(self):
        volume_id = str(uuid.uuid4())
        disk_id = self.client.create_disk(
            'volume-1', 20, 'cloud_essd', 'PL1', True, 'token-%s' % volume_id,
            description='Cinder volume %s' % volume_id,
            tags={VOLUME_TAG: volume_id})
        self.assertTrue(disk_id.startswith('d-'))
        disk = self.client.wait_for_disk_status(disk_id, ['Available'])
        self.assertEqual('Available', disk['Status'])
        self.assertEqual('volume-1', disk['DiskName'])
        self.assertEqual(20, disk['Size'])
        self.assertEqual('cloud_essd', disk['Category'])
        self.assertEqual('PL1', disk['PerformanceLevel'])
        self.assertEqual('Enabled', disk['MultiAttach'])
        self.assertEqual(self.emu.zone_id, disk['ZoneId'])
        self.assertEqual(disk_id[2:], disk['SerialNumber'])
        self.assertIn({'TagKey': VOLUME_TAG, 'TagValue': volume_id},
                      disk['Tags']['Tag'])
        self.assertEqual(disk, self.client.get_disk(disk_id))
        self.assertEqual([disk_id],
                         [d['DiskId'] for d in self.disks_of(volume_id)])
        self.assertEqual([disk_id], [d['DiskId'] for d in
                                     self.client.list_disks([disk_id])])
        self.assertIn(disk_id, [d['DiskId'] for d in
                                self.client.list_disks(status='Available')])
        self.assertEqual([], self.client.list_disks(status='In_use'))

        self.client.delete_disk(disk_id)
        self.client.wait_for_disk_deleted(disk_id)
        error = self.assertRaises(exception.EBSNotFound,
                                  self.client.get_disk, disk_id)
        self.assertEqual('InvalidDiskId.NotFound', error.code)
        error = self.assertRaises(exception.EBSNotFound,
                                  self.client.delete_disk, disk_id)
        self.assertEqual('InvalidDiskId.NotFound', error.code)
        self.assertEqual(404, error.http_status)
        self.assertEqual(str(uuid.UUID(error.request_id)).upper(),
                         error.request_id)
        self.assertIn('(RequestId %s)' % error.request_id, str(error))

    def test_same_client_token_same_disk(self):
        volume_id = str(uuid.uuid4())
        first = self.create_disk(volume_id, wait=False)
        second = self.create_disk(volume_id, wait=False)
        self.assertEqual(first, second)
        self.assertEqual(1, len(self.disks_of(volume_id)))

    def test_single_attach_disk(self):
        disk_id = self.create_disk(multi_attach=False)
        self.assertEqual('Disabled', self.client.get_disk(disk_id)[
            'MultiAttach'])

    def test_invalid_parameter(self):
        error = self.assertRaises(
            exception.EBSBackendError, self.client.create_disk, 'v', 20,
            'cloud_efficiency', None, True, str(uuid.uuid4()))
        self.assertTrue(error.code)
        self.assertEqual(400 <= error.http_status < 500, True)
        self.assertEqual([], self.sleeps)

    def test_resize_modify_tags(self):
        # ECS changes no spec of a multi-attach disk.
        disk_id = self.create_disk(multi_attach=False)
        self.client.resize_disk(disk_id, 40)
        disk = self.client.wait_for_disk_status(disk_id, 'Available')
        self.assertEqual(40, disk['Size'])

        self.client.modify_disk_spec(disk_id, performance_level='PL0')
        disk = self.client.wait_for_disk_status(disk_id, 'Available')
        self.assertEqual('PL0', disk['PerformanceLevel'])

        self.client.modify_disk_attribute(disk_id, name='renamed',
                                          description='described')
        disk = self.client.get_disk(disk_id)
        self.assertEqual('renamed', disk['DiskName'])
        self.assertEqual('described', disk['Description'])

        self.client.tag_disk(disk_id, {'extra': 'yes', 'other': '1'})
        tags = {t['TagKey']: t['TagValue']
                for t in self.client.get_disk(disk_id)['Tags']['Tag']}
        self.assertEqual('yes', tags['extra'])
        self.assertEqual([disk_id], [d['DiskId'] for d in
                                     self.client.list_disks(
                                         tags={'extra': 'yes'})])
        self.client.untag_disk(disk_id, ['extra', 'other'])
        tags = {t['TagKey'] for t in
                self.client.get_disk(disk_id)['Tags']['Tag']}
        self.assertNotIn('extra', tags)
        self.assertIn(VOLUME_TAG, tags)

    def test_wait_for_disk_status_timeout(self):
        disk_id = self.create_disk()
        start = time.monotonic()
        error = self.assertRaises(exception.EBSTimeout,
                                  self.client.wait_for_disk_status, disk_id,
                                  'In_use', timeout=0.5)
        self.assertLess(time.monotonic() - start, 3)
        self.assertIn('waiting for disk %s to reach status In_use' % disk_id,
                      str(error))
        self.assertIn('last seen: status Available', str(error))
        self.assertEqual(0.5, error.timeout)

    def test_list_disks_pagination(self):
        # Small pages, so that a few disks span several of them.
        self.client.page_size = 4
        volume_id = str(uuid.uuid4())
        created = set()
        for i in range(10):
            created.add(self.client.create_disk(
                'v%d' % i, 20, 'cloud_essd', 'PL1', True,
                '%s-%d' % (volume_id, i), tags={'batch': volume_id}))
        disks = self.client.list_disks(tags={'batch': volume_id})
        self.assertEqual(10, len(disks))
        self.assertEqual(created, {d['DiskId'] for d in disks})
        self.assertEqual(3, self.logger.output.count(
            'ECS DescribeDisks {'))
        by_id = self.client.list_disks(disk_ids=sorted(created))
        self.assertEqual(created, {d['DiskId'] for d in by_id})

    def test_list_disks_by_tag_key_whatever_its_value(self):
        key = 'key-%s' % uuid.uuid4().hex[:8]
        tagged = {self.client.create_disk(
            'v%d' % i, 20, 'cloud_essd', 'PL1', True, '%s-%d' % (key, i),
            tags={key: 'value-%d' % i}) for i in range(3)}
        self.create_disk()
        disks = self.client.list_disks(tags={key: None})
        self.assertEqual(tagged, {d['DiskId'] for d in disks})


class AttachTestCase(EmulatorTestCase):

    def test_attach_detach_several_instances(self):
        disk_id = self.create_disk()
        instances = [i['InstanceId'] for i in self.emu.instances[:3]]
        for instance_id in instances:
            self.client.attach_disk(disk_id, instance_id)
        for instance_id in instances:
            disk = self.client.wait_for_attachment(disk_id, instance_id)
            self.assertIn(instance_id,
                          ebs_client.attached_instance_ids(disk))
            self.assertTrue(os.path.exists(
                self.emu.device_path(instance_id, disk_id)))
        disk = self.client.wait_for_disk_status(disk_id, 'In_use')
        self.assertEqual(sorted(instances),
                         sorted(ebs_client.attached_instance_ids(disk)))

        self.client.detach_disk(disk_id, instances[0])
        disk = self.client.wait_for_attachment(disk_id, instances[0],
                                               attached=False)
        self.assertEqual(sorted(instances[1:]),
                         sorted(ebs_client.attached_instance_ids(disk)))
        self.assertFalse(os.path.exists(
            self.emu.device_path(instances[0], disk_id)))
        for instance_id in instances[1:]:
            self.client.detach_disk(disk_id, instance_id)
            self.client.wait_for_attachment(disk_id, instance_id,
                                            attached=False)
        self.client.wait_for_disk_status(disk_id, 'Available')

    def test_attach_twice_is_refused(self):
        disk_id = self.create_disk()
        instance_id = self.emu.instances[0]['InstanceId']
        self.client.attach_disk(disk_id, instance_id)
        self.client.wait_for_attachment(disk_id, instance_id)
        error = self.assertRaises(exception.EBSBackendError,
                                  self.client.attach_disk, disk_id,
                                  instance_id)
        self.assertFalse(error.retryable)

    def test_attach_unknown_instance(self):
        disk_id = self.create_disk()
        self.assertRaises(exception.EBSNotFound, self.client.attach_disk,
                          disk_id, 'i-doesnotexist')

    def test_wait_for_attachment_timeout(self):
        disk_id = self.create_disk()
        error = self.assertRaises(
            exception.EBSTimeout, self.client.wait_for_attachment, disk_id,
            self.emu.instances[0]['InstanceId'], timeout=0.3)
        self.assertIn('to be attached to %s'
                      % self.emu.instances[0]['InstanceId'], str(error))
        self.assertIn('last seen: status Available, attached to nothing',
                      str(error))


class SnapshotTestCase(EmulatorTestCase):

    def test_snapshot_lifecycle(self):
        disk_id = self.create_disk()
        self.attach_once(disk_id)
        snapshot_tag = str(uuid.uuid4())
        snapshot_id = self.client.create_snapshot(
            disk_id, 'snap-1', 'snapshot-%s' % snapshot_tag,
            description='Cinder snapshot', tags={SNAPSHOT_TAG: snapshot_tag})
        self.assertTrue(snapshot_id.startswith('s-'))
        self.assertEqual(snapshot_id, self.client.create_snapshot(
            disk_id, 'snap-1', 'snapshot-%s' % snapshot_tag,
            description='Cinder snapshot', tags={SNAPSHOT_TAG: snapshot_tag}))
        snapshot = self.client.wait_for_snapshot(snapshot_id)
        self.assertEqual('accomplished', snapshot['Status'])
        self.assertEqual(disk_id, snapshot['SourceDiskId'])
        self.assertEqual(snapshot, self.client.get_snapshot(snapshot_id))
        self.assertEqual([snapshot_id], [
            s['SnapshotId'] for s in self.client.list_snapshots(
                disk_id=disk_id)])
        self.assertEqual([snapshot_id], [
            s['SnapshotId'] for s in self.client.list_snapshots(
                tags={SNAPSHOT_TAG: snapshot_tag})])
        self.assertEqual([snapshot_id], [
            s['SnapshotId'] for s in self.client.list_snapshots(
                snapshot_ids=[snapshot_id])])

        self.client.tag_snapshot(snapshot_id, {'extra': 'x'})
        self.assertIn({'TagKey': 'extra', 'TagValue': 'x'},
                      self.client.get_snapshot(snapshot_id)['Tags']['Tag'])
        self.client.untag_snapshot(snapshot_id, ['extra'])

        self.client.reset_disk(disk_id, snapshot_id)
        self.client.wait_for_disk_status(disk_id, 'Available')

        clone_id = self.client.create_disk(
            'clone', 20, 'cloud_essd', 'PL1', True, str(uuid.uuid4()),
            snapshot_id=snapshot_id)
        clone = self.client.wait_for_disk_status(clone_id, 'Available')
        self.assertEqual(snapshot_id, clone['SourceSnapshotId'])

        # ECS keeps a snapshot disks were made from unless forced.
        error = self.assertRaises(exception.EBSBackendError,
                                  self.client.delete_snapshot, snapshot_id)
        self.assertEqual('SnapshotCreatedDisk', error.code)
        self.client.delete_snapshot(snapshot_id, force=True)
        self.assertRaises(exception.EBSNotFound, self.client.get_snapshot,
                          snapshot_id)
        # Deleted again: ignored (the default reading of delete-missing).
        self.client.delete_snapshot(snapshot_id)


class InstanceTestCase(EmulatorTestCase):

    emulator_kwargs = {'num_instances': 130}

    def test_list_instances_every_page(self):
        instances = self.client.list_instances()
        self.assertEqual(130, len(instances))
        self.assertEqual(
            sorted(i['InstanceId'] for i in self.emu.instances),
            sorted(i['InstanceId'] for i in instances))
        first = {i['InstanceId']: i for i in instances}['i-emu0000']
        self.assertEqual(self.emu.instances[0]['SerialNumber'],
                         first['SerialNumber'])


class FaultTestCase(EmulatorTestCase):

    def test_throttled_calls_are_retried(self):
        disk_id = self.create_disk()
        self.forget_sleeps()
        self.emu.set_faults(kind='throttle', actions=['DescribeDisks'],
                            count=2)
        self.assertEqual(disk_id, self.client.get_disk(disk_id)['DiskId'])
        self.assertEqual(2, self.fired())
        self.assertEqual(2, len(self.sleeps))
        self.assertEqual(2, self.logger.output.count(
            'WARNING cinder_ebs_driver.client.calls ECS DescribeDisks '
            'attempt'))
        self.assertIn('Throttling.User', self.logger.output)

    def test_retry_after_is_honoured(self):
        disk_id = self.create_disk()
        self.forget_sleeps()
        self.emu.set_faults(kind='throttle', actions=['DescribeDisks'],
                            count=1, retry_after=200)
        self.client.get_disk(disk_id)
        self.assertEqual(1, len(self.sleeps))
        self.assertGreaterEqual(self.sleeps[0], 0.2)

    def test_server_errors_are_retried(self):
        volume_id = str(uuid.uuid4())
        self.emu.set_faults(rules=[
            {'kind': 'error', 'actions': ['CreateDisk'], 'count': 1},
            {'kind': 'error', 'actions': ['CreateDisk'], 'count': 1,
             'code': 'ServiceUnavailable', 'http_status': 503}])
        disk_id = self.create_disk(volume_id, wait=False)
        self.assertEqual(2, self.fired())
        self.assertEqual([disk_id],
                         [d['DiskId'] for d in self.disks_of(volume_id)])

    def test_client_errors_are_not_retried(self):
        disk_id = self.create_disk()
        self.forget_sleeps()
        self.emu.set_faults(kind='error', actions=['DescribeDisks'],
                            count=1, code='InvalidParameter',
                            http_status=400)
        error = self.assertRaises(exception.EBSInvalidParameter,
                                  self.client.get_disk, disk_id)
        self.assertEqual('InvalidParameter', error.code)
        self.assertEqual(400, error.http_status)
        self.assertEqual([], self.sleeps)
        # One refused call: the next one goes through.
        self.assertEqual(disk_id, self.client.get_disk(disk_id)['DiskId'])

    def test_retries_exhausted(self):
        self.emu.set_faults(kind='throttle', actions=['DescribeInstances'])
        client = self.make_client(ebs_api_retries=2)
        error = self.assertRaises(exception.EBSThrottled,
                                  client.list_instances)
        self.assertEqual('Throttling.User', error.code)
        self.assertTrue(error.request_id)
        self.assertEqual(3, self.fired())
        self.assertEqual(2, len(self.sleeps))

    def test_lost_create_disk_response_makes_one_disk(self):
        volume_id = str(uuid.uuid4())
        self.emu.set_faults(kind='lost_response', actions=['CreateDisk'],
                            count=1)
        disk_id = self.create_disk(volume_id)
        self.assertEqual(1, self.fired())
        disks = self.disks_of(volume_id)
        self.assertEqual([disk_id], [d['DiskId'] for d in disks])
        self.assertEqual(1, len([d for d in self.client.list_disks()
                                 if d['DiskName'] == 'volume-%s'
                                 % volume_id]))
        self.assertIn('connection error', self.logger.output)

    def test_create_disk_failed_after_it_was_done_makes_one_disk(self):
        volume_id = str(uuid.uuid4())
        self.emu.set_faults(kind='error', actions=['CreateDisk'], count=2,
                            phase='after')
        disk_id = self.create_disk(volume_id)
        self.assertEqual([disk_id],
                         [d['DiskId'] for d in self.disks_of(volume_id)])

    def test_lost_create_snapshot_response_makes_one_snapshot(self):
        disk_id = self.create_disk()
        self.attach_once(disk_id)
        self.emu.set_faults(kind='lost_response',
                            actions=['CreateSnapshot'], count=1)
        snapshot_id = self.client.create_snapshot(disk_id, 'snap',
                                                  str(uuid.uuid4()))
        self.client.wait_for_snapshot(snapshot_id)
        self.assertEqual([snapshot_id], [
            s['SnapshotId'] for s in self.client.list_snapshots(
                disk_id=disk_id)])

    def test_lost_attach_and_detach_responses(self):
        disk_id = self.create_disk()
        instance_id = self.emu.instances[0]['InstanceId']
        self.emu.set_faults(kind='lost_response',
                            actions=['AttachDisk', 'DetachDisk'], count=2)
        self.client.attach_disk(disk_id, instance_id)
        disk = self.client.wait_for_attachment(disk_id, instance_id)
        self.assertEqual([instance_id],
                         ebs_client.attached_instance_ids(disk))
        self.client.detach_disk(disk_id, instance_id)
        self.client.wait_for_attachment(disk_id, instance_id,
                                        attached=False)
        self.client.wait_for_disk_status(disk_id, 'Available')
        self.assertEqual(2, self.fired())

    def test_lost_resize_response_is_answered_by_its_token(self):
        # The retry carries the first call's ClientToken: ECS answers it
        # with the first call's result instead of "not bigger".
        disk_id = self.create_disk(multi_attach=False)
        self.emu.set_faults(kind='lost_response', actions=['ResizeDisk'],
                            count=1)
        self.client.resize_disk(disk_id, 40)
        self.assertEqual(40, self.client.get_disk(disk_id)['Size'])
        self.assertEqual(1, self.fired())
        self.assertEqual(1, self.emu.call_counts(200)['ResizeDisk'])
        # The same resize asked for again (a retried extend) is answered
        # by its token too, with nothing read back.
        self.client.resize_disk(disk_id, 40)
        self.assertEqual(0, self.emu.call_counts(403)['ResizeDisk'])
        # Another resize of the same disk gets another token.
        self.client.resize_disk(disk_id, 50)
        self.assertEqual(50, self.client.get_disk(disk_id)['Size'])

    def test_lost_delete_response(self):
        disk_id = self.create_disk()
        self.emu.set_faults(kind='lost_response', actions=['DeleteDisk'],
                            count=1)
        # The repeated call finds the disk gone: ECS ignores it (the
        # default reading of delete-missing) or answers NotFound, which a
        # delete treats as done (test_emulator.DiskTestCase).
        self.client.delete_disk(disk_id)
        self.client.wait_for_disk_deleted(disk_id)
        self.assertEqual(1, self.fired())

    def test_service_down(self):
        client = self.make_client(ebs_api_retries=1)
        self.emu.stop()
        error = self.assertRaises(exception.EBSConnectionError,
                                  client.list_instances)
        self.assertIn('ECS DescribeInstances failed: connection error',
                      str(error))
        self.assertEqual(1, len(self.sleeps))
        self.emu.start()
        client = self.make_client()
        self.assertEqual(20, len(client.list_instances()))


class SecretTestCase(EmulatorTestCase):

    def test_secret_not_logged_after_failing_calls(self):
        secret = self.emu.access_key_secret
        disk_id = self.create_disk()
        self.emu.set_faults(rules=[
            {'kind': 'error', 'actions': ['AttachDisk'], 'count': 1},
            {'kind': 'throttle', 'actions': ['DescribeDisks'], 'count': 1},
            {'kind': 'error', 'actions': ['ResizeDisk'],
             'code': 'InvalidParameter', 'http_status': 400}])
        instance_id = self.emu.instances[0]['InstanceId']
        self.client.attach_disk(disk_id, instance_id)
        self.client.wait_for_attachment(disk_id, instance_id)
        error = self.assertRaises(exception.EBSInvalidParameter,
                                  self.client.resize_disk, disk_id, 50)
        output = self.logger.output
        self.assertIn('ECS ResizeDisk', output)
        self.assertIn(error.request_id, output)
        self.assertNotIn(secret, output)
        self.assertNotIn(secret, str(error))

    def test_wrong_secret(self):
        wrong = 'Wr0ng-' + uuid.uuid4().hex
        client = self.make_client(ebs_access_key_secret=wrong)
        error = self.assertRaises(exception.EBSAuthError,
                                  client.list_instances)
        self.assertFalse(error.retryable)
        self.assertEqual([], self.sleeps)
        self.assertTrue(error.request_id)
        self.assertNotIn(wrong, self.logger.output)
        self.assertNotIn(wrong, str(error))
        self.assertNotIn(self.emu.access_key_secret, self.logger.output)

    def test_unknown_access_key_is_not_a_missing_disk(self):
        client = self.make_client(ebs_access_key_id='LTAINOSUCHKEY')
        error = self.assertRaises(exception.EBSAuthError, client.delete_disk,
                                  'd-whatever')
        self.assertNotIsInstance(error, exception.EBSNotFound)
