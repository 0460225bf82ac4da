"""``ebs-cinder-reconcile``: what Cinder and ECS disagree on, and repairs.

    ebs-cinder-reconcile --config-file /etc/cinder/cinder.conf \\
        --backend ebs-1 [--backend-host HOST@ebs-1] [--repair]

Reads Cinder's database (``[database] connection``) and the backend's
section of ``cinder.conf`` (the driver's options), lists the backend's
disks and snapshots on ECS, and prints one line per mismatch (see
:mod:`cinder_ebs_driver.consistency` for the kinds). ``--repair`` also
fixes the safe ones: it detaches a disk from an instance that no
attachment record accounts for, and gives a volume left ``extending`` the
size ECS reports. It never deletes data. Exit status: 0 when nothing is
left to repair, 1 when a mismatch remains, 2 for a usage or configuration
error. Run it where ``cinder-volume`` runs (it uses Cinder's coordination
backend for the same locks).
"""

import sys

from cinder.common import config as cinder_common_config  # noqa: F401
from cinder import coordination
from cinder import objects
from cinder.volume import configuration
from cinder.volume import driver as cinder_driver
from oslo_config import cfg
from oslo_log import log as logging

from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import consistency
from cinder_ebs_driver import host_mapping
from cinder_ebs_driver import host_release
from cinder_ebs_driver import options
from cinder_ebs_driver import reconcile

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

cli_opts = [
    cfg.StrOpt('backend', required=True,
               help='The cinder.conf section of the EBS backend (a name of '
                    'enabled_backends).'),
    cfg.StrOpt('backend-host',
               help='The volumes to check: host@backend of their volume '
                    'service, or cluster@backend of their cluster '
                    '(default: this host\'s [DEFAULT] host, or its '
                    'cluster when one is set, @ the backend).'),
    cfg.BoolOpt('repair', default=False,
                help='Fix the safe mismatches: detach leaked attachments, '
                     'finish extends left by a dead service.'),
]


def checker_for(conf):
    """A Checker on the backend's configuration ``conf``."""
    client = ebs_client.EBSClient(conf)
    attacher = attachments.Attacher(client, conf)
    hosts = host_mapping.HostMapper(client, conf)
    releaser = host_release.HostReleaser(attacher, client, conf)
    return consistency.Checker(client, reconcile.Reconciler(releaser,
                                                            hosts))


def report(mismatches, out):
    """Print the mismatches; answer how many remain unrepaired."""
    remaining = 0
    for item in mismatches:
        state = 'repaired' if item.repaired else 'found'
        remaining += 0 if item.repaired else 1
        out.write('%-10s %-26s volume %s disk %s: %s\n' % (
            state, item.kind, item.volume_id or '-', item.disk_id or '-',
            item.detail))
    out.write('%d mismatches, %d repaired, %d left\n' % (
        len(mismatches), len(mismatches) - remaining, remaining))
    return remaining


# cinder-volume's own option (cinder.cmd.volume, which this command does
# not import: it patches the standard library for eventlet).
cluster_opt = cfg.StrOpt('cluster',
                         help='The cluster of the volume services, if any.')


def main(argv=None, out=None):
    out = out or sys.stdout
    CONF.register_cli_opts(cli_opts)
    try:
        CONF.register_opt(cluster_opt)
    except cfg.DuplicateOptError:
        pass
    logging.register_options(CONF)
    try:
        CONF(sys.argv[1:] if argv is None else argv, project='cinder',
             prog='ebs-cinder-reconcile')
    except cfg.Error as error:
        sys.stderr.write('ebs-cinder-reconcile: %s\n' % error)
        return 2
    logging.setup(CONF, 'ebs-cinder-reconcile')
    objects.register_all()
    conf = configuration.Configuration(cinder_driver.volume_opts,
                                       config_group=CONF.backend)
    conf.append_config_values(options.ebs_opts)
    coordination.COORDINATOR.start()
    try:
        checker = checker_for(conf)
        backend_host = CONF.backend_host or '%s@%s' % (
            CONF.cluster or CONF.host, CONF.backend)
        found = checker.check(backend_host, repair=CONF.repair)
    finally:
        coordination.COORDINATOR.stop()
    return 1 if report(found, out) else 0
