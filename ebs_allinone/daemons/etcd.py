"""A private single-member etcd on the loopback interface.

Debian's ``etcd`` (3.4) with its data directory and client, peer and
metrics URLs of its own. Cinder reaches it through tooz's ``etcd3gw``
driver (the ``/v3/`` HTTP gateway), as ``etcd3+http://``.
"""

import os

from ebs_allinone.daemons import ports
from ebs_allinone.daemons import process

SERVER = 'etcd'
READY = r'ready to serve client requests'
# tooz's lease of a lock (30 s by default): how long the lock of a
# service killed while holding it blocks the others. Live holders renew
# it with their heartbeat.
LOCK_TIMEOUT = 10


class Etcd(process.ChildProcess):
    """``etcd`` under ``directory``; ``backend_url`` for tooz."""

    def __init__(self, directory, lock_timeout=LOCK_TIMEOUT):
        self.dir = directory
        self.client_port, self.peer_port, self.metrics_port = (
            ports.free_ports(3))
        self.lock_timeout = lock_timeout
        client = 'http://%s:%d' % (ports.LOOPBACK, self.client_port)
        peer = 'http://%s:%d' % (ports.LOOPBACK, self.peer_port)
        name = 'ebs-allinone'
        super().__init__('etcd', [
            SERVER, '--name', name,
            '--data-dir', os.path.join(directory, 'data'),
            '--listen-client-urls', client,
            '--advertise-client-urls', client,
            '--listen-peer-urls', peer,
            '--initial-advertise-peer-urls', peer,
            '--initial-cluster', '%s=%s' % (name, peer),
            '--initial-cluster-state', 'new',
            '--listen-metrics-urls', 'http://%s:%d' % (ports.LOOPBACK,
                                                       self.metrics_port),
        ], os.path.join(directory, 'etcd.log'), READY)

    @property
    def backend_url(self):
        return 'etcd3+http://%s:%d?lock_timeout=%d' % (
            ports.LOOPBACK, self.client_port, self.lock_timeout)

    def start(self, progress=None):
        os.makedirs(self.dir, exist_ok=True)
        return super().start(progress)
