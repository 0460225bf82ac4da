"""The cinder.conf files of the cluster topology, read back."""

import os
import types

import fixtures
from oslotest import base

from ebs_allinone.cinder import cluster_config
from ebs_allinone.cinder import config
from ebs_allinone import cluster
from ebs_allinone.daemons import process
from tests.unit.allinone.cinder.test_config import read_ini

TRANSPORT = 'rabbit://cinder:pw@127.0.0.1:5999/'
CONNECTION = 'mysql+pymysql://cinder:pw@127.0.0.1:3399/cinder'
LOCKS = 'etcd3+http://127.0.0.1:2399?lock_timeout=10'


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
        base_conf = config.cinder_conf(
            os.path.join(self.tmp, 'cinder'), emulator, hosts)
        self.path = os.path.join(self.tmp, 'cinder.conf')
        config.write_conf(self.path, cluster_config.shared_conf(
            base_conf, TRANSPORT, CONNECTION, LOCKS))
        self.conf = read_ini(self.path)

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
        mapping = self.conf[config.BACKEND]['ebs_host_instance_map']
        for host in cluster_config.VOLUME_HOSTS:
            self.assertIn('%s:' % host, mapping)

    def test_readable_by_its_owner_only(self):
        # It holds the passwords of the message bus and the database.
        self.assertEqual(0o600, os.stat(self.path).st_mode & 0o777)

    def test_overrides_in_the_shared_file(self):
        stack = cluster.ClusterAllInOne(
            state_dir=os.path.join(self.tmp, 'run'), conf_overrides={
                'DEFAULT': {'rpc_response_timeout': 12},
                config.BACKEND: {'ebs_stats_min_interval': 3},
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
        conf = read_ini(stack.cluster_path('cinder.conf'))
        self.assertEqual('12', conf['DEFAULT']['rpc_response_timeout'])
        self.assertEqual(TRANSPORT, conf['DEFAULT']['transport_url'])
        backend = conf[config.BACKEND]
        self.assertEqual('3', backend['ebs_stats_min_interval'])
        self.assertIn('volume_driver', backend)
        self.assertEqual('noop',
                         conf['oslo_messaging_notifications']['driver'])

    def test_service_files(self):
        path = os.path.join(self.tmp, 'volume.conf')
        config.write_conf(path, cluster_config.service_conf(
            'cinder-volume-1', cluster_config.CLUSTER))
        self.assertEqual({'host': 'cinder-volume-1',
                          'cluster': cluster_config.CLUSTER},
                         dict(read_ini(path)['DEFAULT']))
        config.write_conf(path, cluster_config.service_conf(
            cluster_config.CONTROL_HOST))
        self.assertEqual({'host': cluster_config.CONTROL_HOST},
                         dict(read_ini(path)['DEFAULT']))
