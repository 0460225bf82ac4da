"""Options of the ``ebs-lease-agent`` command.

Every option can be given on the command line or in the ``[DEFAULT]``
section of a file passed with ``--config-file``.
"""

from oslo_config import cfg
from oslo_log import log as logging

from nova_shim.fencing import lease

lease_agent_opts = [
    cfg.StrOpt('device', required=True,
               help='The shared disk, as this host sees it. On an ECS '
                    'instance: /dev/disk/by-id/nvme-Alibaba_Cloud_Elastic_'
                    'Block_Storage_<disk id without "d-">; with the EBS '
                    'emulator: the attached instance\'s device path.'),
    cfg.IntOpt('offset', default=-lease.BLOCK_SIZE,
               help='Byte offset of the lease record (one %d-byte block) '
                    'on the device, a multiple of %d. A negative value '
                    'counts from the end of the device: the default is '
                    'the last block. The application must not use that '
                    'block (end its partition or file system before it); '
                    'the agent refuses to start when the block holds '
                    'other data.' % (lease.BLOCK_SIZE, lease.BLOCK_SIZE)),
    cfg.FloatOpt('refresh-interval', default=0.5, min=0.001,
                 help='Seconds between two heartbeats of the primary; a '
                      'standby reads the record four times as often.'),
    cfg.FloatOpt('takeover-timeout', default=2.0, min=0.001,
                 help='Seconds a standby waits, on its own monotonic '
                      'clock, for the record to change before it takes '
                      'over. Must be at least 3 x refresh-interval + '
                      'io-latency-budget (checked at start), so that a '
                      'primary that is merely slow keeps the lease.'),
    cfg.FloatOpt('io-latency-budget', default=0.5, min=0.0,
                 help='Worst-case seconds one record write may take on a '
                      'loaded host, part of the takeover-timeout rule; a '
                      'slower write is logged as a warning.'),
    cfg.StrOpt('host-name',
               sample_default='<the system host name>',
               help='Host name written in the lease record (at most %d '
                    'bytes of UTF-8). Default: the system host name.'
                    % lease.HOST_MAX_BYTES),
    cfg.StrOpt('host-nqn',
               help='Identity the reservation key is derived from: this '
                    'host\'s NVMe host NQN, or any string unique per '
                    'host. Default: /etc/nvme/hostnqn, else the system '
                    'uuid. Give each agent its own value when several '
                    'run on one machine (simulated hosts): with one key '
                    'for all, a preempt cannot name its victim.'),
    cfg.StrOpt('on-promote',
               help='Command run (in the background, without a shell) '
                    'once this host became primary, e.g. to start the '
                    'database. It gets EBS_LEASE_STATE, EBS_LEASE_EPOCH, '
                    'EBS_LEASE_HOLDER, EBS_LEASE_KEY and EBS_LEASE_DEVICE '
                    'in its environment.'),
    cfg.StrOpt('on-demote',
               help='Command run when this host stops being primary: '
                    'fenced (EBS_LEASE_STATE=demoted) or handing over on '
                    'SIGTERM (EBS_LEASE_STATE=released), before the '
                    'reservation is released; e.g. to stop the database. '
                    'The agent waits for it (see hook-timeout); '
                    'EBS_LEASE_REASON says why.'),
    cfg.FloatOpt('hook-timeout', default=30.0, min=0.0,
                 help='Seconds to wait for the on-demote command.'),
    cfg.StrOpt('state-file',
               help='Write the current state there as JSON at every '
                    'state change (for supervisors and tests).'),
    cfg.StrOpt('root-helper',
               help='Command prefix that starts the privsep daemon for '
                    'the reservation calls (e.g. "sudo nova-rootwrap '
                    '/etc/nova/rootwrap.conf"). Default: none when root, '
                    'else sudo.'),
]


def list_opts():
    """Options for the sample configuration generator."""
    return [('DEFAULT', lease_agent_opts)]


def make_conf(argv=None):
    """Parse the command line into a fresh ConfigOpts."""
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(lease_agent_opts)
    logging.register_options(conf)
    conf(argv, project='ebs-lease-agent', prog='ebs-lease-agent',
         default_config_files=[])
    return conf
