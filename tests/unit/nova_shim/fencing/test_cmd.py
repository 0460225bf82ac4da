"""Tests for the ebs-lease-agent command (nova_shim.fencing.cmd)."""

import io
import os
import socket
import subprocess
import sys

import fixtures

from nova_shim.fencing import agent as agent_mod
from nova_shim.fencing import cmd
from nova_shim.fencing import config
from nova_shim.fencing import reservations
from tests.unit.nova_shim import block_fixtures


class LeaseCmdTestCase(block_fixtures.TestCase):

    def setUp(self):
        super().setUp()
        self.disk = self.regular_file(size=64 * 1024)
        self.clock = agent_mod.SystemClock()
        self.addCleanup(self.clock.close)

    def build(self, *args):
        conf = config.make_conf(['--device', self.disk] + list(args))
        agent = cmd.build_agent(conf, self.clock)
        self.addCleanup(agent.device.close)
        return agent

    def test_agents_with_their_own_identity_get_their_own_keys(self):
        a = self.build('--host-nqn', 'nqn.2014-08.org.nvmexpress:uuid:1',
                       '--host-name', 'host-a')
        b = self.build('--host-nqn', 'nqn.2014-08.org.nvmexpress:uuid:2',
                       '--host-name', 'host-b')
        self.assertNotEqual(a.key, b.key)
        self.assertEqual(reservations.host_key(
            nqn='nqn.2014-08.org.nvmexpress:uuid:1'), a.key)
        self.assertEqual(('host-a', 'host-b'), (a.host, b.host))

    def test_options_reach_the_agent(self):
        agent = self.build('--host-nqn', 'x', '--refresh-interval', '0.25',
                           '--takeover-timeout', '1.5',
                           '--io-latency-budget', '0.2', '--offset', '8192')
        self.assertEqual((0.25, 1.5, 0.2, 8192, socket.gethostname()),
                         (agent.refresh_interval, agent.takeover_timeout,
                          agent.io_latency, agent.device.offset,
                          agent.host))

    def test_takeover_timeout_too_short_is_refused(self):
        exc = self.assertRaises(ValueError, self.build, '--host-nqn', 'x',
                                '--refresh-interval', '1',
                                '--takeover-timeout', '2')
        self.assertIn('takeover timeout 2s is too short', str(exc))

    def test_bad_offset_and_device(self):
        self.assertRaises(ValueError, self.build, '--host-nqn', 'x',
                          '--offset', '100')
        conf = config.make_conf(['--device', self.disk + '.missing',
                                 '--host-nqn', 'x'])
        self.assertRaises(OSError, cmd.build_agent, conf, self.clock)

    def test_main_exit_status_on_bad_options(self):
        stderr = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                      io.StringIO()))
        self.assertEqual(agent_mod.EXIT_CONFIG, cmd.main([]))
        self.assertIn('device', stderr.new_value.getvalue())
        self.assertEqual(agent_mod.EXIT_CONFIG, cmd.main(
            ['--device', self.disk, '--refresh-interval', 'soon']))


class LeaseAgentProcessTestCase(block_fixtures.TestCase):
    """The command as its own process, on a file without reservations."""

    def test_refuses_to_run_unfenced(self):
        if os.geteuid() != 0:
            self.skipTest('the reservation calls need root (or sudo)')
        disk = self.regular_file(size=64 * 1024)
        proc = subprocess.run(
            [sys.executable, '-c',
             'import sys; from nova_shim.fencing import cmd; '
             'sys.exit(cmd.main())',
             '--device', disk, '--host-nqn', 'nqn.test:a'],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(agent_mod.EXIT_NO_RESERVATIONS, proc.returncode,
                         proc.stderr)
        self.assertIn('without persistent reservations a failover cannot '
                      'fence the old primary', proc.stdout)
        with open(disk, 'rb') as f:
            self.assertEqual(bytes(64 * 1024), f.read())
