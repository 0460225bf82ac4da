"""Operations on one volume on both volume services at once.

Attachments of the same multi-attach volumes to several hosts are
created and deleted at once through cinder-api, which lets one new
attachment of a volume through at a time but any number of deletions
along with it, then the volumes are extended; the cluster's topic
spreads the work over both cinder-volume services. Their logs show that
both worked on every volume in the same batch; the emulator's record of
mutating calls shows that the lock in etcd kept calls on one disk that
conflict from being in flight together.
"""

import collections
import concurrent.futures
import datetime
import json
import os
import re
import time
import uuid

from cinderclient import exceptions as cinder_exc
import testtools

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.cinder import cluster_config
from ebs_allinone import cluster
from ebs_allinone.daemons import process
from tests import cluster as cluster_tests

HOSTS = ('host-a', 'host-b', 'host-c')
VOLUMES = 2
# Attachments per host and volume (guests on the same compute host).
GUESTS = 2
ROUNDS = 2
THREADS = 8
TIMEOUT = 180
RETRY_INTERVAL = 0.2
MULTIATTACH = {'multiattach': '<is> True'}
# What each volume service logs about a volume when it works on it.
WORK = (r'Volume (%(id)s) is attached to host',
        r'Volume volume-(%(id)s) \(\1\): Terminate volume connection '
        r'completed')
LOG_TIME = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) ')


def connector(host):
    return {'host': host, 'ip': '127.0.0.1', 'multipath': False,
            'initiator': 'iqn.2004-10.org.example:%s' % host}


class ConcurrentOperationsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('the all-in-one needs root')
        cluster_tests.skip_without_servers(self)
        self.stack = cluster.ClusterAllInOne(names=HOSTS)
        self.addCleanup(self.stop_stack)
        self.stack.make_dir()
        self.stack.start_emulator()
        self.stack.start_cinder()
        self.admin = self.stack.client(cinder_api.MULTIATTACH_VERSION)
        self.service = self.stack.client(cinder_api.MULTIATTACH_VERSION,
                                         service=True)
        self.refused = collections.Counter()
        # (start, end) of each batch of operations sent at once.
        self.batches = []

    def stop_stack(self):
        pids = list(self.stack.pids.values())
        self.assertEqual([], self.stack.stop())
        for pid in pids:
            self.assertTrue(process.wait_gone(pid, 15), pid)

    # -- operations ---------------------------------------------------
    def retried(self, what, call):
        """``call()``, again while cinder-api refuses it (HTTP 400)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                return call()
            except cinder_exc.BadRequest:
                self.refused[what] += 1
                self.assertLess(time.monotonic(), deadline, what)
                time.sleep(RETRY_INTERVAL)

    def attach(self, volume_id, host):
        """An attachment of the volume to a new guest on ``host``.

        cinder-api reserves a volume for one new attachment at a time:
        a refused one is tried again.
        """
        attachment = self.retried('attach', lambda: (
            self.admin.attachments.create(volume_id, connector(host),
                                          str(uuid.uuid4()))))
        self.admin.attachments.complete(attachment['id'])
        return (volume_id, host, attachment['id'])

    def detach(self, *attachments):
        """Delete attachments one after the other."""
        for attachment in attachments:
            self.service.attachments.delete(attachment[2])

    def detach_at_once(self, attachments):
        """Every attachment's deletion at once, same host or not.

        Two deletions on one host at once may each see the other's
        attachment still in place and keep the host's connection; the
        re-check of the one that stays last detaches the host.
        """
        return [(self.detach, (attachment,)) for attachment in attachments]

    def extend(self, volume_id):
        """Extend by 1 GiB."""
        size = self.admin.volumes.get(volume_id).size
        self.admin.volumes.extend(volume_id, size + 1)
        cinder_api.wait_for_status(self.admin.volumes, volume_id,
                                   ('available',), timeout=TIMEOUT)
        return volume_id

    def wait_for_no_backend_attachment(self):
        """Every host detached on the backend too (after re-checks)."""
        deadline = time.monotonic() + TIMEOUT
        while self.stack.emulator.state()['service']['attachments']:
            self.assertLess(time.monotonic(), deadline,
                            'a disk stayed attached to a host that no '
                            'attachment needs')
            time.sleep(RETRY_INTERVAL)

    def at_once(self, calls):
        """Run ``(function, args)`` calls together; their results."""
        started = datetime.datetime.now()
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            jobs = [pool.submit(function, *args) for function, args in calls]
            results = [job.result() for job in jobs]
        self.batches.append((started, datetime.datetime.now()))
        return results

    def settle(self, volumes, statuses):
        for volume_id in volumes:
            cinder_api.wait_for_status(self.admin.volumes, volume_id,
                                       statuses, timeout=TIMEOUT)

    def run_round(self, volumes):
        # Every host and guest at once.
        calls = [(self.attach, (volume_id, host))
                 for _guest in range(GUESTS) for host in HOSTS
                 for volume_id in volumes]
        attachments = [found for found in self.at_once(calls)
                       if isinstance(found, tuple)]
        self.settle(volumes, ('in-use',))
        # Detach the first host's guests and one of the second host's
        # while new guests attach on the first and third hosts.
        going = [a for a in attachments if a[1] == HOSTS[0]]
        going += [a for a in attachments if a[1] == HOSTS[1]][:VOLUMES]
        calls = self.detach_at_once(going)
        calls += [(self.attach, (volume_id, host)) for volume_id in volumes
                  for host in (HOSTS[0], HOSTS[2])]
        attachments = [a for a in attachments if a not in going]
        attachments += [a for a in self.at_once(calls) if a]
        self.settle(volumes, ('in-use',))
        # The rest at once, then an extend of each volume. (Not along
        # with the deletions: cinder-api takes an extend as soon as the
        # volume is available, while the last attachment's record may
        # still exist; the volume then did not become available again.)
        self.at_once(self.detach_at_once(attachments))
        self.settle(volumes, ('available',))
        self.wait_for_no_backend_attachment()
        self.at_once([(self.extend, (volume_id,)) for volume_id in volumes])

    # -- evidence -----------------------------------------------------
    def work_times(self, volume_id):
        """{volume service: when its log shows work on the volume}."""
        patterns = [re.compile(pattern % {'id': re.escape(volume_id)})
                    for pattern in WORK]
        found = {}
        for name, service in self.stack.volume_services().items():
            with open(service.log_path) as f:
                for line in f:
                    stamp = LOG_TIME.match(line)
                    if stamp and any(p.search(line) for p in patterns):
                        found.setdefault(name, []).append(
                            datetime.datetime.strptime(
                                stamp.group(1), '%Y-%m-%d %H:%M:%S.%f'))
        return found

    def shared_batches(self, volume_id):
        """The batches in which every volume service worked on it."""
        times = self.work_times(volume_id)
        return [(start, end) for start, end in self.batches
                if len(times) == len(cluster_config.VOLUME_HOSTS) and
                all(any(start <= t <= end for t in stamps)
                    for stamps in times.values())]

    def test_operations_on_one_volume_on_both_services(self):
        vtype = self.admin.volume_types.create('multiattach')
        vtype.set_keys(MULTIATTACH)
        volumes = [self.admin.volumes.create(
            20, volume_type=vtype.id, name='shared-%d' % n).id
            for n in range(VOLUMES)]
        self.settle(volumes, ('available',))
        self.stack.emulator.admin('DELETE', 'overlaps')

        for _round in range(ROUNDS):
            self.run_round(volumes)
        report = self.stack.emulator.overlaps()
        self.addDetail('overlaps', testtools.content.text_content(
            json.dumps(report, indent=2, sort_keys=True)))
        self.addDetail('refused', testtools.content.text_content(
            str(dict(self.refused))))
        self.addDetail('shared-batches', testtools.content.text_content(
            '\n'.join('%s: %d of %d' % (
                volume_id, len(self.shared_batches(volume_id)),
                len(self.batches)) for volume_id in volumes)))

        # Both services worked on each volume, in the same batch of
        # operations sent at once.
        for volume_id in volumes:
            self.assertEqual(set(cluster_config.VOLUME_HOSTS),
                             set(self.work_times(volume_id)), volume_id)
            self.assertNotEqual([], self.shared_batches(volume_id),
                                volume_id)
        # Many calls, none in conflict with another, none left over.
        self.assertGreaterEqual(report['recorded'].get('AttachDisk', 0),
                                ROUNDS * VOLUMES * len(HOSTS))
        self.assertGreaterEqual(report['recorded'].get('DetachDisk', 0),
                                ROUNDS * VOLUMES * len(HOSTS))
        self.assertEqual(ROUNDS * VOLUMES, report['recorded'].get(
            'ResizeDisk'))
        self.assertEqual((0, [], []), (report['conflicts'],
                                       report['overlaps'],
                                       report['in_flight']))

        for volume_id in volumes:
            self.admin.volumes.delete(volume_id)
        for volume_id in volumes:
            cinder_api.wait_for_deleted(self.admin.volumes, volume_id,
                                        timeout=TIMEOUT)
        self.admin.volume_types.delete(vtype)
        state = self.stack.emulator.state()['service']
        self.assertEqual((0, 0), (state['disks'], state['attachments']))
