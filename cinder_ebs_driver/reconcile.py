"""Backend attachments that no Cinder record accounts for, detached.

A volume service that dies between ``AttachDisk`` and Cinder recording
the connector leaves the disk attached to the host's instance while
Cinder shows no attachment there; the client then deletes the reserved
attachment, which never reaches a volume service. A re-check kept in a
dead service's memory (see :mod:`~cinder_ebs_driver.host_release`) is
lost the same way. Nothing remembers these, so the reconciliation needs
no memory: with each listing of the backend's disks (the statistics
refresh, at start-up and then periodically), it compares the instances
ECS lists in each Cinder disk's ``Attachments`` with the volume's
attachment records in Cinder's database, and detaches the disk from an
instance whose host no record holds.

It only looks at volumes that are ``available`` or ``in-use`` and not
migrating: Cinder's own copies (image, backup, migration) attach a disk
to the volume service's host without an attachment record while the
volume is in another status. The repair itself is
:meth:`HostReleaser.release_if_unused
<cinder_ebs_driver.host_release.HostReleaser.release_if_unused>`, under
the (volume, host) and volume locks that attach and detach take: it reads
the records and the disk again, leaves a host alone while a recent
reservation may be an attach to it (younger than ``ebs_state_timeout``
plus a margin), and logs one line per detach. Active-active services
each run it; the locks make them take turns, and a repeated detach is a
no-op. The reconciliation makes no ECS call beyond the listing it is
given and the repairs.
"""

import collections

from cinder import context as cinder_context
from cinder.db import api as cinder_db
from cinder import exception
from oslo_log import log as logging

from cinder_ebs_driver import attach_locks
from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import naming

LOG = logging.getLogger(__name__)

# Volume statuses in which every backend attachment has a Cinder record.
SETTLED_STATUSES = ('available', 'in-use')
# Migration statuses of a volume no migration is moving.
NOT_MIGRATING = (None, '', 'success', 'error')

_Volume = collections.namedtuple('_Volume', ['id'])


def _volume_state(volume_id):
    """(status, migration_status) of a Cinder volume, or None if gone."""
    ctxt = cinder_context.get_admin_context()
    try:
        volume = cinder_db.volume_get(ctxt, volume_id)
    except exception.VolumeNotFound:
        return None
    return volume.status, volume.migration_status


def settled(state):
    """Whether a volume's backend attachments all have Cinder records."""
    if state is None:
        return False
    status, migration_status = state
    return status in SETTLED_STATUSES and migration_status in NOT_MIGRATING


def unaccounted(disk, records, instance_of):
    """The instances ECS lists for a disk that no live record accounts for.

    :param records: the volume's attachment records.
    :param instance_of: ``instance_of(record)``: the instance of a record's
        host; raises InvalidConnectorException when it cannot be mapped.
    :returns: a list of instance ids, or None when a live record's host
        cannot be mapped (nothing is then certain).
    """
    accounted = set()
    for record in records:
        if (attachments.field(record, 'attach_status')
                in attachments.RELEASED_STATUSES
                or not attachments.attachment_host(record)):
            continue
        try:
            accounted.add(instance_of(record))
        except exception.InvalidConnectorException:
            return None
    return [instance_id
            for instance_id in ebs_client.attached_instance_ids(disk)
            if instance_id not in accounted]


class Reconciler(object):
    """Detaches what Cinder's attachment records do not account for.

    :param releaser: the
        :class:`~cinder_ebs_driver.host_release.HostReleaser` that reads
        the attachment records, checks a host under its locks and
        detaches.
    :param hosts: the :class:`~cinder_ebs_driver.host_mapping.HostMapper`.
    :param volume_state: ``volume_state(volume_id)``: (status,
        migration_status), or None for a volume Cinder does not have.
    """

    def __init__(self, releaser, hosts, volume_state=None):
        self._releaser = releaser
        self._hosts = hosts
        self._volume_state = volume_state or _volume_state

    def instance_of(self, record):
        """The instance of an attachment record's host."""
        connector = attachments.field(record, 'connector')
        if connector:
            return self._hosts.instance_for(connector)
        return self._hosts.instance_for(
            {'host': attachments.attachment_host(record)})

    def reconcile(self, disks):
        """Detach the listed disks' attachments no record accounts for.

        :param disks: DescribeDisks items of the backend's Cinder disks.
        :returns: the (disk id, instance id) pairs detached.
        """
        detached = []
        for disk in disks:
            if not ebs_client.attached_instance_ids(disk):
                continue
            volume_id = naming.tags_of(disk).get(naming.VOLUME_TAG)
            if not volume_id or not settled(self._volume_state(volume_id)):
                continue
            leaks = unaccounted(disk, self._releaser.records(volume_id),
                                self.instance_of)
            for instance_id in leaks or ():
                if self.repair(volume_id, disk['DiskId'], instance_id):
                    detached.append((disk['DiskId'], instance_id))
        return detached

    def repair(self, volume_id, disk_id, instance_id):
        """Detach the disk from the instance if no record needs it there.

        :returns: True when it was detached.
        """
        return self._release(volume_id, disk_id, instance_id) == 'detached'

    def free_for_attach(self, volume_id, disk_id, instances):
        """Detach a single-attach disk from instances a dead attach left.

        An attach found the disk attached to ``instances``. When none of
        the volume's records holds their hosts and no reservation but the
        caller's own may be an attach in flight, the attach that put the
        disk there is dead (its volume service died after AttachDisk) and
        the disk is detached from them.

        :returns: {instance id: verdict} for the instances the disk is
            still attached to: ``'kept'`` (a record holds the host),
            ``'in-flight'`` (another attach may be under way) or
            ``'unknown-host'``; empty when it is attached nowhere now.
        """
        left = {}
        for instance_id in instances:
            verdict = self._release(volume_id, disk_id, instance_id,
                                    attaching=1)
            if verdict not in ('detached', 'not-attached'):
                left[instance_id] = verdict
        return left

    def _release(self, volume_id, disk_id, instance_id, attaching=0):
        """release_if_unused under the instance's host locks.

        :returns: its verdict, or ``'unknown-host'``.
        """
        host = self._hosts.host_of(instance_id)
        if host is None:
            LOG.warning('Disk %(disk)s of volume %(vol)s is attached to '
                        'instance %(inst)s, which no attachment of the '
                        'volume accounts for, and no host name is known '
                        'for that instance (ebs_host_instance_map, or its '
                        'HostName): left attached.',
                        {'disk': disk_id, 'vol': volume_id,
                         'inst': instance_id})
            return 'unknown-host'
        names = attach_locks.attach_lock_names(_Volume(volume_id), host,
                                               counts_hosts=True)
        with attach_locks.held(names):
            verdict = self._releaser.release_if_unused(
                volume_id, host, disk_id, instance_id, attaching=attaching)
        if verdict == 'detached':
            LOG.warning('Reconciled: disk %(disk)s of volume %(vol)s was '
                        'attached to instance %(inst)s (host %(host)s), '
                        'which no attachment of the volume accounts for; '
                        'detached it.',
                        {'disk': disk_id, 'vol': volume_id,
                         'inst': instance_id, 'host': host})
        return verdict
