#!/usr/bin/env python3
"""ECS calls of one scheduler-stats refresh at N disks, M of them Cinder's.

Starts the emulator (a subprocess on loopback, temporary state), fills
its region with N disks of which M carry Cinder's ``cinder-volume-id``
tag, and refreshes the driver's stats through the real backend client:
once listing every disk of the region (what the stats did before), once
with the tag filter (what they do now).  DescribeDisks calls are counted
in the emulator's access log; times are median (min-max) of the runs.
Figures only; nothing is asserted.

    PYTHONPATH=. python tools/bench_stats.py [disks] [cinder disks] [runs]

(run from the top of the tree: the emulator fixture of the tests starts
the emulator).
"""

import math
import statistics
import sys
import time

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import naming
from cinder_ebs_driver import stats
from tests import emulator_fixture


def _describe_calls(emu):
    return emu.call_counts()['DescribeDisks']


def _measure(emu, conf, tags, runs):
    client = ebs_client.EBSClient(conf)
    samples, calls, provisioned = [], [], None
    for _ in range(runs):
        before = _describe_calls(emu)
        start = time.perf_counter()
        disks = client.list_disks(tags=tags)
        samples.append(time.perf_counter() - start)
        calls.append(_describe_calls(emu) - before)
        provisioned = stats.provisioned_gb(disks, conf.ebs_zone_id)
    return samples, calls, provisioned


def main(argv):
    total = int(argv[1]) if len(argv) > 1 else 10000
    tagged = int(argv[2]) if len(argv) > 2 else 1000
    runs = int(argv[3]) if len(argv) > 3 else 3
    emu = emulator_fixture.EmulatorFixture(num_instances=1)
    emu.setUp()
    try:
        step = total // tagged
        emu.seed_disks(total, prefix='d-stats', tags=lambda n: (
            {naming.VOLUME_TAG: 'vol-%d' % n}
            if n % step == 0 and n // step < tagged else None))
        conf = emu.driver_conf(ebs_api_timeout=120)
        print('Stats refresh, %d disks in the region, %d of them Cinder\'s '
              '(goal: at most %d calls), median (min-max) of %d:'
              % (total, tagged, math.ceil(tagged / 100.0), runs))
        results = {}
        for label, tags in (('every disk of the region (before)', None),
                            ('tag filter %s (now)' % naming.VOLUME_TAG,
                             {naming.VOLUME_TAG: None})):
            samples, calls, provisioned = _measure(emu, conf, tags, runs)
            results[label] = statistics.median(samples)
            print('  %-44s %4d DescribeDisks  %.2f (%.2f-%.2f) s  '
                  'provisioned %d GiB' % (
                      label, statistics.median(calls),
                      statistics.median(samples), min(samples),
                      max(samples), provisioned))
        before, now = results.values()
        print('  time ratio before / now: %.1fx' % (before / now))
    finally:
        emu.cleanUp()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
