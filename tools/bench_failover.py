#!/usr/bin/env python3
"""Fenced failover and the reservation data path, measured.

Two parts, each printing figures (nothing is asserted on time):

* ``datapath``: O_DIRECT throughput through an emulator instance's FUSE
  view of a disk against a plain file on the same file system, 4 KiB and
  1 MiB blocks, reads and writes; median (min-max) of the rounds and the
  ratio view/file, runs alternated;
* ``failover``: repeated takeovers between two lease agents (separate
  processes, one per instance of a shared disk): the primary host is
  frozen (SIGSTOP of its agent and of its application writer), the
  standby takes over; takeover time = freeze -> first write of the new
  primary's writer accepted; after SIGCONT, writes of the old primary's
  writer accepted by the emulator are split-brain writes (must be 0).

    python tools/bench_failover.py [datapath|failover|all] [--rounds N]
"""

import argparse
import mmap
import os
import signal
import statistics
import sys
import tempfile
import time

from ebs_allinone.daemons import process
from ebs_allinone.hosts import appwriter
from ebs_allinone.hosts import shared_disk
from ebs_allinone.scenarios import failover_run

SIZES = ((4096, 16 << 20), (1 << 20, 128 << 20))


def _median(values):
    return '%.1f (%.1f-%.1f)' % (statistics.median(values), min(values),
                                 max(values))


def _throughput(path, block, total, write):
    """MiB/s of ``total`` bytes in ``block`` O_DIRECT calls."""
    buf = mmap.mmap(-1, block)
    buf.write(b'\xa5' * block)
    fd = os.open(path, (os.O_RDWR if write else os.O_RDONLY) | os.O_DIRECT)
    try:
        start = time.perf_counter()
        for offset in range(0, total, block):
            if write:
                os.pwritev(fd, [buf], offset)
            else:
                os.preadv(fd, [buf], offset)
        if write:
            os.fdatasync(fd)
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
        buf.close()
    return total / elapsed / (1 << 20)


def bench_datapath(rounds):
    with shared_disk.SharedDisk(instances=1) as disk:
        view = disk.paths[disk.instance_ids[0]]
        with tempfile.NamedTemporaryFile(dir=disk.dir,
                                         prefix='plain-') as plain:
            plain.truncate(disk.size_gib << 30)
            plain.flush()
            targets = (('view', view), ('file', plain.name))
            print('Data path: O_DIRECT MiB/s, median (min-max) of %d '
                  'rounds; the emulator view vs a plain file' % rounds)
            print('%-22s %-24s %-24s %s' % ('', 'FUSE view', 'plain file',
                                            'view/file'))
            for block, total in SIZES:
                for write in (True, False):
                    found = {'view': [], 'file': []}
                    for index in range(rounds):
                        order = targets if index % 2 == 0 else targets[::-1]
                        for name, path in order:
                            found[name].append(
                                _throughput(path, block, total, write))
                    ratio = (statistics.median(found['view']) /
                             statistics.median(found['file']))
                    label = '%s %s' % (
                        '4 KiB' if block == 4096 else '1 MiB',
                        'write' if write else 'read')
                    print('%-22s %-24s %-24s %.2f' % (
                        label, _median(found['view']),
                        _median(found['file']), ratio))
            counts = disk.reservations()['counters'][disk.instance_ids[0]]
            print('emulator counted for the view: %s' % ', '.join(
                '%s=%d' % item for item in sorted(counts.items())))


def bench_failover(rounds, refresh, timeout, interval_ms=10):
    with shared_disk.SharedDisk(instances=2) as disk:
        hosts, writers = [], []
        for index, instance_id in enumerate(disk.instance_ids):
            name = 'host-%s' % 'ab'[index]
            device = disk.paths[instance_id]
            writer = appwriter.start(
                device, (index + 1) << 20, name, interval_ms,
                os.path.join(disk.dir, 'app-%s.log' % name))
            writers.append(writer)
            agent = failover_run.LeaseAgentProcess(
                name, device, disk.dir, refresh, timeout)
            hosts.append(failover_run.FailoverHost(
                name, instance_id, device, agent,
                lambda writer=writer: [writer.pid]))
        try:
            _failovers(disk, hosts, rounds, refresh, timeout)
        finally:
            for host in hosts:
                host.agent.stop()
            for writer in writers:
                os.kill(writer.pid, signal.SIGCONT)
                process.stop_process(writer, 'application writer')


def _failovers(disk, hosts, rounds, refresh, timeout):
    primary, standby = hosts
    failover_run.start_agents(primary, standby)
    run = failover_run.Failover(
        lambda: disk.reservations()['counters'], refresh, timeout)
    print('Failover: %d takeovers, refresh interval %.2fs, takeover '
          'timeout %.2fs (on time: at most %.2fs)'
          % (rounds, refresh, timeout, run.bound))
    results = []
    for index in range(rounds):
        result = run.run(primary, standby)
        results.append(result)
        print('%2d %s -> %s: takeover %.3fs, fenced host writes %d '
              'attempted / %d refused, split-brain %d, old primary exit %s'
              % (index + 1, result['from'], result['to'],
                 result['takeover_seconds'],
                 result['fenced_writes_attempted'],
                 result['fenced_writes_refused'],
                 result['split_brain_writes'],
                 result['old_primary_exit_status']))
        # The old primary comes back as the standby.
        primary.agent.start()
        primary.agent.wait_state('standby', failover_run.AGENT_START_TIMEOUT)
        primary, standby = standby, primary
    takeovers = [r['takeover_seconds'] for r in results]
    print('takeover p50 %.3fs, max %.3fs (bound %.2fs); split-brain '
          'writes %d; failovers held %d of %d'
          % (statistics.median(takeovers), max(takeovers), run.bound,
             sum(r['split_brain_writes'] for r in results),
             sum(1 for r in results if run.held(r)), len(results)))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('part', nargs='?', default='all',
                        choices=['datapath', 'failover', 'all'])
    parser.add_argument('--rounds', type=int, default=5,
                        help='data path rounds')
    parser.add_argument('--failovers', type=int, default=10)
    parser.add_argument('--refresh-interval', type=float, default=0.5)
    parser.add_argument('--takeover-timeout', type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.part in ('datapath', 'all'):
        bench_datapath(args.rounds)
    if args.part in ('failover', 'all'):
        bench_failover(args.failovers, args.refresh_interval,
                       args.takeover_timeout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
