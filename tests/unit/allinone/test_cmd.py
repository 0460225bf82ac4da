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

    def test_image_only_with_keystone(self):
        stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        self.assertEqual(cmd.EXIT_USAGE, cmd.main(['serve', '--image']))
        stderr.seek(0)
        self.assertIn('--image: with --auth keystone only', stderr.read())
