"""Fault injection: the rules alone, then every kind as the SDK sees it."""

import threading
import time

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import exceptions as sdk_exceptions
from darabonba import exceptions as dara_exceptions
import testtools

from ebs_emulator import faults
from tests import emulator_fixture


class FaultRuleTest(testtools.TestCase):

    def test_defaults(self):
        error = faults.FaultRule.from_dict({'kind': 'error'})
        self.assertEqual(('InternalError', 500, 'before'),
                         (error.code, error.http_status, error.phase))
        throttle = faults.FaultRule.from_dict({'kind': 'throttle'})
        self.assertEqual(('Throttling.User', 400),
                         (throttle.code, throttle.http_status))
        unavailable = faults.FaultRule.from_dict(
            {'kind': 'error', 'code': 'ServiceUnavailable'})
        self.assertEqual(503, unavailable.http_status)
        lost = faults.FaultRule.from_dict({'kind': 'lost_response'})
        self.assertEqual('after', lost.phase)

    def test_invalid_rules(self):
        for rule in ({'kind': 'meteor'}, {}, {'kind': 'error', 'rate': 2},
                     {'kind': 'error', 'count': -1},
                     {'kind': 'error', 'rate': 'often'},
                     {'kind': 'error', 'http_status': 200},
                     {'kind': 'latency'},
                     {'kind': 'error', 'phase': 'during'},
                     {'kind': 'throttle', 'phase': 'after'},
                     {'kind': 'error', 'actions': 5},
                     {'kind': 'error', 'colour': 'red'},
                     {'kind': 'error', 'action': 'A', 'actions': ['B']},
                     'error'):
            self.assertRaises(ValueError, faults.FaultInjector, [rule])

    def test_count_skip_and_actions(self):
        injector = faults.FaultInjector([
            {'kind': 'error', 'action': 'CreateDisk', 'skip': 1,
             'count': 2}])
        self.assertFalse(injector.plan('DeleteDisk'))
        fired = [bool(injector.plan('CreateDisk').error_before)
                 for _ in range(5)]
        self.assertEqual([False, True, True, False, False], fired)
        (rule,) = injector.describe()
        self.assertEqual((5, 2), (rule['seen'], rule['fired']))

    def test_seeded_rate_is_reproducible(self):
        def pattern():
            injector = faults.FaultInjector([
                {'kind': 'error', 'rate': 0.5, 'seed': 42}])
            return [bool(injector.plan('A')) for _ in range(40)]

        first = pattern()
        self.assertEqual(first, pattern())
        self.assertTrue(5 < sum(first) < 35)

    def test_plan_order(self):
        injector = faults.FaultInjector([
            {'kind': 'latency', 'delay': 0.5},
            {'kind': 'latency', 'delay': 0.25},
            {'kind': 'lost_response', 'count': 1},
            {'kind': 'throttle', 'count': 1, 'retry_after': 100},
        ])
        plan = injector.plan('A')
        self.assertEqual(0.75, plan.delay)
        self.assertEqual('Throttling.User', plan.error_before.code)
        self.assertEqual(100, plan.retry_after)
        self.assertFalse(plan.drop_after)
        plan = injector.plan('A')
        self.assertTrue(plan.drop_after)
        self.assertIsNone(plan.error_before)

    def test_latency_after_the_action(self):
        injector = faults.FaultInjector([
            {'kind': 'latency', 'delay': 0.5, 'phase': 'after'},
            {'kind': 'latency', 'delay': 0.25}])
        plan = injector.plan('A')
        self.assertEqual((0.25, 0.5), (plan.delay, plan.delay_after))
        self.assertTrue(faults.FaultInjector([
            {'kind': 'latency', 'delay': 0.5, 'phase': 'after'}]).plan('A'))

    def test_replace_and_clear(self):
        injector = faults.FaultInjector([{'kind': 'error'}])
        injector.set_rules([{'kind': 'throttle'}], replace=False)
        self.assertEqual(2, len(injector.describe()))
        injector.set_rules([{'kind': 'throttle'}])
        self.assertEqual(1, len(injector.describe()))
        injector.clear()
        self.assertEqual([], injector.describe())

    def test_parse_rules_shapes(self):
        self.assertEqual(1, len(faults.FaultInjector.parse_rules(
            {'kind': 'error'})))
        self.assertEqual(2, len(faults.FaultInjector.parse_rules(
            {'rules': [{'kind': 'error'}, {'kind': 'throttle'}]})))
        self.assertRaises(ValueError, faults.FaultInjector.parse_rules, 5)


class FaultsOverHttpTest(emulator_fixture.EmulatorPerClassTestCase):
    """Every fault kind, observed through the official SDK."""

    EMULATOR_KWARGS = {'num_instances': 2}

    def setUp(self):
        super().setUp()
        self.emu.clear_faults()
        self.addCleanup(self.emu.clear_faults)
        self.client = self.emu.sdk_client()

    def _describe_instances(self):
        return self.client.describe_instances(
            ecs_models.DescribeInstancesRequest(
                region_id=self.emu.region_id)).body

    def _create_disk(self, name):
        return self.client.create_disk(ecs_models.CreateDiskRequest(
            region_id=self.emu.region_id, zone_id=self.emu.zone_id,
            disk_category='cloud_essd', size=20, disk_name=name))

    def _disks_named(self, name):
        body = self.client.describe_disks(ecs_models.DescribeDisksRequest(
            region_id=self.emu.region_id, disk_name=name,
            page_size=100)).body
        return [d for d in body.disks.disk if d.disk_name == name]

    def test_error_rate_with_count(self):
        self.emu.set_faults(kind='error', actions=['DescribeInstances'],
                            count=2)
        for _ in range(2):
            e = self.assertRaises(sdk_exceptions.ServerException,
                                  self._describe_instances)
            self.assertEqual(('InternalError', 500),
                             (e.code, e.status_code))
            self.assertTrue(e.request_id)
        self.assertEqual(2, self._describe_instances().total_count)
        (rule,) = self.emu.get_faults()
        self.assertEqual((3, 2), (rule['seen'], rule['fired']))

    def test_service_unavailable(self):
        self.emu.set_faults(kind='error', code='ServiceUnavailable',
                            count=1)
        e = self.assertRaises(sdk_exceptions.ServerException,
                              self._describe_instances)
        self.assertEqual(('ServiceUnavailable', 503),
                         (e.code, e.status_code))

    def test_other_actions_unaffected(self):
        self.emu.set_faults(kind='error', actions=['DeleteDisk'])
        self.assertEqual(2, self._describe_instances().total_count)

    def test_throttling(self):
        self.emu.set_faults(kind='throttle', count=1)
        e = self.assertRaises(sdk_exceptions.ClientException,
                              self._describe_instances)
        self.assertEqual(('Throttling.User', 400), (e.code, e.status_code))
        self.assertEqual(2, self._describe_instances().total_count)

    def test_throttling_with_retry_after(self):
        self.emu.set_faults(kind='throttle', code='Throttling', count=1,
                            retry_after=1500)
        e = self.assertRaises(sdk_exceptions.ThrottlingException,
                              self._describe_instances)
        self.assertEqual('Throttling', e.code)
        self.assertEqual(1500, e.retry_after)

    def test_seeded_error_rate(self):
        self.emu.set_faults(kind='error', rate=0.5, seed=3, count=100)
        outcomes = []
        for _ in range(20):
            try:
                self._describe_instances()
                outcomes.append(True)
            except sdk_exceptions.ServerException:
                outcomes.append(False)
        injector = faults.FaultInjector([{'kind': 'error', 'rate': 0.5,
                                          'seed': 3, 'count': 100}])
        expected = [not injector.plan('x') for _ in range(20)]
        self.assertEqual(expected, outcomes)

    def test_latency(self):
        self.emu.set_faults(kind='latency', delay=0.6, count=1)
        started = time.monotonic()
        self._describe_instances()
        self.assertGreaterEqual(time.monotonic() - started, 0.6)
        started = time.monotonic()
        self._describe_instances()
        self.assertLess(time.monotonic() - started, 0.6)

    def test_latency_after_action(self):
        self.emu.set_faults(kind='latency', phase='after', delay=1.5,
                            actions=['CreateDisk'], count=1)
        caller = self.emu.sdk_client()
        answers = []

        def create():
            answers.append(caller.create_disk(ecs_models.CreateDiskRequest(
                region_id=self.emu.region_id, zone_id=self.emu.zone_id,
                disk_category='cloud_essd', size=20,
                disk_name='slow-answer')).body.disk_id)

        thread = threading.Thread(target=create)
        thread.start()
        self.addCleanup(thread.join)
        # The disk exists while its caller still waits for the answer.
        deadline = time.monotonic() + 5
        while not self._disks_named('slow-answer'):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertTrue(thread.is_alive())
        thread.join(10)
        (disk,) = self._disks_named('slow-answer')
        self.assertEqual([disk.disk_id], answers)

    def test_lost_response_after_action(self):
        self.emu.set_faults(kind='lost_response', actions=['CreateDisk'],
                            count=1)
        self.assertRaises(dara_exceptions.UnretryableException,
                          self._create_disk, 'lost-create')
        # The disk exists although the caller never heard of it.
        self.assertEqual(1, len(self._disks_named('lost-create')))
        # Only once: the next call answers normally.
        disk_id = self._create_disk('next-create').body.disk_id
        self.assertTrue(disk_id.startswith('d-'))

    def test_request_lost_before_action(self):
        self.emu.set_faults(kind='lost_response', phase='before',
                            actions=['CreateDisk'], count=1)
        self.assertRaises(dara_exceptions.UnretryableException,
                          self._create_disk, 'never-created')
        self.assertEqual([], self._disks_named('never-created'))

    def test_error_after_action(self):
        self.emu.set_faults(kind='error', phase='after',
                            actions=['CreateDisk'], count=1)
        e = self.assertRaises(sdk_exceptions.ServerException,
                              self._create_disk, 'failed-but-done')
        self.assertEqual(500, e.status_code)
        self.assertEqual(1, len(self._disks_named('failed-but-done')))

    def test_add_rules(self):
        self.emu.set_faults(kind='error', actions=['A'])
        rules = self.emu.set_faults(replace=False, kind='throttle',
                                    actions=['B'])
        self.assertEqual(['error', 'throttle'], [r['kind'] for r in rules])
        self.assertEqual([], self.emu.set_faults())


class FaultsFromStartTest(testtools.TestCase):

    def test_faults_file(self):
        emu = self.useFixture(emulator_fixture.EmulatorFixture(
            num_instances=1,
            faults=[{'kind': 'error', 'code': 'ServiceUnavailable',
                     'count': 1}]))
        client = emu.sdk_client()
        request = ecs_models.DescribeInstancesRequest(
            region_id=emu.region_id)
        e = self.assertRaises(sdk_exceptions.ServerException,
                              client.describe_instances, request)
        self.assertEqual(503, e.status_code)
        self.assertEqual(1, client.describe_instances(request)
                         .body.total_count)
