"""A Tempest run's results from its subunit v2 stream."""

import io

from oslotest import base
import subunit

from tests.tempest import results

GET = ('tempest.api.volume.test_volumes_get.VolumesGetTest.'
       'test_volume_create_get_update_delete[id-27fb0e9f,smoke]')
LIST = ('tempest.api.volume.test_volumes_list.VolumesListTestJSON.'
        'test_volume_list[id-0b6ddd39]')
BACKUP_1 = ('tempest.api.volume.admin.test_volumes_backup.'
            'VolumesBackupsAdminTest.test_volume_backup_export_import'
            '[id-a99c54a1]')
BACKUP_2 = ('tempest.api.volume.test_volumes_backup.VolumesBackupsTest.'
            'test_backup_create_attached_volume[id-07af8f6d]')
NETWORK = ('setUpClass (tempest.api.volume.test_volumes_extend.'
           'VolumesExtendAttachedTest)')
REVERT = ('cinder_tempest_plugin.api.volume.test_volume_revert.'
          'VolumeRevertTests.test_volume_revert_to_snapshot[id-87b7dcb7]')
NO_BACKUP = 'Cinder backup feature disabled'
TRACEBACK = '''Traceback (most recent call last):
  File "tempest/api/volume/test_volumes_get.py", line 42, in test
    self.assertEqual(1, 2)
testtools.matchers._impl.MismatchError: 1 != 2
'''


def stream(*tests):
    """A subunit v2 stream as stestr records it: (id, status, details)."""
    data = io.BytesIO()
    out = subunit.StreamResultToBytes(data)
    out.startTestRun()
    for test_id, status, details in tests:
        out.status(test_id=test_id, test_status='inprogress')
        for name, text in details.items():
            out.status(test_id=test_id, file_name=name,
                       file_bytes=text.encode(),
                       mime_type='text/plain; charset=utf8', eof=True)
        out.status(test_id=test_id, test_status=status)
    out.stopTestRun()
    return data.getvalue()


RECORDED = stream(
    (GET, 'fail', {'traceback': TRACEBACK}),
    (LIST, 'success', {}),
    (BACKUP_1, 'skip', {'reason': NO_BACKUP}),
    (BACKUP_2, 'skip', {'reason': NO_BACKUP}),
    (NETWORK, 'skip', {'reason': 'Neutron is required'}),
    (REVERT, 'success', {}))


class ParseTest(base.BaseTestCase):

    def test_counts(self):
        parsed = results.parse(RECORDED)
        self.assertEqual((2, 1, 3), parsed.counts())
        self.assertEqual([LIST, REVERT], parsed.passed)
        self.assertEqual(GET, parsed.failed[0][0])
        self.assertIn('MismatchError: 1 != 2', parsed.failed[0][1])

    def test_skip_reasons(self):
        parsed = results.parse(RECORDED)
        self.assertIn((BACKUP_1, NO_BACKUP), parsed.skipped)
        self.assertIn((NETWORK, 'Neutron is required'), parsed.skipped)

    def test_unfinished_test_is_a_failure(self):
        data = io.BytesIO()
        out = subunit.StreamResultToBytes(data)
        out.status(test_id=LIST, test_status='inprogress')
        parsed = results.parse(data.getvalue())
        self.assertEqual((0, 1, 0), parsed.counts())

    def test_not_subunit_is_ignored(self):
        parsed = results.parse(b'some output\n' + RECORDED)
        self.assertEqual((2, 1, 3), parsed.counts())


class ReportTest(base.BaseTestCase):

    def test_skips_grouped_largest_first(self):
        groups = results.skip_groups(results.parse(RECORDED).skipped)
        self.assertEqual([
            (NO_BACKUP, [BACKUP_1.rpartition('[')[0],
                         BACKUP_2.rpartition('[')[0]]),
            ('Neutron is required', [NETWORK]),
        ], groups)

    def test_report(self):
        lines = results.report(results.parse(RECORDED))
        text = '\n'.join(lines)
        self.assertIn('Failed (1):\n  %s\n' % GET.rpartition('[')[0], text)
        # Where it failed, and why.
        self.assertIn('      testtools.matchers._impl.MismatchError: 1 != 2',
                      lines)
        self.assertIn('    2  %s' % NO_BACKUP, lines)
        self.assertIn('         tempest.api.volume.admin.test_volumes_backup.'
                      'VolumesBackupsAdminTest', lines)
        self.assertIn('    1  Neutron is required', lines)
        self.assertIn('         tempest.api.volume.test_volumes_extend.'
                      'VolumesExtendAttachedTest', lines)
        # What tools/run-tests.sh reads, and the last line.
        self.assertIn(' - Passed: 2', lines)
        self.assertIn(' - Failed: 1', lines)
        self.assertIn(' - Skipped: 3', lines)
        self.assertEqual('2 passed, 1 failed, 3 skipped', lines[-1])

    def test_report_of_a_clean_run(self):
        lines = results.report(results.Results(passed=['a', 'b']))
        self.assertEqual(['Totals', ' - Passed: 2', ' - Skipped: 0',
                          ' - Failed: 0', '2 passed, 0 failed, 0 skipped'],
                         lines)
