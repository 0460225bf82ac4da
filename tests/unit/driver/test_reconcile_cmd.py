"""``ebs-cinder-reconcile``'s report and usage (the checks themselves run
against real Cinder records: tests/functional/test_consistency.py)."""

import io
import subprocess
import sys
from unittest import mock

from cinder import exception
import fixtures
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


class StuckExtendTest(testtools.TestCase):
    """The repair of a volume left extending: size, status and quota."""

    def setUp(self):
        super().setUp()
        self.quotas = self.useFixture(
            fixtures.MockPatchObject(consistency, 'QUOTAS')).mock
        self.quotas.add_volume_type_opts.side_effect = (
            lambda ctxt, deltas, type_id: deltas.update(
                gigabytes_ssd=deltas['gigabytes']))
        self.quotas.reserve.return_value = ['r-1']
        self.useFixture(fixtures.MockPatch(
            'cinder.context.get_admin_context'))

    def volume(self, size=1):
        volume = mock.Mock(id='v-1', size=size, project_id='p-1',
                           volume_type_id='t-1', volume_attachment=[])
        volume.update.side_effect = lambda values: volume.configure_mock(
            **values)
        return volume

    def repair(self, volume, disk_size):
        return consistency.Checker._stuck_extend(
            volume, {'DiskId': 'd-1', 'Size': disk_size}, repair=True)

    def test_growth_counted_in_the_quota_usage(self):
        volume = self.volume()
        found = self.repair(volume, 3)
        self.assertEqual(('stuck-extending', True,
                          'ECS reports 3 GiB, Cinder 1 GiB'),
                         (found.kind, found.repaired, found.detail))
        self.assertEqual((3, 'available'), (volume.size, volume.status))
        self.quotas.reserve.assert_called_once_with(
            mock.ANY, project_id='p-1', gigabytes=2, gigabytes_ssd=2)
        self.quotas.commit.assert_called_once_with(
            mock.ANY, ['r-1'], project_id='p-1')
        volume.save.assert_called_once_with()

    def test_no_growth_no_quota_change(self):
        volume = self.volume()
        self.repair(volume, 1)
        self.assertEqual((1, 'available'), (volume.size, volume.status))
        self.quotas.reserve.assert_not_called()

    def test_over_quota_repaired_with_what_to_run(self):
        self.quotas.reserve.side_effect = exception.OverQuota(
            overs=['gigabytes'])
        volume = self.volume()
        found = self.repair(volume, 3)
        self.assertTrue(found.repaired)
        self.assertEqual(3, volume.size)
        self.assertIn('cinder-manage quota sync --project-id p-1',
                      found.detail)
        self.quotas.commit.assert_not_called()
