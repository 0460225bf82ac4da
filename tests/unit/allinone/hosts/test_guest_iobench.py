"""Unit tests of ebs_allinone.hosts.guest_iobench: the guest's figures."""

import testtools

from ebs_allinone.hosts import guest_iobench

LINE = ('EBS-IOBENCH w4k_us=244 r4k_us=313 w4k_qd4_iops=650 '
        'r4k_qd4_iops=873 w1m_mbps=424.5 r1m_mbps=439.0')


class ParseTest(testtools.TestCase):

    def test_every_field_of_every_line(self):
        console = ('EBS-GUEST-DISK vdb\n' + LINE + '\nEBS-GUEST-DISK-GONE '
                   'vdb\n' + LINE.replace('w4k_us=244', 'w4k_us=9') + '\n')
        results = guest_iobench.parse(console)
        self.assertEqual(2, len(results))
        self.assertEqual(set(guest_iobench.FIELDS), set(results[0]))
        self.assertEqual((244.0, 424.5, 439.0),
                         (results[0]['w4k_us'], results[0]['w1m_mbps'],
                          results[0]['r1m_mbps']))
        self.assertEqual(9.0, results[1]['w4k_us'])

    def test_from_an_offset(self):
        console = LINE + '\n' + LINE.replace('r4k_us=313', 'r4k_us=1') + '\n'
        results = guest_iobench.parse(console, start=len(LINE) + 1)
        self.assertEqual([1.0], [r['r4k_us'] for r in results])

    def test_other_lines_are_not_figures(self):
        self.assertEqual([], guest_iobench.parse(
            'EBS-GUEST-ERROR iobench io /dev/vdb\nEBS-IOBENCH-DONE\n'))

    def test_the_program_prints_what_parse_reads(self):
        # The printf of the guest program names every field.
        for field in guest_iobench.FIELDS:
            self.assertIn(' %s=%%' % field,
                          guest_iobench.SOURCE.replace('"\n           "', ''))
