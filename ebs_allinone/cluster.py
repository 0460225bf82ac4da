"""The cluster topology: Cinder as separate services over real servers.

``ebs-allinone serve --topology cluster`` starts, besides the emulator
and the compute hosts:

* a RabbitMQ broker (and its epmd), a MariaDB server and an etcd member,
  each by hand on 127.0.0.1 with private ports and state under
  ``cluster/`` in the run's directory;
* ``cinder-api``, ``cinder-scheduler`` and two ``cinder-volume``
  services with the same ``[DEFAULT] cluster``, the same EBS backend
  (the emulator; one per zone with ``--zones``, each volume service then
  runs them all) and their locks in etcd through tooz;
* ``cinder-backup`` (one per zone: ``cinder-backup-zone-a``... with
  ``--zones``), with Cinder's POSIX backup driver storing under
  ``cinder/backups/`` in the run's directory.

Every process is started and stopped by its own PID (process group for
the Cinder services, which fork workers).

Layout of ``cluster/``::

    rabbitmq/ mariadb/ etcd/      the servers' state and logs
    cinder.conf                   shared by every Cinder process
    <service>.conf, <service>.log per Cinder process
"""

import os

from oslo_log import log as logging

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.cinder import cluster_config
from ebs_allinone.cinder import config
from ebs_allinone.cinder import processes
from ebs_allinone.daemons import etcd as etcd_mod
from ebs_allinone.daemons import mariadb as mariadb_mod
from ebs_allinone.daemons import rabbitmq as rabbitmq_mod
from ebs_allinone import stack

LOG = logging.getLogger(__name__)


class ClusterAllInOne(stack.AllInOne):
    """:class:`stack.AllInOne` with the Cinder services of a cluster.

    After :meth:`start_cinder`: ``rabbitmq``, ``mariadb``, ``etcd``,
    ``services`` ({name: :class:`processes.CinderService`});
    ``cinder`` is the ``cinder-api`` service (its ``url``).

    :param conf_overrides: {section: {option: value}} set in the
        cinder.conf every Cinder process shares, over the all-in-one's
        values (tests: shorter intervals and timeouts).
    """

    topology = 'cluster'
    volume_hosts = cluster_config.VOLUME_HOSTS

    def __init__(self, *args, conf_overrides=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.conf_overrides = {section: dict(values) for section, values
                               in (conf_overrides or {}).items()}
        self.rabbitmq = None
        self.mariadb = None
        self.etcd = None
        self.services = {}

    def cluster_path(self, *parts):
        return self.path('cluster', *parts)

    def _start(self, name, server, progress):
        self._stack.callback(server.stop)
        server.start(progress)
        LOG.debug('%s started', name)

    def start_servers(self, progress=None):
        """RabbitMQ, MariaDB and etcd."""
        self.rabbitmq = rabbitmq_mod.RabbitMQ(self.cluster_path('rabbitmq'))
        self._start('rabbitmq', self.rabbitmq, progress)
        self.pids.update(self.rabbitmq.pids)
        self.mariadb = mariadb_mod.MariaDB(self.cluster_path('mariadb'))
        self._start('mariadb', self.mariadb, progress)
        self.pids['mariadbd'] = self.mariadb.pid
        self.etcd = etcd_mod.Etcd(self.cluster_path('etcd'))
        self._start('etcd', self.etcd, progress)
        self.pids['etcd'] = self.etcd.pid

    def write_configs(self, api_port=0):
        os.makedirs(self.path('cinder'), exist_ok=True)
        config.write_api_paste(self.path('api-paste.ini'))
        base = config.cinder_conf(
            self.path('cinder'), self.emulator, self.host_instances,
            api_port=api_port, paste_path=self.path('api-paste.ini'),
            debug=self.debug, credentials=self.credentials,
            backends=self.backends or None, backup=True,
            performance_level=self.performance_level)
        conf = cluster_config.shared_conf(
            base, self.rabbitmq.transport_url, self.mariadb.connection,
            self.etcd.backend_url)
        for section, values in self.conf_overrides.items():
            if section != 'DEFAULT' and not conf.has_section(section):
                conf.add_section(section)
            conf[section].update({option: str(value)
                                  for option, value in values.items()})
        shared = self.cluster_path('cinder.conf')
        config.write_conf(shared, conf)
        files = {}
        roles = [('cinder-api', 'cinder-api', cluster_config.CONTROL_HOST,
                  None),
                 ('cinder-scheduler', 'cinder-scheduler',
                  cluster_config.CONTROL_HOST, None)]
        roles += [(host, 'cinder-volume', host, cluster_config.CLUSTER)
                  for host in self.volume_hosts]
        for name, binary, host, cluster in roles:
            own = self.cluster_path('%s.conf' % name)
            config.write_conf(own, cluster_config.service_conf(
                host, cluster))
            files[name] = (binary, [shared, own])
        for name, host, zone in self.backup_services():
            own = self.cluster_path('%s.conf' % name)
            config.write_conf(own, cluster_config.service_conf(
                host, availability_zone=zone.availability_zone))
            files[name] = ('cinder-backup', [shared, own])
        return files

    def backup_services(self):
        """[(name, host, zone)] of the cinder-backup services.

        Cinder backs a volume up only with a backup service of the
        volume's availability zone (its ``storage_availability_zone``):
        one per zone.
        """
        if len(self.zones) == 1:
            return [('cinder-backup', cluster_config.CONTROL_HOST,
                     self.zones[0])]
        return [('cinder-backup-%s' % zone.availability_zone,
                 '%s-%s' % (cluster_config.CONTROL_HOST,
                            zone.availability_zone), zone)
                for zone in self.zones]

    def start_cinder(self, progress=None, api_port=0):
        """The servers, then Cinder's services, each in its own process."""
        self.start_identity(progress)
        self.start_servers(progress)
        files = self.write_configs(api_port)
        processes.db_sync(files['cinder-api'][1],
                          self.cluster_path('db-sync.log'))
        for name, (binary, config_files) in files.items():
            service = processes.CinderService(
                name, binary, config_files,
                self.cluster_path('%s.log' % name))
            self._start(name, service, progress)
            self.services[name] = service
            self.pids.update(service.pids())
        self.cinder = self.services['cinder-api']
        self.api_started()
        admin = self.client(cinder_api.MULTIATTACH_VERSION)
        self.wait_for_volume_services(admin, progress)
        return cinder_api.wait_for_backend(admin, progress=progress,
                                           watch=self.check_children,
                                           backends=len(self.zone_backends))

    def volume_services(self):
        return {name: service for name, service in self.services.items()
                if service.binary == 'cinder-volume'}

    def wait_for_volume_services(self, admin, progress=None):
        """Until every volume service is up in the cluster."""
        wanted = {'%s@%s' % (host, zone.backend)
                  for host in self.volume_hosts
                  for zone in self.zone_backends}

        def check():
            up = {svc.host for svc in admin.services.list(
                binary='cinder-volume')
                if svc.state == 'up' and svc.cluster}
            return wanted <= up
        cinder_api.wait_for(check, 'every volume service up in cluster %s'
                            % cluster_config.CLUSTER, progress=progress,
                            interval=0.5, watch=self.check_children)

    def children(self):
        found = super().children()
        # cinder-api is among the services.
        found.pop('cinder', None)
        if self.rabbitmq is not None:
            found['epmd'] = self.rabbitmq.epmd
            found['rabbitmq-server'] = self.rabbitmq.server
        if self.mariadb is not None:
            found['mariadbd'] = self.mariadb.server
        found['etcd'] = self.etcd
        found.update(self.services)
        return {name: child for name, child in found.items()
                if child is not None}

    def describe(self):
        lines = ['', 'Cinder cluster %s (state and logs in %s):' % (
            cluster_config.CLUSTER, self.cluster_path())]
        rows = [(name, service.pid, os.path.basename(service.log_path))
                for name, service in self.services.items()]
        rows += [
            ('RabbitMQ', self.rabbitmq.server.pid,
             '127.0.0.1:%d' % self.rabbitmq.port),
            ('MariaDB', self.mariadb.pid, '127.0.0.1:%d' % self.mariadb.port),
            ('etcd', self.etcd.pid, self.etcd.backend_url),
        ]
        width = max(17, max(len(name) for name, _pid, _what in rows))
        lines += ['    %-*s pid %-7s %s' % (width, name, pid, what)
                  for name, pid, what in rows]
        lines += [
            '',
            '    cinder service-list; cinder cluster-list --detailed',
            '    (cluster-list needs OS_VOLUME_API_VERSION=3.7 or later)',
            '',
        ]
        return '\n'.join(lines)

    def stop(self, keep_dir=False):
        # Workers forked after the start count too.
        for service in self.services.values():
            self.pids.update(service.pids())
        return super().stop(keep_dir)
