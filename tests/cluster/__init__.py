"""Cinder as separate services over RabbitMQ, MariaDB and etcd."""

import shutil

from ebs_allinone.daemons import mariadb
from ebs_allinone.daemons import rabbitmq

SERVERS = (rabbitmq.SERVER, mariadb.SERVER, 'etcd')


def missing_servers():
    """Why the cluster's servers cannot run here, or None."""
    for binary in SERVERS:
        if not shutil.which(binary):
            return '%s is not installed (tools/install-deps.sh)' % binary
    return None


def skip_without_servers(test):
    """Skip ``test`` unless the cluster's servers are installed."""
    missing = missing_servers()
    if missing:
        test.skipTest(missing)
