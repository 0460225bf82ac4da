"""The lease agent's hooks (nova_shim.fencing.hooks) as real commands."""

import os

import fixtures
import testtools

from nova_shim.fencing import hooks as hooks_mod
from nova_shim.fencing import reservations

KEY_A = reservations.host_key(nqn='nqn.2014-08.org.nvmexpress:uuid:a')


class HooksTestCase(testtools.TestCase):
    """The hooks as real commands."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.info = {'state': 'primary', 'epoch': 3, 'holder': 'host-a',
                     'key': '%#018x' % KEY_A, 'device': '/dev/x'}

    def command(self, name):
        out = os.path.join(self.tmp, name)
        return out, ("sh -c 'env | grep ^EBS_LEASE_ | sort > %s'" % out)

    def read_env(self, path):
        with open(path) as f:
            return dict(line.rstrip('\n').split('=', 1) for line in f)

    def test_promote_runs_in_background_with_the_lease_in_env(self):
        out, cmd = self.command('promote.env')
        hooks = hooks_mod.Hooks(on_promote=cmd)
        hooks.promote(self.info)
        hooks._running.wait(30)
        hooks.poll()
        self.assertIsNone(hooks._running)
        self.assertEqual({'EBS_LEASE_STATE': 'primary',
                          'EBS_LEASE_EPOCH': '3',
                          'EBS_LEASE_HOLDER': 'host-a',
                          'EBS_LEASE_KEY': '%#018x' % KEY_A,
                          'EBS_LEASE_DEVICE': '/dev/x'},
                         self.read_env(out))

    def test_demote_is_waited_for(self):
        out, cmd = self.command('demote.env')
        hooks = hooks_mod.Hooks(on_demote=cmd)
        hooks.demote(dict(self.info, state='demoted', reason='fenced'))
        env = self.read_env(out)
        self.assertEqual(('demoted', 'fenced'), (env['EBS_LEASE_STATE'],
                                                 env['EBS_LEASE_REASON']))

    def test_demote_timeout_and_missing_command(self):
        logger = self.useFixture(fixtures.FakeLogger(
            name='nova_shim.fencing.hooks'))
        hooks_mod.Hooks(on_demote='sleep 30', timeout=0.2).demote(
            self.info)
        self.assertIn('still running after 0.2s', logger.output)
        hooks_mod.Hooks(on_demote='/nonexistent/hook').demote(self.info)
        hooks_mod.Hooks(on_promote='/nonexistent/hook').promote(self.info)
        self.assertEqual(2, logger.output.count('cannot start'))
