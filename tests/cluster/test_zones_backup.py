"""Two zones and cinder-backup on the cluster topology.

The tests of :mod:`tests.functional.test_allinone_zones` on Cinder's own
services as separate processes: two cinder-volume services in one
cluster, each running both zones' backends, and one cinder-backup
process per zone, over RabbitMQ, MariaDB and etcd.
"""

from ebs_allinone import cluster
from tests import cluster as cluster_tests
from tests.functional import test_allinone_zones


class ClusterZonesBackupTest(test_allinone_zones.ZonesBackupTest):

    stack_class = cluster.ClusterAllInOne

    @classmethod
    def setUpClass(cls):
        missing = cluster_tests.missing_servers()
        if missing:
            cls.skip_reason = missing
            cls.stack = None
            return
        cls.skip_reason = None
        super().setUpClass()

    def setUp(self):
        if self.skip_reason:
            self.skipTest(self.skip_reason)
        super().setUp()

    def test_one_backup_process_per_zone(self):
        backups = {name: service for name, service
                   in self.stack.services.items()
                   if service.binary == 'cinder-backup'}
        self.assertEqual({'cinder-backup-zone-a', 'cinder-backup-zone-b'},
                         set(backups))
        listed = {(svc.host, svc.zone) for svc in self.admin.services.list(
            binary='cinder-backup') if svc.state == 'up'}
        self.assertEqual({('cinder-control-zone-a', 'zone-a'),
                          ('cinder-control-zone-b', 'zone-b')}, listed)
