"""An option whose dependencies are missing is refused at once, saying what
to install."""

import io
import os
import sys

import fixtures
import testtools

import ebs_allinone
from ebs_allinone import cmd
from ebs_allinone.scenarios import prerequisites

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(
    ebs_allinone.__file__)))


class MissingTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.absent_modules = set()
        self.absent_commands = set()
        self.useFixture(fixtures.MonkeyPatch(
            'ebs_allinone.scenarios.prerequisites._importable',
            lambda module: module not in self.absent_modules))
        self.useFixture(fixtures.MonkeyPatch(
            'ebs_allinone.scenarios.prerequisites.shutil.which',
            lambda command: (None if command in self.absent_commands
                             else '/usr/bin/%s' % command)))

    def test_nothing_missing(self):
        self.assertIsNone(prerequisites.missing('cluster', 'keystone'))

    def test_the_single_topology_needs_nothing_more(self):
        self.absent_modules = {'pymysql', 'etcd3gw', 'keystone'}
        self.absent_commands = {'etcd', 'mariadbd'}
        self.assertIsNone(prerequisites.missing('single', 'noauth'))

    def test_cluster_extra(self):
        self.absent_modules = {'pymysql', 'etcd3gw'}
        self.assertEqual(
            "--topology cluster needs PyMySQL, etcd3gw in this Python "
            "environment: %s -m pip install '%s[cluster]'"
            % (sys.executable, ROOT), prerequisites.missing('cluster'))

    def test_cluster_servers(self):
        self.absent_commands = {'etcd', 'mariadbd', 'mariadb-install-db'}
        self.assertEqual(
            '--topology cluster needs mariadb-server, etcd-server from '
            'Debian: apt-get install mariadb-server etcd-server (or '
            'tools/install-deps.sh)', prerequisites.missing('cluster'))

    def test_keystone_extra(self):
        self.absent_modules = {'keystone'}
        self.assertEqual(
            "--auth keystone needs keystone in this Python environment: "
            "%s -m pip install '%s[keystone]'" % (sys.executable, ROOT),
            prerequisites.missing(auth='keystone'))

    def test_image_extra(self):
        self.absent_modules = {'glance'}
        self.assertIsNone(prerequisites.missing(auth='keystone'))
        self.assertEqual(
            "--image needs glance in this Python environment: "
            "%s -m pip install '%s[image]'" % (sys.executable, ROOT),
            prerequisites.missing(auth='keystone', image=True))

    def test_the_command_refuses_in_one_line(self):
        self.absent_modules = {'pymysql'}
        self.absent_commands = {'etcd'}
        stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', stderr))
        self.assertEqual(cmd.EXIT_FAILED, cmd.main(
            ['demo', '--topology', 'cluster']))
        self.assertEqual(
            ["ebs-allinone: --topology cluster needs PyMySQL in this Python "
             "environment: %s -m pip install '%s[cluster]'; --topology "
             "cluster needs etcd-server from Debian: apt-get install "
             "etcd-server (or tools/install-deps.sh)" % (sys.executable,
                                                         ROOT)],
            stderr.getvalue().splitlines())
