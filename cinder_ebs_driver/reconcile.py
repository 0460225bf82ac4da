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

A pass reads Cinder's database once, whatever the number of disks: the
volumes of the attached disks, with their attachment records, in one
query (:func:`cinder_volumes`). Only a repair reads a volume's records
again, under its locks.
"""

import collections

from cinder import context as cinder_context
from cinder.db import api as cinder_db
from cinder import exception
from oslo_log import log as logging

from cinder_ebs_driver import attach_locks
from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import host_release
from cinder_ebs_driver import naming

LOG = logging.getLogger(__name__)

# Volume statuses in which every backend attachment has a Cinder record.
SETTLED_STATUSES = ('available', 'in-use')
# Migration statuses of a volume no migration is moving.
NOT_MIGRATING = (None, '', 'success', 'error')
# The attachment records Cinder keeps after a detach (and its attachment
# listings leave out).
DETACHED = 'detached'

_Volume = collections.namedtuple('_Volume', ['id'])

# What Cinder's database holds for a volume: its status, its migration
# status and its attachment records (as host_release.attachment_records
# answers them).
CinderVolume = collections.namedtuple(
    'CinderVolume', ['status', 'migration_status', 'records'])


def cinder_volumes(volume_ids):
    """What Cinder's database holds for the volumes, in one query.

    Cinder's ``volume_get_all`` filters on a list of ids and loads each
    volume's attachment rows with it (its attachment listings take one
    volume id at a time).

    :returns: {volume id: :class:`CinderVolume`} of the volumes Cinder
        has; the others are left out.
    """
    ctxt = cinder_context.get_admin_context()
    rows = cinder_db.volume_get_all(ctxt, filters={'id': list(volume_ids)})
    return {row.id: CinderVolume(
        row.status, row.migration_status,
        [host_release.attachment_record(attachment)
         for attachment in row.volume_attachment
         if attachment.attach_status != DETACHED])
        for row in rows}


def settled(volume):
    """Whether a volume's backend attachments all have Cinder records.

    :param volume: a :class:`CinderVolume`, or None for a volume Cinder
        does not have.
    """
    if volume is None:
        return False
    return (volume.status in SETTLED_STATUSES
            and volume.migration_status in NOT_MIGRATING)


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
        :class:`~cinder_ebs_driver.host_release.HostReleaser` that checks
        a host under its locks (reading the records afresh) and detaches.
    :param hosts: the :class:`~cinder_ebs_driver.host_mapping.HostMapper`.
    :param volumes: ``volumes(volume_ids)``: what Cinder holds for the
        volumes, as :func:`cinder_volumes` answers (Cinder's database by
        default).
    :param max_repairs: the most detaches of one pass (None: no limit).
    """

    def __init__(self, releaser, hosts, volumes=None, max_repairs=None):
        self._releaser = releaser
        self._hosts = hosts
        self._volumes = volumes or cinder_volumes
        self._max_repairs = max_repairs

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
        attached = []
        for disk in disks:
            volume_id = naming.tags_of(disk).get(naming.VOLUME_TAG)
            if volume_id and ebs_client.attached_instance_ids(disk):
                attached.append((volume_id, disk))
        if not attached:
            return []
        volumes = self._volumes(sorted({volume_id
                                        for volume_id, _ in attached}))
        leaks = []
        for volume_id, disk in attached:
            volume = volumes.get(volume_id)
            if not settled(volume):
                continue
            leaks.extend((volume_id, disk['DiskId'], instance_id)
                         for instance_id in unaccounted(
                             disk, volume.records, self.instance_of) or ())
        if self._max_repairs is not None and len(leaks) > self._max_repairs:
            # Each repair costs ECS calls (a detach and its polls): the
            # rest waits for the next listing.
            LOG.warning('%(count)d backend attachments no Cinder record '
                        'accounts for; repairing %(max)d in this pass '
                        '(ebs_reconcile_max_repairs), the rest in the next '
                        'ones.', {'count': len(leaks),
                                  'max': self._max_repairs})
            leaks = leaks[:self._max_repairs]
        return [(disk_id, instance_id)
                for volume_id, disk_id, instance_id in leaks
                if self.repair(volume_id, disk_id, instance_id)]

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
