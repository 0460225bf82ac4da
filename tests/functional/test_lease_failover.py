"""Two lease agents as separate processes on one shared disk.

Each agent runs ``ebs-lease-agent`` on its own instance's FUSE view of a
multi-attach disk of a real emulator (persistent reservations enforced),
next to a writer process standing in for the application. Needs root and
FUSE; skipped otherwise.
"""

import os
import signal
import time

import testtools

from ebs_allinone.daemons import process
from ebs_allinone.hosts import appwriter
from ebs_allinone.hosts import shared_disk
from ebs_allinone.scenarios import failover_run
from ebs_emulator import datapath

REASON = datapath.unavailable_reason()
REFRESH = 0.2
TIMEOUT = 1.5


@testtools.skipIf(REASON, REASON)
class LeaseFailoverTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.disk = shared_disk.SharedDisk(instances=2)
        self.addCleanup(self.disk.close)
        self.disk.start()
        self.hosts = []
        for index, instance_id in enumerate(self.disk.instance_ids):
            name = 'host-%s' % 'ab'[index]
            device = self.disk.paths[instance_id]
            writer = appwriter.start(
                device, (index + 1) << 20, name, 10,
                os.path.join(self.disk.dir, 'app-%s.log' % name))
            self.addCleanup(self._stop_writer, writer)
            agent = failover_run.LeaseAgentProcess(
                name, device, self.disk.dir, REFRESH, TIMEOUT)
            self.addCleanup(agent.stop)
            self.hosts.append(failover_run.FailoverHost(
                name, instance_id, device, agent,
                lambda writer=writer: [writer.pid]))
        self.primary, self.standby = self.hosts
        failover_run.start_agents(self.primary, self.standby)

    @staticmethod
    def _stop_writer(writer):
        try:
            os.kill(writer.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        process.stop_process(writer, 'writer')

    def reservation(self):
        return self.disk.reservations()

    def test_primary_holds_write_exclusive_and_keys_differ(self):
        report = self.reservation()
        self.assertEqual(('WRITE_EXCLUSIVE', self.primary.instance_id),
                         (report['type'], report['holder']))
        keys = {r['host']: r['key'] for r in report['registrants']}
        self.assertEqual({self.primary.instance_id,
                          self.standby.instance_id}, set(keys))
        self.assertNotEqual(keys[self.primary.instance_id],
                            keys[self.standby.instance_id])
        self.assertEqual(keys[self.primary.instance_id],
                         self.primary.agent.state()['own_key'])

    def test_frozen_primary_is_fenced_after_takeover(self):
        run = failover_run.Failover(
            lambda: self.reservation()['counters'], REFRESH, TIMEOUT,
            settle=0.5)
        result = run.run(self.primary, self.standby)
        self.assertEqual(0, result['split_brain_writes'])
        self.assertGreater(result['fenced_writes_attempted'], 0)
        self.assertEqual(result['fenced_writes_attempted'],
                         result['fenced_writes_refused'])
        self.assertEqual(failover_run.EXIT_DEMOTED,
                         result['old_primary_exit_status'])
        self.assertEqual('primary', result['new_primary']['state'])
        report = self.reservation()
        self.assertEqual(self.standby.instance_id, report['holder'])
        self.assertEqual([self.standby.instance_id],
                         [r['host'] for r in report['registrants']])
        # The old primary comes back as a standby of the new one.
        self.primary.agent.start()
        self.primary.agent.wait_state('standby', 30)

    def test_sigterm_hands_over_without_waiting_for_the_timeout(self):
        epoch = self.primary.agent.state()['epoch']
        started = time.monotonic()
        self.assertEqual(0, self.primary.agent.stop())
        self.standby.agent.wait_state('primary', 30)
        handover = time.monotonic() - started
        # Behaviour, not speed: a released lease is taken at once, never
        # after the takeover timeout of a silent primary.
        self.assertLess(handover, TIMEOUT)
        self.assertGreater(self.standby.agent.state()['epoch'], epoch)
        report = self.reservation()
        self.assertEqual(self.standby.instance_id, report['holder'])

    def test_no_takeover_while_the_primary_is_only_slow(self):
        before = self.reservation()
        os.kill(self.primary.agent.pid, signal.SIGSTOP)
        try:
            # Late heartbeats, but within the takeover timeout.
            time.sleep(TIMEOUT / 2)
        finally:
            os.kill(self.primary.agent.pid, signal.SIGCONT)
        time.sleep(TIMEOUT)
        self.assertEqual('primary', self.primary.agent.state()['state'])
        self.assertEqual('standby', self.standby.agent.state()['state'])
        after = self.reservation()
        self.assertEqual((before['holder'], before['generation']),
                         (after['holder'], after['generation']))
