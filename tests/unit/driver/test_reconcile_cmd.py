"""``ebs-cinder-reconcile``'s report and usage (the checks themselves run
against real Cinder records: tests/functional/test_consistency.py)."""

import io
import subprocess
import sys

import testtools

from cinder_ebs_driver import consistency
from cinder_ebs_driver import reconcile_cmd


class ReportTest(testtools.TestCase):

    def test_counts_and_lines(self):
        out = io.StringIO()
        left = reconcile_cmd.report([
            consistency.Mismatch('attached-without-record', 'v-1', 'd-1',
                                 'attached to instance i-3', True),
            consistency.Mismatch('orphan-disk', None, 'd-2', 'tagged', False),
        ], out)
        self.assertEqual(1, left)
        lines = out.getvalue().splitlines()
        self.assertTrue(lines[0].startswith('repaired'))
        self.assertIn('volume v-1 disk d-1: attached to instance i-3',
                      lines[0])
        self.assertTrue(lines[1].startswith('found'))
        self.assertIn('volume - disk d-2', lines[1])
        self.assertEqual('2 mismatches, 1 repaired, 1 left', lines[2])

    def test_nothing_found(self):
        out = io.StringIO()
        self.assertEqual(0, reconcile_cmd.report([], out))
        self.assertEqual('0 mismatches, 0 repaired, 0 left\n',
                         out.getvalue())

    def test_backend_is_required(self):
        result = subprocess.run(
            [sys.executable, '-c', 'import sys; '
             'from cinder_ebs_driver import reconcile_cmd; '
             'sys.exit(reconcile_cmd.main([]))'],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(2, result.returncode, result.stderr)
        self.assertIn('backend', result.stderr)
