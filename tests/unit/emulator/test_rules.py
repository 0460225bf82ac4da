"""The rule book, rule by rule, through the official SDK.

Every rule of :mod:`ebs_emulator.rules` has a case here, named by the
rule's key; each case makes the real service's rule happen (the page it
comes from is the rule's ``source``) and checks the answer: the error
code and HTTP status of the rule, or the documented behaviour.  The cases
run against an emulator in the default reading of every disputed rule
and against one in the strict reading; a case runs where its rule
applies, so each reading of each dispute is exercised once.
"""

import http.client
import json
import os
import urllib.parse
import uuid

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import exceptions as sdk_exceptions

from ebs_emulator import config
from ebs_emulator import metadata
from ebs_emulator import rulebook
from ebs_emulator import rules
from ebs_emulator import sts
from tests.unit.emulator import base

OTHER_ZONE = 'emu-zone-b'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DOC_PAGE = os.path.join(ROOT, 'doc', 'source', 'reference', 'ecs-rules.rst')

CASES = {}


def case(rule):
    def register(func):
        assert rule.key not in CASES, rule.key
        CASES[rule.key] = func
        return func
    return register


def refused(test, rule, call, request):
    """Assert that ``call(request)`` gets the rule's error."""
    return test.assertEcsError(rule.refusal.code, rule.refusal.http_status,
                               call, request)


def instance(n):
    return 'i-emu%04d' % n


# -- every action ------------------------------------------------------------

@case(rules.REQUEST_ID)
def _request_id(test):
    status, headers, body = test.emu.raw_request(
        'DescribeDisks', {'RegionId': test.api.region})
    test.assertEqual(200, status)
    test.assertTrue(body['RequestId'])
    test.assertEqual(body['RequestId'], headers['x-acs-request-id'])
    error = test.assertRaises(
        sdk_exceptions.ClientException, test.api.sdk.attach_disk,
        ecs_models.AttachDiskRequest(disk_id='d-nothere',
                                     instance_id=instance(0)))
    test.assertTrue(error.request_id)


@case(rules.TOKEN_FORMAT)
def _token_format(test):
    refused(test, rules.TOKEN_FORMAT, test.api.sdk.create_disk,
            test.disk_request(client_token='t' * 65))


@case(rules.TOKEN_SAME)
def _token_same(test):
    token = str(uuid.uuid4())
    first = test.api.sdk.create_disk(test.disk_request(client_token=token))
    again = test.api.sdk.create_disk(test.disk_request(client_token=token))
    test.assertEqual(first.body.disk_id, again.body.disk_id)
    disk_id = first.body.disk_id
    test.api.wait_disk(disk_id, 'Available')
    resize_token = str(uuid.uuid4())
    for _ in range(2):
        test.api.sdk.resize_disk(ecs_models.ResizeDiskRequest(
            disk_id=disk_id, new_size=3, client_token=resize_token))
    test.assertEqual(3, test.api.disk(disk_id)['Size'])


def _mismatch(test, rule):
    token = str(uuid.uuid4())
    test.api.sdk.create_disk(test.disk_request(client_token=token))
    refused(test, rule, test.api.sdk.create_disk,
            test.disk_request(client_token=token, size=2))


@case(rules.TOKEN_MISMATCH)
def _token_mismatch(test):
    _mismatch(test, rules.TOKEN_MISMATCH)


@case(rules.TOKEN_MISMATCH_OLD)
def _token_mismatch_old(test):
    _mismatch(test, rules.TOKEN_MISMATCH_OLD)


@case(rules.REGION)
def _region(test):
    refused(test, rules.REGION, test.api.sdk.create_disk,
            test.disk_request(region_id='cn-nowhere'))


@case(rules.THROTTLED)
def _throttled(test):
    test.emu.set_faults(kind='throttle', code='Throttling', count=1,
                        actions=['DescribeDisks'])
    try:
        error = test.assertRaises(sdk_exceptions.ClientException,
                                  test.api.disks)
        test.assertEqual('Throttling', error.code)
    finally:
        test.emu.clear_faults()


# -- CreateDisk --------------------------------------------------------------

@case(rules.CREATE_ZONE)
def _create_zone(test):
    refused(test, rules.CREATE_ZONE, test.api.sdk.create_disk,
            test.disk_request(zone_id=None))
    # A Regional ESSD needs no zone.
    test.api.sdk.create_disk(test.disk_request(
        zone_id=None, disk_category='cloud_regional_disk_auto', size=10,
        performance_level=None))


@case(rules.CREATE_ZONE_EXISTS)
def _create_zone_exists(test):
    refused(test, rules.CREATE_ZONE_EXISTS, test.api.sdk.create_disk,
            test.disk_request(zone_id='emu-zone-z'))


@case(rules.CREATE_CATEGORY)
def _create_category(test):
    refused(test, rules.CREATE_CATEGORY, test.api.sdk.create_disk,
            test.disk_request(disk_category='cloud_floppy'))


@case(rules.CREATE_LEVEL)
def _create_level(test):
    refused(test, rules.CREATE_LEVEL, test.api.sdk.create_disk,
            test.disk_request(performance_level='PL9'))


@case(rules.CREATE_SIZE)
def _create_size(test):
    refused(test, rules.CREATE_SIZE, test.api.sdk.create_disk,
            test.disk_request(size=65537))
    refused(test, rules.CREATE_SIZE, test.api.sdk.create_disk,
            test.disk_request(disk_category='cloud_regional_disk_auto',
                              size=9, performance_level=None))


@case(rules.CREATE_SIZE_VALUE)
def _create_size_value(test):
    refused(test, rules.CREATE_SIZE_VALUE, test.api.sdk.create_disk,
            test.disk_request(size=0))


@case(rules.CREATE_LEVEL_SIZE)
def _create_level_size(test):
    refused(test, rules.CREATE_LEVEL_SIZE, test.api.sdk.create_disk,
            test.disk_request(size=19, performance_level='PL1'))
    refused(test, rules.CREATE_LEVEL_SIZE, test.api.sdk.create_disk,
            test.disk_request(size=460, performance_level='PL2'))


def autopl_request(test, **kw):
    values = dict(disk_category='cloud_auto', performance_level=None)
    values.update(kw)
    return test.disk_request(**values)


@case(rules.CREATE_PROVISIONED_CATEGORY)
def _create_provisioned_category(test):
    refused(test, rules.CREATE_PROVISIONED_CATEGORY, test.api.sdk.create_disk,
            test.disk_request(size=40, provisioned_iops=100))


@case(rules.CREATE_PROVISIONED_LIMIT)
def _create_provisioned_limit(test):
    # 40 GiB: 40,000 IOPS at most in all, less the baseline (3,800, or
    # the 3,000 floor: it does not apply at this size).
    refused(test, rules.CREATE_PROVISIONED_LIMIT, test.api.sdk.create_disk,
            autopl_request(test, size=40, provisioned_iops=36201))
    refused(test, rules.CREATE_PROVISIONED_LIMIT, test.api.sdk.create_disk,
            autopl_request(test, size=3, provisioned_iops=1))
    # Never more than 50,000, however large the disk.
    refused(test, rules.CREATE_PROVISIONED_LIMIT, test.api.sdk.create_disk,
            autopl_request(test, size=2000, provisioned_iops=50001))
    disk_id = test.api.sdk.create_disk(autopl_request(
        test, size=40, provisioned_iops=36200)).body.disk_id
    test.assertEqual(36200, test.api.disk(disk_id)['ProvisionedIops'])


@case(rules.CREATE_BURSTING_CATEGORY)
def _create_bursting_category(test):
    refused(test, rules.CREATE_BURSTING_CATEGORY, test.api.sdk.create_disk,
            test.disk_request(size=40, bursting_enabled=True))


@case(rules.CREATE_BURSTING_MULTI_ATTACH)
def _create_bursting_multi_attach(test):
    request = autopl_request(test, size=40, bursting_enabled=True,
                             multi_attach='Enabled')
    if test.readings['multi-attach-categories'] == 'createdisk':
        # No multi-attach AutoPL disk in this reading at all.
        refused(test, rules.CREATE_MULTI_ATTACH_ESSD,
                test.api.sdk.create_disk, request)
        return
    refused(test, rules.CREATE_BURSTING_MULTI_ATTACH,
            test.api.sdk.create_disk, request)


@case(rules.CREATE_BURSTING_SIZE)
def _create_bursting_size(test):
    refused(test, rules.CREATE_BURSTING_SIZE, test.api.sdk.create_disk,
            autopl_request(test, size=3, bursting_enabled=True))
    disk_id = test.api.sdk.create_disk(autopl_request(
        test, size=4, bursting_enabled=True)).body.disk_id
    test.assertIs(True, test.api.disk(disk_id)['BurstingEnabled'])


@case(rules.CREATE_SIZE_OR_SNAPSHOT)
def _create_size_or_snapshot(test):
    refused(test, rules.CREATE_SIZE_OR_SNAPSHOT, test.api.sdk.create_disk,
            test.disk_request(size=None))


@case(rules.CREATE_SNAPSHOT_EXISTS)
def _create_snapshot_exists(test):
    refused(test, rules.CREATE_SNAPSHOT_EXISTS, test.api.sdk.create_disk,
            test.disk_request(snapshot_id='s-nothere'))


@case(rules.CREATE_SNAPSHOT_READY)
def _create_snapshot_ready(test):
    disk_id = test.api.create_disk(size=2)
    snapshot_id = test.api.create_snapshot(disk_id, wait=False)
    refused(test, rules.CREATE_SNAPSHOT_READY, test.api.sdk.create_disk,
            test.disk_request(snapshot_id=snapshot_id))


@case(rules.CREATE_SIZE_RAISED)
def _create_size_raised(test):
    snapshot_id = test.snapshot_of_new_disk(size=3)
    disk_id = test.api.sdk.create_disk(test.disk_request(
        snapshot_id=snapshot_id, size=1)).body.disk_id
    test.assertEqual(3, test.api.wait_disk(disk_id, 'Available')['Size'])


@case(rules.CREATE_SIZE_BELOW_SNAPSHOT)
def _create_size_below_snapshot(test):
    snapshot_id = test.snapshot_of_new_disk(size=3)
    refused(test, rules.CREATE_SIZE_BELOW_SNAPSHOT, test.api.sdk.create_disk,
            test.disk_request(snapshot_id=snapshot_id, size=1))


@case(rules.CREATE_MULTI_ATTACH_VALUE)
def _create_multi_attach_value(test):
    refused(test, rules.CREATE_MULTI_ATTACH_VALUE, test.api.sdk.create_disk,
            test.disk_request(multi_attach='Sometimes'))


@case(rules.CREATE_MULTI_ATTACH_GUIDE)
def _create_multi_attach_guide(test):
    refused(test, rules.CREATE_MULTI_ATTACH_GUIDE, test.api.sdk.create_disk,
            test.disk_request(multi_attach='Enabled', size=20,
                              disk_category='cloud_efficiency',
                              performance_level=None))
    # The guide's ESSD AutoPL and Regional ESSD.
    test.api.sdk.create_disk(test.disk_request(
        multi_attach='Enabled', disk_category='cloud_auto',
        performance_level=None))
    test.api.sdk.create_disk(test.disk_request(
        multi_attach='Enabled', disk_category='cloud_regional_disk_auto',
        size=10, performance_level=None))


@case(rules.CREATE_MULTI_ATTACH_ESSD)
def _create_multi_attach_essd(test):
    for category in ('cloud_auto', 'cloud_regional_disk_auto'):
        refused(test, rules.CREATE_MULTI_ATTACH_ESSD,
                test.api.sdk.create_disk,
                test.disk_request(multi_attach='Enabled', size=10,
                                  disk_category=category,
                                  performance_level=None))
    test.api.sdk.create_disk(test.disk_request(multi_attach='Enabled'))


@case(rules.CREATE_NAME)
def _create_name(test):
    for name in ('1abc', 'a', 'http://x', 'a b'):
        refused(test, rules.CREATE_NAME, test.api.sdk.create_disk,
                test.disk_request(disk_name=name))


@case(rules.CREATE_DESCRIPTION)
def _create_description(test):
    for text in ('x', 'https://example', 'd' * 257):
        refused(test, rules.CREATE_DESCRIPTION, test.api.sdk.create_disk,
                test.disk_request(description=text))


@case(rules.CREATE_TAGS)
def _create_tags(test):
    for key in ('acs:x', 'aliyun-x', 'k' * 129):
        refused(test, rules.CREATE_TAGS, test.api.sdk.create_disk,
                test.disk_request(tag=[ecs_models.CreateDiskRequestTag(
                    key=key, value='v')]))


# -- DeleteDisk --------------------------------------------------------------

@case(rules.DELETE_DISK_EXISTS)
def _delete_disk_exists(test):
    refused(test, rules.DELETE_DISK_EXISTS, test.api.sdk.delete_disk,
            ecs_models.DeleteDiskRequest(disk_id='d-nothere'))


@case(rules.DELETE_DISK_IGNORED)
def _delete_disk_ignored(test):
    body = test.api.sdk.delete_disk(
        ecs_models.DeleteDiskRequest(disk_id='d-nothere')).body
    test.assertTrue(body.request_id)


@case(rules.DELETE_DISK_AVAILABLE)
def _delete_disk_available(test):
    disk_id = test.api.create_disk()
    test.api.attach(disk_id, instance(1))
    refused(test, rules.DELETE_DISK_AVAILABLE, test.api.sdk.delete_disk,
            ecs_models.DeleteDiskRequest(disk_id=disk_id))
    test.api.detach(disk_id, instance(1))
    test.api.delete_disk(disk_id)


# -- AttachDisk --------------------------------------------------------------

def _attach(test, disk_id, instance_id, **kw):
    return ecs_models.AttachDiskRequest(disk_id=disk_id,
                                        instance_id=instance_id, **kw)


@case(rules.ATTACH_DISK_EXISTS)
def _attach_disk_exists(test):
    refused(test, rules.ATTACH_DISK_EXISTS, test.api.sdk.attach_disk,
            _attach(test, 'd-nothere', instance(1)))


@case(rules.ATTACH_INSTANCE_EXISTS)
def _attach_instance_exists(test):
    disk_id = test.api.create_disk()
    refused(test, rules.ATTACH_INSTANCE_EXISTS, test.api.sdk.attach_disk,
            _attach(test, disk_id, 'i-nothere'))


@case(rules.ATTACH_SAME_ZONE)
def _attach_same_zone(test):
    disk_id = test.api.create_disk()
    refused(test, rules.ATTACH_SAME_ZONE, test.api.sdk.attach_disk,
            _attach(test, disk_id, test.other_zone_instance))
    regional = test.api.create_disk(
        size=10, category='cloud_regional_disk_auto', level=None,
        zone_id=None)
    test.api.attach(regional, test.other_zone_instance)
    test.api.detach(regional, test.other_zone_instance)


@case(rules.ATTACH_AVAILABLE)
def _attach_available(test):
    disk_id = test.api.create_disk()
    test.api.attach(disk_id, instance(2))
    refused(test, rules.ATTACH_AVAILABLE, test.api.sdk.attach_disk,
            _attach(test, disk_id, instance(3)))
    multi = test.api.create_disk(multi_attach=True)
    test.api.attach(multi, instance(2))
    test.api.attach(multi, instance(3))
    refused(test, rules.ATTACH_AVAILABLE, test.api.sdk.attach_disk,
            _attach(test, multi, instance(3)))
    for disk in (disk_id, multi):
        test.api.detach(disk, instance(2))
    test.api.detach(multi, instance(3))


@case(rules.ATTACH_MAX_INSTANCES)
def _attach_max_instances(test):
    multi = test.api.create_disk(multi_attach=True)
    for n in range(16):
        test.api.attach(multi, instance(n), wait=False)
    refused(test, rules.ATTACH_MAX_INSTANCES, test.api.sdk.attach_disk,
            _attach(test, multi, instance(16)))
    test.api.wait_disk(multi, 'In_use')
    for n in range(16):
        test.api.detach(multi, instance(n), wait=False)
    test.api.wait_disk(multi, 'Available')


@case(rules.ATTACH_MULTI_NO_DELETE_WITH_INSTANCE)
def _attach_delete_with_instance(test):
    multi = test.api.create_disk(multi_attach=True)
    refused(test, rules.ATTACH_MULTI_NO_DELETE_WITH_INSTANCE,
            test.api.sdk.attach_disk,
            _attach(test, multi, instance(4), delete_with_instance=True))


@case(rules.ATTACH_MULTI_DATA_ONLY)
def _attach_data_only(test):
    multi = test.api.create_disk(multi_attach=True)
    refused(test, rules.ATTACH_MULTI_DATA_ONLY, test.api.sdk.attach_disk,
            _attach(test, multi, instance(4), bootable=True))


@case(rules.ATTACH_INSTANCE_DISKS)
def _attach_instance_disks(test):
    full = instance(19)
    disks = [test.api.create_disk(wait=False) for _ in range(64)]
    for disk_id in disks:
        test.api.wait_disk(disk_id, 'Available')
        test.api.attach(disk_id, full, wait=False)
    one_more = test.api.create_disk()
    refused(test, rules.ATTACH_INSTANCE_DISKS, test.api.sdk.attach_disk,
            _attach(test, one_more, full))
    for disk_id in disks:
        test.api.wait_disk(disk_id, 'In_use')
        test.api.detach(disk_id, full, wait=False)


# -- DetachDisk --------------------------------------------------------------

def _detach(disk_id, instance_id):
    return ecs_models.DetachDiskRequest(disk_id=disk_id,
                                        instance_id=instance_id)


@case(rules.DETACH_ATTACHED)
def _detach_attached(test):
    multi = test.api.create_disk(multi_attach=True)
    test.api.attach(multi, instance(5))
    refused(test, rules.DETACH_ATTACHED, test.api.sdk.detach_disk,
            _detach(multi, instance(6)))
    test.api.detach(multi, instance(5))


@case(rules.DETACH_ALREADY_DETACHED)
def _detach_already_detached(test):
    disk_id = test.api.create_disk()
    refused(test, rules.DETACH_ALREADY_DETACHED, test.api.sdk.detach_disk,
            _detach(disk_id, instance(5)))


@case(rules.DETACH_NOT_TWICE)
def _detach_not_twice(test):
    disk_id = test.api.create_disk()
    test.api.attach(disk_id, instance(5))
    test.api.detach(disk_id, instance(5), wait=False)
    refused(test, rules.DETACH_NOT_TWICE, test.api.sdk.detach_disk,
            _detach(disk_id, instance(5)))
    test.api.wait_disk(disk_id, 'Available')


@case(rules.DETACH_IN_USE)
def _detach_in_use(test):
    disk_id = test.api.create_disk()
    test.api.attach(disk_id, instance(5), wait=False)
    refused(test, rules.DETACH_IN_USE, test.api.sdk.detach_disk,
            _detach(disk_id, instance(5)))
    test.api.wait_disk(disk_id, 'In_use')
    test.api.detach(disk_id, instance(5))


# -- DescribeDisks / DescribeSnapshots ---------------------------------------

@case(rules.DESCRIBE_DISK_IDS)
def _describe_disk_ids(test):
    ids = json.dumps(['d-%d' % n for n in range(101)])
    refused(test, rules.DESCRIBE_DISK_IDS, test.api.sdk.describe_disks,
            ecs_models.DescribeDisksRequest(region_id=test.api.region,
                                            disk_ids=ids))


@case(rules.DESCRIBE_MAX_RESULTS)
def _describe_max_results(test):
    for _ in range(12):
        test.api.create_disk(wait=False)
    for asked, given in ((1, 10), (501, 500)):
        body = test.api.sdk.describe_disks(ecs_models.DescribeDisksRequest(
            region_id=test.api.region, max_results=asked)).body
        test.assertEqual(min(given, body.total_count), len(body.disks.disk))
        test.assertEqual(given, body.page_size)
    body = test.api.sdk.describe_disks(ecs_models.DescribeDisksRequest(
        region_id=test.api.region, max_results=10)).body
    test.assertTrue(body.next_token)
    rest = test.api.sdk.describe_disks(ecs_models.DescribeDisksRequest(
        region_id=test.api.region, max_results=10,
        next_token=body.next_token)).body
    first = {disk.disk_id for disk in body.disks.disk}
    test.assertFalse(first & {disk.disk_id for disk in rest.disks.disk})


def performance_of(test, **kw):
    disk = test.api.disk(test.api.create_disk(wait=False, **kw))
    return disk['IOPS'], disk['Throughput']


@case(rules.DESCRIBE_ESSD_PERFORMANCE)
def _describe_essd_performance(test):
    for level, size, expected in (
            ('PL0', 40, (2280, 110)), ('PL0', 1000, (10000, 180)),
            ('PL1', 100, (6800, 170)), ('PL1', 2000, (50000, 350)),
            ('PL2', 461, (24850, 350)), ('PL2', 3000, (100000, 750)),
            ('PL3', 1261, (64850, 750)), ('PL3', 8000, (401800, 4000))):
        test.assertEqual(expected, performance_of(
            test, size=size, level=level), (level, size))


@case(rules.DESCRIBE_AUTOPL_PERFORMANCE)
def _describe_autopl_performance(test):
    disk_id = test.api.sdk.create_disk(autopl_request(
        test, size=100, provisioned_iops=10240)).body.disk_id
    disk = test.api.disk(disk_id)
    # Baseline 6,800 IOPS and 170 MB/s; 16 KB/s more per provisioned IOPS.
    test.assertEqual((17040, 330, 10240, False),
                     (disk['IOPS'], disk['Throughput'],
                      disk['ProvisionedIops'], disk['BurstingEnabled']))
    test.assertNotIn('ProvisionedIops', test.api.disk(
        test.api.create_disk(wait=False)))


@case(rules.DESCRIBE_AUTOPL_FLOOR)
def _describe_autopl_floor(test):
    test.assertEqual((3000, 125), performance_of(
        test, size=1, category='cloud_auto', level=None))
    test.assertEqual((3800, 140), performance_of(
        test, size=40, category='cloud_auto', level=None))


@case(rules.DESCRIBE_AUTOPL_NO_FLOOR)
def _describe_autopl_no_floor(test):
    test.assertEqual((1850, 120), performance_of(
        test, size=1, category='cloud_auto', level=None))
    # Its provisioned IOPS reach 1,000 per GiB over that lower baseline:
    # 4,000 - 2,000 at 4 GiB (1,000 over the floor's 3,000).
    refused(test, rules.CREATE_PROVISIONED_LIMIT, test.api.sdk.create_disk,
            autopl_request(test, size=4, provisioned_iops=2001))
    test.api.sdk.create_disk(autopl_request(test, size=4,
                                            provisioned_iops=2000))


@case(rules.DESCRIBE_REGIONAL_PERFORMANCE)
def _describe_regional_performance(test):
    test.assertEqual((6800, 170), performance_of(
        test, size=100, category='cloud_regional_disk_auto', level=None,
        zone_id=None))


@case(rules.DESCRIBE_PAGE_SIZE)
def _describe_page_size(test):
    for size in (0, 101):
        refused(test, rules.DESCRIBE_PAGE_SIZE, test.api.sdk.describe_disks,
                ecs_models.DescribeDisksRequest(region_id=test.api.region,
                                                page_size=size))


@case(rules.DESCRIBE_SNAPSHOT_IDS)
def _describe_snapshot_ids(test):
    ids = json.dumps(['s-%d' % n for n in range(101)])
    refused(test, rules.DESCRIBE_SNAPSHOT_IDS,
            test.api.sdk.describe_snapshots,
            ecs_models.DescribeSnapshotsRequest(region_id=test.api.region,
                                                snapshot_ids=ids))


@case(rules.DESCRIBE_SNAPSHOTS_MAX)
def _describe_snapshots_max(test):
    refused(test, rules.DESCRIBE_SNAPSHOTS_MAX,
            test.api.sdk.describe_snapshots,
            ecs_models.DescribeSnapshotsRequest(region_id=test.api.region,
                                                max_results=101))


# -- ResizeDisk --------------------------------------------------------------

def _resize(disk_id, size, online=False):
    return ecs_models.ResizeDiskRequest(
        disk_id=disk_id, new_size=size,
        type='online' if online else 'offline')


@case(rules.RESIZE_BIGGER)
def _resize_bigger(test):
    disk_id = test.api.create_disk(size=2)
    refused(test, rules.RESIZE_BIGGER, test.api.sdk.resize_disk,
            _resize(disk_id, 2))


@case(rules.RESIZE_SMALLER)
def _resize_smaller(test):
    disk_id = test.api.create_disk(size=2)
    refused(test, rules.RESIZE_SMALLER, test.api.sdk.resize_disk,
            _resize(disk_id, 1))


@case(rules.RESIZE_MAX)
def _resize_max(test):
    disk_id = test.api.create_disk(size=2)
    refused(test, rules.RESIZE_MAX, test.api.sdk.resize_disk,
            _resize(disk_id, 65537))


@case(rules.RESIZE_SNAPSHOT_IN_PROGRESS)
def _resize_snapshot_in_progress(test):
    disk_id = test.api.create_disk(size=2)
    test.api.create_snapshot(disk_id, wait=False)
    refused(test, rules.RESIZE_SNAPSHOT_IN_PROGRESS, test.api.sdk.resize_disk,
            _resize(disk_id, 3))


@case(rules.RESIZE_ONLINE_IN_USE)
def _resize_online_in_use(test):
    disk_id = test.api.create_disk(size=2)
    refused(test, rules.RESIZE_ONLINE_IN_USE, test.api.sdk.resize_disk,
            _resize(disk_id, 3, online=True))


def _attached_multi_attach_disk(test):
    multi = test.api.create_disk(size=2, multi_attach=True)
    test.api.attach(multi, instance(7))
    test.api.attach(multi, instance(8))
    return multi


def _detach_both(test, multi):
    test.api.detach(multi, instance(7))
    test.api.detach(multi, instance(8))


@case(rules.RESIZE_MULTI_ATTACH_ONLINE_ALLOWED)
def _resize_multi_attach_online_allowed(test):
    multi = _attached_multi_attach_disk(test)
    test.api.sdk.resize_disk(_resize(multi, 3, online=True))
    test.assertEqual(3, test.api.disk(multi)['Size'])
    _detach_both(test, multi)


@case(rules.RESIZE_MULTI_ATTACH_ONLINE)
def _resize_multi_attach_online(test):
    multi = _attached_multi_attach_disk(test)
    refused(test, rules.RESIZE_MULTI_ATTACH_ONLINE, test.api.sdk.resize_disk,
            _resize(multi, 3, online=True))
    _detach_both(test, multi)
    # Offline, detached from every instance, it grows.
    test.api.sdk.resize_disk(_resize(multi, 3))


# -- ModifyDiskSpec / ModifyDiskAttribute ------------------------------------

def _spec(disk_id, level=None, category=None):
    return ecs_models.ModifyDiskSpecRequest(
        disk_id=disk_id, performance_level=level, disk_category=category)


@case(rules.SPEC_MULTI_ATTACH)
def _spec_multi_attach(test):
    multi = test.api.create_disk(size=20, level='PL1', multi_attach=True)
    refused(test, rules.SPEC_MULTI_ATTACH, test.api.sdk.modify_disk_spec,
            _spec(multi, level='PL0'))
    refused(test, rules.SPEC_MULTI_ATTACH, test.api.sdk.modify_disk_spec,
            _spec(multi, category='cloud_auto'))


@case(rules.SPEC_STATUS)
def _spec_status(test):
    disk_id = test.api.create_disk(size=20, level='PL1', wait=False)
    refused(test, rules.SPEC_STATUS, test.api.sdk.modify_disk_spec,
            _spec(disk_id, level='PL0'))
    test.api.wait_disk(disk_id, 'Available')


@case(rules.SPEC_SNAPSHOT_IN_PROGRESS)
def _spec_snapshot_in_progress(test):
    disk_id = test.api.create_disk(size=20, level='PL1')
    test.api.create_snapshot(disk_id, wait=False)
    refused(test, rules.SPEC_SNAPSHOT_IN_PROGRESS,
            test.api.sdk.modify_disk_spec, _spec(disk_id, level='PL0'))


@case(rules.SPEC_LEVEL_ESSD)
def _spec_level_essd(test):
    disk_id = test.api.create_disk(size=20, category='cloud_auto',
                                   level=None)
    refused(test, rules.SPEC_LEVEL_ESSD, test.api.sdk.modify_disk_spec,
            _spec(disk_id, level='PL1'))


@case(rules.SPEC_PROVISIONED_CATEGORY)
def _spec_provisioned_category(test):
    disk_id = test.api.create_disk(size=40, level='PL1')
    refused(test, rules.SPEC_PROVISIONED_CATEGORY,
            test.api.sdk.modify_disk_spec,
            ecs_models.ModifyDiskSpecRequest(disk_id=disk_id,
                                             provisioned_iops=100))
    # Into AutoPL with provisioned IOPS at once; back to ESSD drops them.
    test.api.sdk.modify_disk_spec(ecs_models.ModifyDiskSpecRequest(
        disk_id=disk_id, disk_category='cloud_auto', provisioned_iops=100))
    test.assertEqual(100, test.api.disk(disk_id)['ProvisionedIops'])
    test.api.sdk.modify_disk_spec(_spec(disk_id, category='cloud_essd',
                                        level='PL1'))
    test.assertNotIn('ProvisionedIops', test.api.disk(disk_id))


@case(rules.SPEC_PROVISIONED_LIMIT)
def _spec_provisioned_limit(test):
    disk_id = test.api.create_disk(size=40, category='cloud_auto',
                                   level=None)
    refused(test, rules.SPEC_PROVISIONED_LIMIT,
            test.api.sdk.modify_disk_spec,
            ecs_models.ModifyDiskSpecRequest(disk_id=disk_id,
                                             provisioned_iops=36201))
    test.api.sdk.modify_disk_spec(ecs_models.ModifyDiskSpecRequest(
        disk_id=disk_id, provisioned_iops=36200))
    test.assertEqual(36200, test.api.disk(disk_id)['ProvisionedIops'])


@case(rules.SPEC_LEVEL_SIZE)
def _spec_level_size(test):
    disk_id = test.api.create_disk(size=20, level='PL1')
    refused(test, rules.SPEC_LEVEL_SIZE, test.api.sdk.modify_disk_spec,
            _spec(disk_id, level='PL2'))


@case(rules.ATTRIBUTE_DELETE_WITH_INSTANCE)
def _attribute_delete_with_instance(test):
    multi = test.api.create_disk(multi_attach=True)
    refused(test, rules.ATTRIBUTE_DELETE_WITH_INSTANCE,
            test.api.sdk.modify_disk_attribute,
            ecs_models.ModifyDiskAttributeRequest(
                disk_id=multi, delete_with_instance=True))


# -- CreateSnapshot ----------------------------------------------------------

def _snapshot(disk_id, **kw):
    return ecs_models.CreateSnapshotRequest(disk_id=disk_id, **kw)


@case(rules.SNAPSHOT_NEVER_ATTACHED)
def _snapshot_never_attached(test):
    disk_id = test.api.create_disk()
    refused(test, rules.SNAPSHOT_NEVER_ATTACHED, test.api.sdk.create_snapshot,
            _snapshot(disk_id))
    test.assertEqual(('', ''), (test.api.disk(disk_id)['AttachedTime'],
                                test.api.disk(disk_id)['DetachedTime']))
    # Made from a snapshot and never attached: refused too.
    snapshot_id = test.snapshot_of_new_disk()
    made = test.api.create_disk(snapshot_id=snapshot_id)
    refused(test, rules.SNAPSHOT_NEVER_ATTACHED, test.api.sdk.create_snapshot,
            _snapshot(made))
    # Attached once, detached since: allowed.
    test.api.attach_once(disk_id)
    disk = test.api.disk(disk_id)
    test.assertTrue(disk['AttachedTime'] and disk['DetachedTime'])
    test.api.create_snapshot(disk_id, attach_first=False)


@case(rules.SNAPSHOT_STATUS)
def _snapshot_status(test):
    disk_id = test.api.create_disk(wait=False)
    refused(test, rules.SNAPSHOT_STATUS, test.api.sdk.create_snapshot,
            _snapshot(disk_id))
    test.api.wait_disk(disk_id, 'Available')


@case(rules.SNAPSHOT_ONE_AT_A_TIME)
def _snapshot_one_at_a_time(test):
    disk_id = test.api.create_disk()
    test.api.create_snapshot(disk_id, wait=False)
    refused(test, rules.SNAPSHOT_ONE_AT_A_TIME, test.api.sdk.create_snapshot,
            _snapshot(disk_id))


@case(rules.SNAPSHOT_NAME)
def _snapshot_name(test):
    disk_id = test.api.create_disk()
    for name in ('auto-x', '1x', 'http://x'):
        refused(test, rules.SNAPSHOT_NAME, test.api.sdk.create_snapshot,
                _snapshot(disk_id, snapshot_name=name))


# -- DeleteSnapshot ----------------------------------------------------------

@case(rules.DELETE_SNAPSHOT_USED)
def _delete_snapshot_used(test):
    snapshot_id = test.snapshot_of_new_disk()
    made = test.api.create_disk(snapshot_id=snapshot_id)
    refused(test, rules.DELETE_SNAPSHOT_USED, test.api.sdk.delete_snapshot,
            ecs_models.DeleteSnapshotRequest(snapshot_id=snapshot_id))
    test.api.sdk.delete_snapshot(ecs_models.DeleteSnapshotRequest(
        snapshot_id=snapshot_id, force=True))
    test.assertIsNone(test.api.snapshot(snapshot_id))
    # The disk made from it keeps its data and its record of the source.
    test.assertEqual(snapshot_id, test.api.disk(made)['SourceSnapshotId'])


@case(rules.DELETE_SNAPSHOT_EXISTS)
def _delete_snapshot_exists(test):
    refused(test, rules.DELETE_SNAPSHOT_EXISTS, test.api.sdk.delete_snapshot,
            ecs_models.DeleteSnapshotRequest(snapshot_id='s-nothere'))


@case(rules.DELETE_SNAPSHOT_IGNORED)
def _delete_snapshot_ignored(test):
    body = test.api.sdk.delete_snapshot(
        ecs_models.DeleteSnapshotRequest(snapshot_id='s-nothere')).body
    test.assertTrue(body.request_id)


# -- ResetDisk ---------------------------------------------------------------

def _reset(disk_id, snapshot_id):
    return ecs_models.ResetDiskRequest(disk_id=disk_id,
                                       snapshot_id=snapshot_id)


@case(rules.RESET_OWN_SNAPSHOT)
def _reset_own_snapshot(test):
    snapshot_id = test.snapshot_of_new_disk()
    other = test.api.create_disk()
    refused(test, rules.RESET_OWN_SNAPSHOT, test.api.sdk.reset_disk,
            _reset(other, snapshot_id))


@case(rules.RESET_SNAPSHOT_READY)
def _reset_snapshot_ready(test):
    disk_id = test.api.create_disk()
    snapshot_id = test.api.create_snapshot(disk_id, wait=False)
    refused(test, rules.RESET_SNAPSHOT_READY, test.api.sdk.reset_disk,
            _reset(disk_id, snapshot_id))


@case(rules.RESET_NO_SNAPSHOT_IN_PROGRESS)
def _reset_no_snapshot_in_progress(test):
    disk_id = test.api.create_disk()
    done = test.api.create_snapshot(disk_id)
    test.api.create_snapshot(disk_id, wait=False)
    refused(test, rules.RESET_NO_SNAPSHOT_IN_PROGRESS, test.api.sdk.reset_disk,
            _reset(disk_id, done))


@case(rules.RESET_STATUS)
def _reset_status(test):
    disk_id = test.api.create_disk()
    snapshot_id = test.api.create_snapshot(disk_id)
    test.api.attach(disk_id, instance(9))
    refused(test, rules.RESET_STATUS, test.api.sdk.reset_disk,
            _reset(disk_id, snapshot_id))
    test.api.detach(disk_id, instance(9))


# -- DescribeInstances / tags ------------------------------------------------

@case(rules.INSTANCE_IDS)
def _instance_ids(test):
    ids = json.dumps(['i-%d' % n for n in range(101)])
    refused(test, rules.INSTANCE_IDS, test.api.sdk.describe_instances,
            ecs_models.DescribeInstancesRequest(region_id=test.api.region,
                                                instance_ids=ids))


def _tag(resource_type, resource_id, tags):
    return ecs_models.TagResourcesRequest(
        region_id=None, resource_type=resource_type,
        resource_id=[resource_id],
        tag=[ecs_models.TagResourcesRequestTag(key=key, value=value)
             for key, value in tags])


@case(rules.TAG_RESOURCE_TYPE)
def _tag_resource_type(test):
    request = _tag('spaceship', 'd-x', [('k', 'v')])
    request.region_id = test.api.region
    refused(test, rules.TAG_RESOURCE_TYPE, test.api.sdk.tag_resources,
            request)


@case(rules.TAG_RESOURCE_EXISTS)
def _tag_resource_exists(test):
    request = _tag('disk', 'd-nothere', [('k', 'v')])
    request.region_id = test.api.region
    refused(test, rules.TAG_RESOURCE_EXISTS, test.api.sdk.tag_resources,
            request)


@case(rules.TAG_QUOTA)
def _tag_quota(test):
    disk_id = test.api.create_disk()
    first = _tag('disk', disk_id, [('k%d' % n, 'v') for n in range(20)])
    first.region_id = test.api.region
    test.api.sdk.tag_resources(first)
    more = _tag('disk', disk_id, [('extra', 'v')])
    more.region_id = test.api.region
    refused(test, rules.TAG_QUOTA, test.api.sdk.tag_resources, more)


@case(rules.TAG_DUPLICATE)
def _tag_duplicate(test):
    disk_id = test.api.create_disk()
    request = _tag('disk', disk_id, [('k', 'v'), ('k', 'w')])
    request.region_id = test.api.region
    refused(test, rules.TAG_DUPLICATE, test.api.sdk.tag_resources, request)


def _untag(resource_type, resource_id):
    return ecs_models.UntagResourcesRequest(
        resource_type=resource_type, resource_id=[resource_id],
        tag_key=['k'])


@case(rules.UNTAG_RESOURCE_TYPE)
def _untag_resource_type(test):
    request = _untag('spaceship', 'd-x')
    request.region_id = test.api.region
    refused(test, rules.UNTAG_RESOURCE_TYPE, test.api.sdk.untag_resources,
            request)


@case(rules.UNTAG_RESOURCE_EXISTS)
def _untag_resource_exists(test):
    request = _untag('disk', 'd-nothere')
    request.region_id = test.api.region
    refused(test, rules.UNTAG_RESOURCE_EXISTS, test.api.sdk.untag_resources,
            request)


# -- short-lived credentials -------------------------------------------------

ROLE_ARN = 'acs:ram::1234567890123456:role/cinder-rules'


def http_call(test, method, target, headers=None):
    """A raw request to the emulator: (status, body bytes)."""
    conn = http.client.HTTPConnection('127.0.0.1', test.emu.port, timeout=30)
    try:
        conn.request(method, target, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def assume_role(test, secret=None, **params):
    """AssumeRole signed as the credentials library signs it."""
    query = {'Action': 'AssumeRole', 'Format': 'JSON',
             'Version': sts.STS_VERSION, 'RoleArn': ROLE_ARN,
             'RoleSessionName': 'rules-test', 'DurationSeconds': '3600'}
    query.update(params)
    signed = sts.sign_rpc('GET', query, test.emu.access_key_id,
                          secret or test.emu.access_key_secret)
    status, body = http_call(test, 'GET',
                             '/?' + urllib.parse.urlencode(signed))
    return status, json.loads(body.decode('utf-8'))


def sts_credentials(test):
    status, body = assume_role(test)
    test.assertEqual(200, status, body)
    return body['Credentials']


def sts_sdk(test, creds, key_id=None, token=None):
    return test.emu.sdk_client(
        access_key_id=key_id or creds['AccessKeyId'],
        access_key_secret=creds['AccessKeySecret'],
        security_token=token)


def describe(test):
    return ecs_models.DescribeDisksRequest(region_id=test.api.region)


def assume_refused(test, rule, **params):
    status, body = assume_role(test, **params)
    test.assertEqual((rule.refusal.http_status, rule.refusal.code),
                     (status, body.get('Code')), body)
    test.assertTrue(body.get('RequestId'))


@case(rules.TOKEN_MISSING)
def _token_missing(test):
    creds = sts_credentials(test)
    refused(test, rules.TOKEN_MISSING, sts_sdk(test, creds).describe_disks,
            describe(test))


@case(rules.TOKEN_MALFORMED)
def _token_malformed(test):
    creds = sts_credentials(test)
    sdk = sts_sdk(test, creds, token='CAIS' + uuid.uuid4().hex)
    refused(test, rules.TOKEN_MALFORMED, sdk.describe_disks, describe(test))


@case(rules.TOKEN_MISMATCH_KEY)
def _token_mismatch_key(test):
    first, second = sts_credentials(test), sts_credentials(test)
    sdk = sts_sdk(test, first, token=second['SecurityToken'])
    refused(test, rules.TOKEN_MISMATCH_KEY, sdk.describe_disks,
            describe(test))


@case(rules.TOKEN_EXPIRED)
def _token_expired(test):
    creds = sts_credentials(test)
    sdk = sts_sdk(test, creds, token=creds['SecurityToken'])
    test.assertIsNotNone(sdk.describe_disks(describe(test)).body.request_id)
    test.emu.admin('POST', 'credentials/expire')
    refused(test, rules.TOKEN_EXPIRED, sdk.describe_disks, describe(test))


@case(rules.ASSUME_ROLE_SIGNATURE)
def _assume_role_signature(test):
    status, body = assume_role(test)
    test.assertEqual(200, status)
    test.assertTrue(body['Credentials']['AccessKeyId'].startswith('STS.'))
    for key in ('AccessKeySecret', 'SecurityToken', 'Expiration'):
        test.assertTrue(body['Credentials'][key])
    test.assertEqual(ROLE_ARN + '/rules-test',
                     body['AssumedRoleUser']['Arn'])
    test.assertTrue(body['AssumedRoleUser']['AssumedRoleId'].endswith(
        ':rules-test'))
    assume_refused(test, rules.ASSUME_ROLE_SIGNATURE, secret='wrong')


@case(rules.ASSUME_ROLE_DURATION)
def _assume_role_duration(test):
    for value in ('899', '3601', 'x'):
        assume_refused(test, rules.ASSUME_ROLE_DURATION,
                       DurationSeconds=value)
    test.assertEqual(200, assume_role(test, DurationSeconds='900')[0])


@case(rules.ASSUME_ROLE_SESSION_NAME)
def _assume_role_session_name(test):
    for value in ('a', 'a*b', 'x' * 33):
        assume_refused(test, rules.ASSUME_ROLE_SESSION_NAME,
                       RoleSessionName=value)


@case(rules.ASSUME_ROLE_POLICY)
def _assume_role_policy(test):
    assume_refused(test, rules.ASSUME_ROLE_POLICY, Policy='{not json')


@case(rules.ASSUME_ROLE_PERMISSION)
def _assume_role_permission(test):
    assume_refused(test, rules.ASSUME_ROLE_PERMISSION,
                   RoleArn='acs:ram::x:user/cinder')
    creds = sts_credentials(test)
    sdk = sts_sdk(test, creds, token=creds['SecurityToken'])
    test.emu.admin('POST', 'roles/cinder-rules/revoke')
    try:
        assume_refused(test, rules.ASSUME_ROLE_PERMISSION)
        # Tokens of a revoked role are refused at once (rules.SILENT).
        refused(test, rules.TOKEN_EXPIRED, sdk.describe_disks,
                describe(test))
    finally:
        test.emu.admin('POST', 'roles/cinder-rules/restore')
    test.assertEqual(200, assume_role(test)[0])


@case(rules.METADATA_CREDENTIALS)
def _metadata_credentials(test):
    status, body = http_call(test, 'GET', metadata.CREDENTIALS_PATH)
    test.assertEqual((200, b'EcsRamRoleEbs'), (status, body))
    status, body = http_call(test, 'GET',
                             metadata.CREDENTIALS_PATH + 'EcsRamRoleEbs')
    test.assertEqual(200, status)
    creds = json.loads(body.decode('utf-8'))
    test.assertEqual('Success', creds['Code'])
    for key in ('AccessKeyId', 'AccessKeySecret', 'SecurityToken',
                'Expiration', 'LastUpdated'):
        test.assertTrue(creds[key], key)
    sdk = sts_sdk(test, creds, token=creds['SecurityToken'])
    test.assertIsNotNone(sdk.describe_disks(describe(test)).body.request_id)
    status, _body = http_call(test, 'GET',
                              metadata.CREDENTIALS_PATH + 'OtherRole')
    test.assertEqual(404, status)


@case(rules.METADATA_TOKEN_TTL)
def _metadata_token_ttl(test):
    for ttl in ('0', '21601', 'x'):
        status, _body = http_call(test, 'PUT', metadata.TOKEN_PATH,
                                  {metadata.TTL_HEADER: ttl})
        test.assertEqual(400, status, ttl)
    status, token = http_call(test, 'PUT', metadata.TOKEN_PATH,
                              {metadata.TTL_HEADER: '21600'})
    test.assertEqual(200, status)
    status, body = http_call(test, 'GET', metadata.CREDENTIALS_PATH,
                             {metadata.TOKEN_HEADER: token.decode()})
    test.assertEqual((200, b'EcsRamRoleEbs'), (status, body))
    status, _body = http_call(test, 'GET', metadata.CREDENTIALS_PATH,
                              {metadata.TOKEN_HEADER: 'bogus'})
    test.assertEqual(401, status)


@case(rules.METADATA_TOKEN_REQUIRED)
def _metadata_token_required(test):
    # The shared emulator serves normal mode too: the hardened mode is
    # checked on a service of its own.
    service = metadata.MetadataService(sts.TokenStore(), 'Role',
                                       token_required=True)
    status, _body, _type = service.handle(
        'GET', metadata.CREDENTIALS_PATH, {})
    test.assertEqual(403, status)
    status, token, _type = service.handle(
        'PUT', metadata.TOKEN_PATH, {metadata.TTL_HEADER: ['60']})
    test.assertEqual(200, status)
    status, body, _type = service.handle(
        'GET', metadata.CREDENTIALS_PATH,
        {metadata.TOKEN_HEADER: [token.decode()]})
    test.assertEqual((200, b'Role'), (status, body))


# -- the test classes --------------------------------------------------------

class _RulesTestCase(base.SharedEmulatorTestCase):
    """Runs the cases of the rules that hold under ``readings``."""

    # Several cases need a transition still under way when their next
    # call arrives (a snapshot progressing, a disk attaching): long
    # enough that a loaded machine's slow call still finds it.
    transition_delay = 0.15

    @classmethod
    def emulator_kwargs(cls):
        kwargs = super().emulator_kwargs()
        instances = config.default_instances(20)
        instances.append({'InstanceId': 'i-emuzoneb', 'HostName': 'zone-b',
                          'SerialNumber': config.instance_serial('i-emuzoneb'),
                          'ZoneId': OTHER_ZONE})
        kwargs['instances'] = instances
        return kwargs

    other_zone_instance = 'i-emuzoneb'

    def disk_request(self, **kw):
        values = dict(region_id=self.api.region, zone_id=self.api.zone,
                      size=1, disk_category='cloud_essd',
                      performance_level='PL0', multi_attach='Disabled')
        values.update(kw)
        return ecs_models.CreateDiskRequest(**values)

    def snapshot_of_new_disk(self, size=1):
        return self.api.create_snapshot(self.api.create_disk(size=size))

    def _run_cases(self):
        ran = []
        for rule in rules.RULES:
            if rule.applies(self.readings):
                with self.subTest(rule=rule.key, source=rule.source):
                    CASES[rule.key](self)
                ran.append(rule.key)
        self.assertTrue(ran)


class DefaultReadingsTest(_RulesTestCase):
    readings = rules.default_readings()

    def test_rules(self):
        self._run_cases()


class StrictReadingsTest(_RulesTestCase):
    readings = rules.strict_readings()

    def test_rules(self):
        self._run_cases()


class RuleBookTest(base.EmulatorTestCase):

    def test_every_rule_has_a_case_and_a_source(self):
        self.assertEqual(sorted(rule.key for rule in rules.RULES),
                         sorted(CASES))
        for rule in rules.RULES:
            self.assertTrue(rule.source.startswith('https://'), rule.key)

    def test_every_reading_of_every_dispute_is_tested(self):
        for dispute in rules.DISPUTES.values():
            self.assertEqual({dispute.default, dispute.strict},
                             set(dispute.readings), dispute.key)
            for rule in rules.RULES:
                if rule.dispute == dispute.key:
                    self.assertIn(rule.reading, dispute.readings, rule.key)

    def test_readings_from_the_command_line(self):
        self.assertEqual(rules.default_readings(), rules.parse_readings())
        strict = rules.parse_readings(True, ['delete-missing=ignored'])
        self.assertEqual('ignored', strict['delete-missing'])
        self.assertEqual('createdisk', strict['multi-attach-categories'])
        self.assertRaises(ValueError, rules.parse_readings, False,
                          ['nonsense=x'])
        self.assertRaises(ValueError, rules.parse_readings, False,
                          ['delete-missing=sometimes'])

    def test_the_docs_page_is_the_generated_one(self):
        with open(DOC_PAGE) as page:
            committed = page.read()
        self.assertEqual(rulebook.rst(), committed,
                         'regenerate it: ebs-emulator rules --rst > %s'
                         % os.path.relpath(DOC_PAGE, ROOT))
