"""What a disk's data path delivers against what its performance says.

Starts the emulator with the FUSE data path and ``--performance-scale``
(the machine cannot reach real ESSD figures), makes disks of a few kinds,
attaches them, and measures from host processes reading each instance's
view with O_DIRECT:

* IOPS: 4 KiB random reads at queue depth 1 per process;
* throughput: 1 MiB sequential reads;

from one host, then from 1, 2 and 4 hosts at once on one multi-attach
disk (their sum against the one disk's limit, which they share); and,
with ``--guest``, inside a tiny TCG guest (the all-in-one's ``iobench``
role) that the disk is hot-plugged into through the shim's ``<disk>``. The
limit is DescribeDisks' IOPS and Throughput times the scale (for a
bursting AutoPL disk, its burst ceiling, min{1,000,000, 1,000 x size}
IOPS). A disk of a category whose performance is not modelled runs
unlimited: the reference of what the machine allows. Figures only;
nothing is asserted. Needs root (FUSE)::

    python tools/bench_qos.py [--scale 0.05] [--seconds 3] [--guest]
"""

import argparse
import contextlib
import json
import mmap
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid

from alibabacloud_ecs20140526 import models as ecs_models

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from ebs_emulator import performance  # noqa: E402
from tests import emulator_fixture  # noqa: E402

SMALL = 4096
LARGE = 1024 * 1024
WARM_UP = 0.5

# name, CreateDisk parameters, multi-attach
KINDS = (
    ('PL0 100 GiB', dict(size=100, disk_category='cloud_essd',
                         performance_level='PL0'), True),
    ('AutoPL 100 GiB + 13,200 IOPS', dict(
        size=100, disk_category='cloud_auto', provisioned_iops=13200), True),
    ('AutoPL 20 GiB + 5,000 IOPS, bursting', dict(
        size=20, disk_category='cloud_auto', provisioned_iops=5000,
        bursting_enabled=True), False),
    ('reference: cloud_ssd, not limited', dict(
        size=100, disk_category='cloud_ssd'), False),
)


def _worker(path, block, seconds, size_bytes, queue):
    """Read ``block``-sized pieces for ``seconds``; put the rate.

    The rate is between the first and the last completion counted, so
    that an operation half done at either end does not count.
    """
    buf = mmap.mmap(-1, block)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    rng = random.Random(os.getpid())
    blocks = size_bytes // block
    sequential = block >= LARGE
    position = 0
    count = 0
    first = last = None
    # The first operations ride on the limit's idle credit: not counted.
    counting = time.monotonic() + WARM_UP
    deadline = counting + seconds
    try:
        while time.monotonic() < deadline:
            if sequential:
                position = (position + 1) % blocks
                offset = position * block
            else:
                offset = rng.randrange(blocks) * block
            os.preadv(fd, [buf], offset)
            now = time.monotonic()
            if now > counting:
                if first is None:
                    first = now
                else:
                    count += 1
                last = now
    finally:
        os.close(fd)
    queue.put(count / (last - first) if count else 0.0)


def measure(paths, block, seconds, size_bytes):
    """Operations per second of one process per path, summed."""
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(
        target=_worker, args=(path, block, seconds, size_bytes, queue))
        for path in paths]
    for worker in workers:
        worker.start()
    rates = [queue.get(timeout=WARM_UP + seconds + 60) for _ in workers]
    for worker in workers:
        worker.join()
    return sum(rates)


def ceiling(disk):
    """(IOPS, MB/s) the data path holds the disk to, before the scale."""
    iops, mbps = disk['IOPS'], disk['Throughput']
    if disk.get('BurstingEnabled'):
        iops, mbps = performance.burst_ceiling(disk['Size'], iops, mbps)
    return iops, mbps


def run(args):
    emu = emulator_fixture.EmulatorFixture(
        fuse_views='yes', transition_delay=0.05,
        extra_args=['--performance-scale', str(args.scale)])
    emu.setUp()
    try:
        sdk = emu.sdk_client()
        results = []
        for name, params, multi in KINDS:
            disk_id = sdk.create_disk(ecs_models.CreateDiskRequest(
                region_id=emu.region_id, zone_id=emu.zone_id,
                multi_attach='Enabled' if multi else 'Disabled',
                **params)).body.disk_id
            hosts = [emu.instances[n]['InstanceId']
                     for n in range(4 if multi else 1)]
            _wait(emu, disk_id, lambda d: d['Status'] == 'Available')
            for instance_id in hosts:
                sdk.attach_disk(ecs_models.AttachDiskRequest(
                    disk_id=disk_id, instance_id=instance_id))
            disk = _wait(emu, disk_id, lambda d: len(
                d['Attachments']['Attachment']) == len(hosts))
            paths = [emu.device_path(instance_id, disk_id)
                     for instance_id in hosts]
            limit_iops, limit_mbps = ceiling(disk)
            size_bytes = min(disk['Size'] << 30, 1 << 30)
            row = {'kind': name, 'limit_iops': limit_iops * args.scale,
                   'limit_mbps': limit_mbps * args.scale, 'runs': []}
            for count in ([1, 2, 4] if multi else [1]):
                iops = [measure(paths[:count], SMALL, args.seconds,
                                size_bytes) for _ in range(args.rounds)]
                mbps = [measure(paths[:count], LARGE, args.seconds,
                                size_bytes) for _ in range(args.rounds)]
                row['runs'].append((count, statistics.median(iops),
                                    statistics.median(mbps)))
            results.append(row)
            for instance_id in hosts:
                sdk.detach_disk(ecs_models.DetachDiskRequest(
                    disk_id=disk_id, instance_id=instance_id))
            _wait(emu, disk_id, lambda d: d['Status'] == 'Available')
            sdk.delete_disk(ecs_models.DeleteDiskRequest(disk_id=disk_id))
        return results
    finally:
        emu.cleanUp()


def run_in_guest(args):
    """The AutoPL kind's figures measured by a guest; None if no guest."""
    from ebs_allinone.hosts import guest_iobench
    from ebs_allinone.hosts import guest_support
    from tools import bench_disk_io

    reason = guest_support.unavailable_reason()
    if reason:
        print('no guest run here: %s' % reason)
        return None
    name, params, _multi = KINDS[1]
    volume_id = str(uuid.uuid4())
    with contextlib.ExitStack() as stack:
        emu = stack.enter_context(emulator_fixture.EmulatorFixture(
            fuse_views='yes', transition_delay=0.05,
            extra_args=['--performance-scale', str(args.guest_scale)]))
        sdk = emu.sdk_client()
        disk_id = sdk.create_disk(ecs_models.CreateDiskRequest(
            region_id=emu.region_id, zone_id=emu.zone_id,
            multi_attach='Enabled', **params)).body.disk_id
        _wait(emu, disk_id, lambda d: d['Status'] == 'Available')
        instance_id = emu.instances[0]['InstanceId']
        sdk.attach_disk(ecs_models.AttachDiskRequest(
            disk_id=disk_id, instance_id=instance_id))
        disk = _wait(emu, disk_id, lambda d: d['Attachments']['Attachment'])
        workdir = tempfile.mkdtemp(prefix='ebs-bench-qos-')
        stack.callback(shutil.rmtree, workdir, True)
        bench = bench_disk_io.Bench(stack, workdir, volume_id)
        xml = bench_disk_io.disk_xml(emu.device_path(instance_id, disk_id),
                                     volume_id)
        runs = [bench.run(xml)[0] for _ in range(args.guest_rounds)]
        sdk.detach_disk(ecs_models.DetachDiskRequest(
            disk_id=disk_id, instance_id=instance_id))
        _wait(emu, disk_id, lambda d: d['Status'] == 'Available')
    iops, mbps = ceiling(disk)
    return {'kind': name, 'limit_iops': iops * args.guest_scale,
            'limit_mbps': mbps * args.guest_scale, 'runs': runs,
            'fields': guest_iobench.FIELDS}


def report_guest(row, args):
    print('Inside a TCG guest, %s (x %g): limit %.0f IOPS, %.1f MB/s; '
          'median of %d runs:' % (row['kind'], args.guest_scale,
                                  row['limit_iops'], row['limit_mbps'],
                                  len(row['runs'])))

    def median(field):
        return statistics.median(run[field] for run in row['runs'])

    for label, value, limit in (
            ('4 KiB writes, QD 1', 1e6 / median('w4k_us'),
             row['limit_iops']),
            ('4 KiB reads, QD 1', 1e6 / median('r4k_us'), row['limit_iops']),
            ('4 KiB writes, QD 4', median('w4k_qd4_iops'),
             row['limit_iops']),
            ('4 KiB reads, QD 4', median('r4k_qd4_iops'), row['limit_iops']),
    ):
        print('    %-20s %8.0f IOPS (%s)' % (label, value,
                                             _ratio(value, limit)))
    for label, field in (('1 MiB writes', 'w1m_mbps'),
                         ('1 MiB reads', 'r1m_mbps')):
        # The guest counts MB of 10^6 bytes.
        value = median(field) * 1e6 / LARGE
        print('    %-20s %8.1f MB/s (%s)'
              % (label, value, _ratio(value, row['limit_mbps'])))


def _wait(emu, disk_id, done, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        body = emu.raw_request('DescribeDisks', {
            'RegionId': emu.region_id,
            'DiskIds': json.dumps([disk_id])})[2]
        disk = body['Disks']['Disk'][0]
        if done(disk):
            return disk
        if time.monotonic() > deadline:
            raise RuntimeError('disk %s: %s' % (disk_id, disk))
        time.sleep(0.1)


def _ratio(measured, limit):
    if not limit:
        return '    -'
    return '%4.0f%%' % (100.0 * measured / limit)


def report(results, args):
    print('Data path against each disk\'s performance (x %g), O_DIRECT '
          'reads from host processes, median of %d runs of %g s:'
          % (args.scale, args.rounds, args.seconds))
    for row in results:
        limited = row['limit_iops'] > 0
        print('  %s: limit %s' % (row['kind'], (
            '%.0f IOPS, %.1f MB/s' % (row['limit_iops'], row['limit_mbps'])
            if limited else 'none')))
        for count, iops, mbps in row['runs']:
            print('    %d host%s  %8.0f IOPS (%s)  %7.1f MB/s (%s)' % (
                count, ' ' if count == 1 else 's', iops,
                _ratio(iops, row['limit_iops']), mbps,
                _ratio(mbps, row['limit_mbps'])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scale', type=float, default=0.05)
    parser.add_argument('--seconds', type=float, default=3.0)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--guest', action='store_true',
                        help='Also measure inside a TCG guest.')
    parser.add_argument('--guest-scale', type=float, default=0.02)
    parser.add_argument('--guest-rounds', type=int, default=3)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print('bench_qos: needs root (the FUSE data path); skipped')
        return 0
    report(run(args), args)
    if args.guest:
        row = run_in_guest(args)
        if row:
            report_guest(row, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
