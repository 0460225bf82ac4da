#!/usr/bin/env python3
"""Creates and attachments per second with one and two volume services.

Starts the all-in-one's cluster topology (cinder-api, cinder-scheduler,
two cinder-volume in one cluster over RabbitMQ, MariaDB and etcd; the
emulator as the backend; no guests), then runs the same batch twice:
with both volume services, and after stopping one of them. A batch is
``--volumes`` volumes, ``--threads`` at a time: create (until
``available``), then attach (attachment create with a connector +
complete, until ``in-use``), then detach and delete (not timed). Prints,
per run and operation, the operations per second over the batch and
p50/p95 of one operation's latency (nothing is asserted on time), and
the conflicting overlaps of mutating calls on one disk that the emulator
recorded (see ebs_emulator.overlaps).

    .tox/cluster/bin/python tools/bench_cluster.py [--volumes N]
        [--threads N]

Needs root (the emulator's devices) and the Debian packages of
tools/install-deps.sh.
"""

import argparse
import concurrent.futures
import statistics
import sys
import time

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.cinder import config
from ebs_allinone import cluster

HOSTS = ('host-a', 'host-b')
SERVER = '33333333-3333-4333-8333-333333333333'


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Batch(object):

    def __init__(self, stack):
        self.admin = stack.client(cinder_api.MULTIATTACH_VERSION)
        self.service = stack.client(cinder_api.MULTIATTACH_VERSION,
                                    service=True)

    def create(self, name):
        start = time.perf_counter()
        volume = self.admin.volumes.create(20, name=name)
        cinder_api.wait_for_status(self.admin.volumes, volume.id,
                                   ('available',))
        return volume.id, time.perf_counter() - start

    def attach(self, index, volume_id):
        host = HOSTS[index % len(HOSTS)]
        connector = {'host': host, 'ip': '127.0.0.1', 'multipath': False,
                     'initiator': 'iqn.2004-10.org.example:%s' % host,
                     'platform': 'x86_64', 'os_type': 'linux2'}
        start = time.perf_counter()
        attachment = self.admin.attachments.create(volume_id, connector,
                                                   SERVER)
        self.admin.attachments.complete(attachment['id'])
        cinder_api.wait_for_status(self.admin.volumes, volume_id,
                                   ('in-use',))
        return attachment['id'], time.perf_counter() - start

    def remove(self, volume_id, attachment_id):
        self.service.attachments.delete(attachment_id)
        cinder_api.wait_for_status(self.admin.volumes, volume_id,
                                   ('available',))
        self.admin.volumes.delete(volume_id)
        cinder_api.wait_for_deleted(self.admin.volumes, volume_id)

    def run(self, label, volumes, threads):
        figures = {}
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            start = time.perf_counter()
            created = list(pool.map(self.create, ['%s-%d' % (label, i)
                                                  for i in range(volumes)]))
            figures['create'] = (time.perf_counter() - start,
                                 [t for _v, t in created])
            ids = [v for v, _t in created]
            start = time.perf_counter()
            attached = list(pool.map(self.attach, range(volumes), ids))
            figures['attach'] = (time.perf_counter() - start,
                                 [t for _a, t in attached])
            list(pool.map(self.remove, ids, [a for a, _t in attached]))
        return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--volumes', type=int, default=16)
    parser.add_argument('--threads', type=int, default=4)
    args = parser.parse_args(argv)

    stack = cluster.ClusterAllInOne(num_hosts=len(HOSTS))
    try:
        stack.make_dir()
        stack.start_emulator()
        stack.start_cinder()
        batch = Batch(stack)
        # A warm-up: the first calls load code in every process.
        batch.run('warm-up', 2, 2)
        results = [('2 volume services', batch.run('two', args.volumes,
                                                   args.threads))]
        stack.services[cluster.cluster_config.VOLUME_HOSTS[1]].stop()
        results.append(('1 volume service', batch.run(
            'one', args.volumes, args.threads)))
        conflicts = stack.emulator.overlaps()['conflicts']
    finally:
        left = stack.stop()
    print('%d volumes, %d at a time, one cluster (%s); seconds'
          % (args.volumes, args.threads, config.BACKEND))
    print('%-18s %-8s %8s %8s %8s' % ('', 'op', 'ops/s', 'p50', 'p95'))
    for label, figures in results:
        for op in ('create', 'attach'):
            elapsed, times = figures[op]
            print('%-18s %-8s %8.2f %8.2f %8.2f' % (
                label, op, len(times) / elapsed, statistics.median(times),
                _percentile(times, 0.95)))
    print('conflicting overlaps of mutating calls on one disk: %d'
          % conflicts)
    if left:
        print('NOT CLEAN: %s' % '; '.join(left))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
