"""The pieces of ``serve --auth keystone`` that need no running Keystone.

Configuration files are read back the way their readers read them
(oslo.config with keystonemiddleware's own options, PyYAML, a shell), the
stand-in compute API is called as a WSGI application.
"""

import io

import fixtures
from oslotest import base

from ebs_allinone import cmd

SERVER = '11111111-1111-4111-8111-111111111111'


class CommandTest(base.BaseTestCase):

    def test_keystone_only_with_the_single_topology(self):
        stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        self.assertEqual(cmd.EXIT_USAGE, cmd.main(
            ['serve', '--auth', 'keystone', '--topology', 'cluster']))
        stderr.seek(0)
        self.assertIn('--topology single only', stderr.read())
