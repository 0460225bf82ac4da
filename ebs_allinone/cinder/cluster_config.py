"""The cinder.conf files of the cluster topology.

One file shared by every Cinder process (the all-in-one's, with the
message bus, the database and the lock service of the cluster instead of
in-process messaging, SQLite and file locks, and each process logging to
its standard error), plus one small file per process with its ``host``
and, for the volume services, the ``cluster`` they share.
"""

from ebs_allinone.cinder import config

CLUSTER = 'ebs-cluster'
CONTROL_HOST = 'cinder-control'
VOLUME_HOSTS = ('cinder-volume-1', 'cinder-volume-2')
# How long an API call waits for a volume service's answer: a service
# killed while it holds a call makes its caller wait that long.
RPC_RESPONSE_TIMEOUT = 30


def shared_conf(base, transport_url, connection, backend_url):
    """Turn the all-in-one's cinder.conf ``base`` into the shared file."""
    default = base['DEFAULT']
    for option in ('host', 'log_file'):
        default.pop(option, None)
    default.update({
        'transport_url': transport_url,
        'use_stderr': 'true',
        'rpc_response_timeout': str(RPC_RESPONSE_TIMEOUT),
        # Batches of volumes: the default quota is 10.
        'quota_volumes': '-1',
        'quota_snapshots': '-1',
        'quota_gigabytes': '-1',
    })
    base['database'] = {'connection': connection, 'max_pool_size': '10'}
    base['coordination'] = {'backend_url': backend_url}
    base['oslo_messaging_rabbit'] = {
        # Durable queues: the messages queued for a service (a cast of
        # the API to the scheduler) survive a restart of the broker;
        # with Cinder's default, transient queues, they are lost and
        # their volumes stay 'creating' with no host, which no cleanup
        # of Cinder's finds.
        'amqp_durable_queues': 'true',
        # Reconnect quickly after a restart of the broker.
        'rabbit_retry_interval': '1',
        'rabbit_retry_backoff': '1',
        'rabbit_interval_max': '5',
    }
    return base


def service_conf(host, cluster=None, availability_zone=None):
    """The per-process file: its ``host`` (and ``cluster``).

    :param availability_zone: the service's ``storage_availability_zone``
        (a cinder-backup serves the volumes of its zone only).
    """
    conf = config.new_parser()
    conf['DEFAULT'] = {'host': host}
    if cluster:
        conf['DEFAULT']['cluster'] = cluster
    if availability_zone:
        conf['DEFAULT']['storage_availability_zone'] = availability_zone
    return conf
