"""``ebs-allinone``'s command line."""

import io

import fixtures
from oslotest import base

from ebs_allinone import cmd


class CommandTest(base.BaseTestCase):

    def test_keystone_only_with_the_single_topology(self):
        stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        self.assertEqual(cmd.EXIT_USAGE, cmd.main(
            ['serve', '--auth', 'keystone', '--topology', 'cluster']))
        stderr.seek(0)
        self.assertIn('--topology single only', stderr.read())

    def _usage(self, argv):
        stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        self.assertEqual(cmd.EXIT_USAGE, cmd.main(argv))
        return stderr.getvalue()

    def test_zones_between_one_and_four(self):
        self.assertIn('between 1 and 4 zones, not 5',
                      self._usage(['serve', '--zones', '5']))
        self.assertIn('between 1 and 4 zones, not 0',
                      self._usage(['demo', '--zones', '0']))

    def test_a_host_per_zone(self):
        self.assertIn('at least one per zone',
                      self._usage(['serve', '--zones', '3', '--hosts', '2']))

    def test_the_demo_shares_its_volume_in_the_first_zone(self):
        self.assertIn('the demo shares a volume between 2 hosts of the '
                      'first zone',
                      self._usage(['demo', '--zones', '2', '--hosts', '2']))

    def test_image_only_with_keystone(self):
        self.assertIn('--image: with --auth keystone only',
                      self._usage(['serve', '--image']))
