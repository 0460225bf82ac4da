#!/usr/bin/env python3
"""Cost of the emulator's Describe lookups at 1 and at N disks.

Runs the emulator service in process (no HTTP) on a temporary state
directory, times DescribeDisks and DescribeSnapshots lookups of one
resource with a region of 1 disk, then again once the region holds N
disks (a tenth of them tagged as Cinder's), and prints each figure as
median (min-max) and the ratio N / 1.  Figures only; nothing is asserted.

    python tools/bench_emulator_lookup.py [disks] [repeats]
"""

import json
import shutil
import statistics
import sys
import tempfile
import time

from ebs_emulator import config
from ebs_emulator import db
from ebs_emulator import service as service_mod
from tests import emulator_fixture

TAG_KEY = 'cinder-backend'
TAG_VALUE = 'bench'


def _add_rows(service, count, tag_every):
    """``count`` more disks, straight into the database (no data files)."""
    emulator_fixture.add_disks(
        service.db, service.region_id, service.zone_id, count,
        prefix='d-bench', tags=lambda n: (
            {TAG_KEY: 'other'} if n % tag_every == 0 else None))


def _cases(service, disk_id, snapshot_id):
    region = service.region_id
    return [
        ('DescribeDisks DiskIds=[one]', 'DescribeDisks',
         {'RegionId': region, 'DiskIds': json.dumps([disk_id])}),
        ('DescribeDisks DiskName (one match)', 'DescribeDisks',
         {'RegionId': region, 'DiskName': 'bench-disk'}),
        ('DescribeDisks Status=Creating (one match)', 'DescribeDisks',
         {'RegionId': region, 'Status': 'Creating'}),
        ('DescribeDisks Tag.1 Key=Value (one match)', 'DescribeDisks',
         {'RegionId': region, 'Tag.1.Key': TAG_KEY,
          'Tag.1.Value': TAG_VALUE}),
        ('DescribeSnapshots SnapshotIds=[one]', 'DescribeSnapshots',
         {'RegionId': region, 'SnapshotIds': json.dumps([snapshot_id])}),
    ]


def _time(service, action, params, repeats):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        service.call(action, params)
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def _fmt(samples):
    return '%.2f (%.2f-%.2f) ms' % (statistics.median(samples),
                                    min(samples), max(samples))


def main(argv):
    count = int(argv[1]) if len(argv) > 1 else 10000
    repeats = int(argv[2]) if len(argv) > 2 else 20
    state_dir = tempfile.mkdtemp(prefix='ebs-bench-')
    service = service_mod.EmulatorService(
        state_dir, config.default_instances(1, config.DEFAULT_ZONE),
        zone_id=config.DEFAULT_ZONE, transition_delay=3600,
        use_loop_devices=False)
    try:
        # The looked-up disk stays Creating: its transitions are not due.
        service.call('CreateDisk', {
            'RegionId': service.region_id, 'ZoneId': service.zone_id,
            'Size': '20', 'DiskCategory': 'cloud_essd',
            'DiskName': 'bench-disk', 'Tag.1.Key': TAG_KEY,
            'Tag.1.Value': TAG_VALUE})
        with service.db.session() as session:
            disk = session.query(db.Disk).one()
            disk.status, disk.due_at = 'Available', None
            # ECS snapshots only disks that were attached before.
            disk.attached_at = disk.detached_at = time.time()
            disk_id = disk.id
        snapshot_id = service.call('CreateSnapshot', {'DiskId': disk_id})[
            'SnapshotId']
        with service.db.session() as session:
            session.get(db.Disk, disk_id).status = 'Creating'
        cases = _cases(service, disk_id, snapshot_id)
        small = [_time(service, action, params, repeats)
                 for _name, action, params in cases]
        _add_rows(service, count - 1, tag_every=10)
        large = [_time(service, action, params, repeats)
                 for _name, action, params in cases]
        print('Emulator lookups, in process, median (min-max) of %d, '
              '1 disk vs %d disks (1 in 10 with the tag key):'
              % (repeats, count))
        for (name, _action, _params), one, many in zip(cases, small, large):
            print('  %-42s %-24s %-24s %.1fx' % (
                name, _fmt(one), _fmt(many),
                statistics.median(many) / statistics.median(one)))
    finally:
        service.close()
        shutil.rmtree(state_dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
