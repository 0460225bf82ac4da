"""Cinder's commands as children: a failure names its cause.

A real ``cinder-manage`` through the helpers the all-in-one starts its
children with.
"""

import os

import fixtures
import testtools

from ebs_allinone.cinder import processes as cinder_processes
from ebs_allinone.daemons import process


class CinderManageTest(testtools.TestCase):
    """``cinder-manage db sync`` as the cluster topology runs it."""

    def test_db_sync_failure_names_the_cause(self):
        if not os.path.exists(process.console_script('cinder-manage')):
            self.skipTest('cinder-manage is not installed here')
        tmp = self.useFixture(fixtures.TempDir()).path
        conf = os.path.join(tmp, 'cinder.conf')
        with open(conf, 'w') as f:
            f.write('[database]\nconnection = sqlite:///%s\n'
                    % os.path.join(tmp, 'no-such-dir', 'cinder.sqlite'))
        log = os.path.join(tmp, 'db-sync.log')
        error = self.assertRaises(process.ProcessError,
                                  cinder_processes.db_sync, [conf], log)
        lines = str(error).splitlines()
        self.assertEqual('cinder-manage db sync exited with status 1; the '
                         'last lines of its log %s:' % log, lines[0])
        self.assertEqual(process.LOG_LINES, len(lines) - 1)
        self.assertIn('unable to open database file', '\n'.join(lines[-3:]))
