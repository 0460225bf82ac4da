"""Cinder as separate services over RabbitMQ, MariaDB and etcd."""

import shutil

from ebs_allinone.daemons import mariadb
from ebs_allinone.daemons import rabbitmq

SERVERS = (rabbitmq.SERVER, mariadb.SERVER, 'etcd')


def skip_without_servers(test):
    """Skip ``test`` unless the cluster's servers are installed."""
    for binary in SERVERS:
        if not shutil.which(binary):
            test.skipTest('%s is not installed (tools/install-deps.sh)'
                          % binary)
