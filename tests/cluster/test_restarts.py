"""Restarts of RabbitMQ and of the emulator during a batch, on the cluster.

The cluster topology runs in this process's control (not through
``ebs-allinone serve``) so that the test can restart its broker and its
backend by their PID. Operations caught by a restart may fail; at the
end none is left in a transitional state, what failed can be deleted,
and the backend holds no disk and no attachment.
"""

import concurrent.futures
import os
import time

from cinderclient import exceptions as cinder_exc
import testtools

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone import cluster
from ebs_allinone.daemons import process
from tests import cluster as cluster_tests
from tests.cluster import test_cluster

HOSTS = ('host-a', 'host-b')
SERVER = '44444444-4444-4444-8444-444444444444'
BATCH = 6
THREADS = 3
TIMEOUT = 180


class RestartTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('the all-in-one needs root')
        cluster_tests.skip_without_servers(self)
        self.stack = cluster.ClusterAllInOne(num_hosts=len(HOSTS))
        self.addCleanup(self.stop_stack)
        self.stack.make_dir()
        self.stack.start_emulator()
        self.stack.start_cinder()
        self.admin = self.stack.client(cinder_api.MULTIATTACH_VERSION)
        self.service = self.stack.client(cinder_api.MULTIATTACH_VERSION,
                                         service=True)

    def stop_stack(self):
        pids = list(self.stack.pids.values())
        self.assertEqual([], self.stack.stop())
        for pid in pids:
            self.assertTrue(process.wait_gone(pid, 15), pid)

    def job(self, index):
        """Create, attach, detach, delete; None or what went wrong."""
        host = HOSTS[index % 2]
        connector = {'host': host, 'ip': '127.0.0.1', 'multipath': False,
                     'initiator': 'iqn.2004-10.org.example:%s' % host}
        volumes = self.admin.volumes
        try:
            volume = volumes.create(20, name='restart-%d' % index)
            cinder_api.wait_for_status(volumes, volume.id, ('available',),
                                       timeout=TIMEOUT)
            attachment = self.admin.attachments.create(volume.id, connector,
                                                       SERVER)
            self.admin.attachments.complete(attachment['id'])
            cinder_api.wait_for_status(volumes, volume.id, ('in-use',),
                                       timeout=TIMEOUT)
            self.service.attachments.delete(attachment['id'])
            cinder_api.wait_for_status(volumes, volume.id, ('available',),
                                       timeout=TIMEOUT)
            volumes.delete(volume.id)
            cinder_api.wait_for_deleted(volumes, volume.id, timeout=TIMEOUT)
            return None
        except Exception as exc:
            return '%s: %s' % (type(exc).__name__, exc)

    def wait_settled(self):
        def check():
            found = {v.id: v.status for v in self.admin.volumes.list()}
            return not any(status in test_cluster.TRANSITIONAL
                           for status in found.values())
        cinder_api.wait_for(check, 'no volume in a transitional state',
                            timeout=TIMEOUT, interval=1)

    def delete_everything(self):
        for volume in self.admin.volumes.list():
            for attachment in self.admin.attachments.list(
                    search_opts={'volume_id': volume.id}):
                self.service.attachments.delete(attachment.id)
            try:
                cinder_api.wait_for_status(
                    self.admin.volumes, volume.id,
                    ('available', 'error', 'error_deleting'),
                    timeout=TIMEOUT)
            except cinder_api.WaitTimeout:
                pass
            self.admin.volumes.delete(volume.id)
        for volume in self.admin.volumes.list():
            try:
                cinder_api.wait_for_deleted(self.admin.volumes, volume.id,
                                            timeout=TIMEOUT)
            except cinder_exc.NotFound:
                pass

    def run_batch_with(self, restart):
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            jobs = [pool.submit(self.job, i) for i in range(BATCH)]
            # Once the first volumes exist: in the middle of the batch.
            cinder_api.wait_for(lambda: self.admin.volumes.list(),
                                'a first volume', timeout=TIMEOUT)
            restart()
            self.assertFalse(all(job.done() for job in jobs),
                             'the restart came after the batch')
            errors = [error for error in (j.result() for j in jobs)
                      if error]
        self.addDetail('errors-%s' % restart.__name__,
                       testtools.content.text_content(
                           '\n'.join(errors) or 'none'))
        self.wait_settled()
        self.delete_everything()
        emulator_state = self.stack.emulator.state()['service']
        self.assertEqual((0, 0), (emulator_state['disks'],
                                  emulator_state['attachments']))
        # And the cluster serves again, on both volume services.
        self.stack.wait_for_volume_services(self.admin)
        self.assertIsNone(self.job(BATCH))

    def restart_rabbitmq(self):
        self.stack.rabbitmq.restart_server()
        self.stack.pids.update(self.stack.rabbitmq.pids)

    def restart_emulator(self):
        self.stack.emulator.stop()
        time.sleep(1)
        self.stack.emulator.start()
        self.stack.pids['ebs-emulator (restarted)'] = self.stack.emulator.pid

    def test_rabbitmq_then_emulator_restart_during_batches(self):
        # One cluster for both: its start is most of the time.
        self.run_batch_with(self.restart_rabbitmq)
        self.run_batch_with(self.restart_emulator)
