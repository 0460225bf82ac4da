"""The cluster topology's configuration files, ports and process groups."""

import configparser
import os
import socket
import subprocess
import types

import fixtures
from oslotest import base

from ebs_allinone import cinder_config
from ebs_allinone import cluster
from ebs_allinone import cluster_config
from ebs_allinone import ports
from ebs_allinone import process_groups
from ebs_emulator import process

TRANSPORT = 'rabbit://cinder:pw@127.0.0.1:5999/'
CONNECTION = 'mysql+pymysql://cinder:pw@127.0.0.1:3399/cinder'
LOCKS = 'etcd3+http://127.0.0.1:2399?lock_timeout=10'


def _read(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    with open(path) as f:
        parser.read_file(f)
    return parser


class ClusterConfTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        emulator = process.EmulatorProcess(
            os.path.join(self.tmp, 'emulator'),
            os.path.join(self.tmp, 'emulator.log'), ('KEY', 'secret'))
        emulator.endpoint = '127.0.0.1:18123'
        hosts = {name: 'i-emu%04d' % i for i, name in enumerate(
            cluster_config.VOLUME_HOSTS)}
        base_conf = cinder_config.cinder_conf(
            os.path.join(self.tmp, 'cinder'), emulator, hosts)
        self.path = os.path.join(self.tmp, 'cinder.conf')
        cinder_config.write_conf(self.path, cluster_config.shared_conf(
            base_conf, TRANSPORT, CONNECTION, LOCKS))
        self.conf = _read(self.path)

    def test_servers_of_the_cluster(self):
        self.assertEqual(TRANSPORT, self.conf['DEFAULT']['transport_url'])
        self.assertEqual(CONNECTION, self.conf['database']['connection'])
        self.assertEqual(LOCKS, self.conf['coordination']['backend_url'])

    def test_each_process_logs_to_its_stderr_under_its_own_host(self):
        default = self.conf['DEFAULT']
        self.assertEqual('true', default['use_stderr'])
        self.assertNotIn('log_file', default)
        self.assertNotIn('host', default)

    def test_backend_maps_every_volume_host(self):
        mapping = self.conf[cinder_config.BACKEND]['ebs_host_instance_map']
        for host in cluster_config.VOLUME_HOSTS:
            self.assertIn('%s:' % host, mapping)

    def test_readable_by_its_owner_only(self):
        # It holds the passwords of the message bus and the database.
        self.assertEqual(0o600, os.stat(self.path).st_mode & 0o777)

    def test_overrides_in_the_shared_file(self):
        stack = cluster.ClusterAllInOne(
            state_dir=os.path.join(self.tmp, 'run'), conf_overrides={
                'DEFAULT': {'rpc_response_timeout': 12},
                cinder_config.BACKEND: {'ebs_stats_min_interval': 3},
                'oslo_messaging_notifications': {'driver': 'noop'}})
        stack.make_dir()
        os.makedirs(stack.cluster_path())
        stack.emulator = process.EmulatorProcess(
            os.path.join(self.tmp, 'emulator'),
            os.path.join(self.tmp, 'emulator.log'), ('KEY', 'secret'))
        stack.emulator.endpoint = '127.0.0.1:18123'
        stack.host_instances = {'cinder-volume-1': 'i-emu0000'}
        stack.rabbitmq = types.SimpleNamespace(transport_url=TRANSPORT)
        stack.mariadb = types.SimpleNamespace(connection=CONNECTION)
        stack.etcd = types.SimpleNamespace(backend_url=LOCKS)
        stack.write_configs()
        conf = _read(stack.cluster_path('cinder.conf'))
        self.assertEqual('12', conf['DEFAULT']['rpc_response_timeout'])
        self.assertEqual(TRANSPORT, conf['DEFAULT']['transport_url'])
        backend = conf[cinder_config.BACKEND]
        self.assertEqual('3', backend['ebs_stats_min_interval'])
        self.assertIn('volume_driver', backend)
        self.assertEqual('noop',
                         conf['oslo_messaging_notifications']['driver'])

    def test_service_files(self):
        path = os.path.join(self.tmp, 'volume.conf')
        cinder_config.write_conf(path, cluster_config.service_conf(
            'cinder-volume-1', cluster_config.CLUSTER))
        self.assertEqual({'host': 'cinder-volume-1',
                          'cluster': cluster_config.CLUSTER},
                         dict(_read(path)['DEFAULT']))
        cinder_config.write_conf(path, cluster_config.service_conf(
            cluster_config.CONTROL_HOST))
        self.assertEqual({'host': cluster_config.CONTROL_HOST},
                         dict(_read(path)['DEFAULT']))


class PortsTest(base.BaseTestCase):

    def test_free_ports_differ_and_can_be_bound(self):
        found = ports.free_ports(4)
        self.assertEqual(4, len(set(found)))
        for port in found:
            self.assertFalse(ports.is_listening(port))
            with socket.socket() as sock:
                sock.bind((ports.LOOPBACK, port))
                sock.listen()
                self.assertTrue(ports.is_listening(port))


class ProcessGroupsTest(base.BaseTestCase):

    def test_a_parent_and_its_child_are_found_and_killed(self):
        parent = subprocess.Popen(
            ['sh', '-c', 'sleep 60 & wait'], start_new_session=True)
        self.addCleanup(parent.wait)
        self.addCleanup(process_groups.kill_group, parent.pid)
        found = []
        for _i in range(100):
            found = process_groups.group_pids(parent.pid)
            if len(found) == 2:
                break
            process.wait_gone(parent.pid, 0.05)
        self.assertEqual(2, len(found))
        self.assertIn(parent.pid, found)
        self.assertEqual(found, process_groups.kill_group(parent.pid))
        parent.wait(10)
        self.assertEqual([], process_groups.group_pids(parent.pid))
        self.assertEqual([], process_groups.kill_group(parent.pid))
