"""Tests for the ebs-lease-agent options (nova_shim.fencing.config)."""

from nova_shim.fencing import agent as agent_mod
from nova_shim.fencing import config
from tests.unit.nova_shim import block_fixtures


class ConfigTestCase(block_fixtures.TestCase):

    def setUp(self):
        super().setUp()
        self.disk = self.regular_file(size=64 * 1024)

    def test_defaults(self):
        conf = config.make_conf(['--device', self.disk])
        self.assertEqual((0.5, 2.0, 0.5, -4096),
                         (conf.refresh_interval, conf.takeover_timeout,
                          conf.io_latency_budget, conf.offset))
        agent_mod.check_timing(conf.refresh_interval,
                               conf.takeover_timeout,
                               conf.io_latency_budget)

    def test_every_option_has_help(self):
        (group, opts), = config.list_opts()
        self.assertEqual('DEFAULT', group)
        for opt in opts:
            self.assertTrue(opt.help, opt.name)
