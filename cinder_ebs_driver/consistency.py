"""Every mismatch between Cinder and ECS for one backend, and safe repairs.

What ``ebs-cinder-reconcile`` reports (see :mod:`.reconcile_cmd`):

``disk-missing``
    a volume whose disk ECS does not have;
``attached-without-record``
    a disk attached to an instance that no attachment record of its
    volume accounts for (repair: detach it, as the periodic
    reconciliation does, see :mod:`.reconcile`);
``record-without-attachment``
    an ``attached`` record whose host's instance ECS does not list (the
    guest's disk is gone: detach it in Nova, or ``cinder
    attachment-delete``);
``stuck-extending``
    a volume left ``extending`` by a dead service (repair: the size ECS
    reports and the volume's former status, ``in-use`` when it has
    attachments; the project's quota usage grows with the size, as the
    extend's completion would have done);
``orphan-disk``
    a disk tagged with a volume id that Cinder does not have (reported
    only: never deleted, it may hold data);
``leftover-snapshot``
    an ECS snapshot made for a Cinder snapshot that no longer exists and
    that nothing else needs (reported; the statistics' sweep deletes
    those it retained itself).

A repair never deletes data.
"""

import collections

from cinder import context as cinder_context
from cinder import exception
from cinder import objects
from cinder import quota
from cinder.volume import volume_utils
from oslo_log import log as logging

from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import naming
from cinder_ebs_driver import origins
from cinder_ebs_driver import reconcile

LOG = logging.getLogger(__name__)

Mismatch = collections.namedtuple(
    'Mismatch', ['kind', 'volume_id', 'disk_id', 'detail', 'repaired'])

EXTENDING = 'extending'
QUOTAS = quota.QUOTAS


def backend_volumes(volumes, backend_host):
    """The volumes of a backend among ``volumes``.

    :param backend_host: ``host@backend`` of its volume service, or the
        ``cluster@backend`` of its cluster.
    """
    found = []
    for volume in volumes:
        if backend_host in (
                volume_utils.extract_host(volume.host or '', 'backend'),
                volume_utils.extract_host(volume.cluster_name or '',
                                          'backend')):
            found.append(volume)
    return found


class Checker(object):
    """Compares one backend's Cinder records with what ECS holds.

    :param client: the backend's
        :class:`~cinder_ebs_driver.client.EBSClient`.
    :param reconciler: the :class:`~cinder_ebs_driver.reconcile.Reconciler`
        that maps records to instances and detaches leaked attachments.
    """

    def __init__(self, client, reconciler):
        self._client = client
        self._reconciler = reconciler

    def check(self, backend_host, repair=False, ctxt=None):
        """Every mismatch of the backend; with ``repair``, the safe fixes.

        :param backend_host: see :func:`backend_volumes`.
        :returns: a list of :class:`Mismatch`.
        """
        ctxt = ctxt or cinder_context.get_admin_context()
        volumes = objects.VolumeList.get_all(ctxt)
        disks = {disk['DiskId']: disk for disk in
                 self._client.list_disks(tags={naming.VOLUME_TAG: None})}
        found = []
        for volume in backend_volumes(volumes, backend_host):
            found.extend(self._check_volume(volume, disks, repair))
        known = {volume.id for volume in volumes}
        for disk in disks.values():
            volume_id = naming.tags_of(disk).get(naming.VOLUME_TAG)
            if volume_id not in known:
                found.append(Mismatch(
                    'orphan-disk', volume_id, disk['DiskId'],
                    'tagged with a volume Cinder does not have', False))
        found.extend(self._leftover_snapshots(ctxt))
        return found

    def _check_volume(self, volume, disks, repair):
        disk = disks.get(volume.provider_id) if volume.provider_id else None
        if disk is None:
            if volume.provider_id and volume.status not in ('creating',
                                                            'error'):
                return [Mismatch('disk-missing', volume.id,
                                 volume.provider_id,
                                 'ECS has no such disk', False)]
            return []
        found = []
        if volume.status == EXTENDING:
            found.append(self._stuck_extend(volume, disk, repair))
        records = list(volume.volume_attachment or [])
        leaks = reconcile.unaccounted(disk, records,
                                      self._reconciler.instance_of)
        for instance_id in leaks or ():
            repaired = bool(repair and self._reconciler.repair(
                volume.id, disk['DiskId'], instance_id))
            found.append(Mismatch(
                'attached-without-record', volume.id, disk['DiskId'],
                'attached to instance %s' % instance_id, repaired))
        listed = set(ebs_client.attached_instance_ids(disk))
        for record in records:
            if record.attach_status != attachments.ATTACHED:
                continue
            try:
                instance_id = self._reconciler.instance_of(record)
            except exception.InvalidConnectorException:
                continue
            if instance_id not in listed:
                found.append(Mismatch(
                    'record-without-attachment', volume.id, disk['DiskId'],
                    'attachment %s on %s (instance %s)' % (
                        record.id, record.attached_host, instance_id),
                    False))
        return found

    @staticmethod
    def _stuck_extend(volume, disk, repair):
        size = int(disk.get('Size') or volume.size)
        status = 'in-use' if any(
            a.attach_status == attachments.ATTACHED
            for a in volume.volume_attachment or []) else 'available'
        detail = 'ECS reports %d GiB, Cinder %d GiB' % (size, volume.size)
        if repair:
            if size > volume.size:
                detail += count_growth(volume, size - volume.size)
            volume.update({'size': max(size, volume.size), 'status': status})
            volume.save()
            LOG.warning('Repaired: volume %(vol)s was left extending; it is '
                        '%(status)s with the %(size)d GiB ECS reports.',
                        {'vol': volume.id, 'status': status, 'size': size})
        return Mismatch('stuck-extending', volume.id, disk['DiskId'],
                        detail, bool(repair))

    def _leftover_snapshots(self, ctxt):
        found = []
        for snapshot in self._client.list_snapshots(
                tags={naming.SNAPSHOT_TAG: None}):
            tags = naming.tags_of(snapshot)
            if tags.get(origins.RETAINED_TAG):
                continue
            try:
                objects.Snapshot.get_by_id(ctxt, tags[naming.SNAPSHOT_TAG])
            except exception.SnapshotNotFound:
                found.append(Mismatch(
                    'leftover-snapshot', None, snapshot.get('SourceDiskId'),
                    'snapshot %s of Cinder snapshot %s, which Cinder does '
                    'not have' % (snapshot['SnapshotId'],
                                  tags[naming.SNAPSHOT_TAG]), False))
        return found


def count_growth(volume, delta_gb):
    """Add what a finished extend added to the project's quota usage.

    The extend's quota reservation went with the dead service (its ids
    were in the RPC message; unused, it expires), so the volume's growth
    is reserved and committed again, as the extend's completion does.

    :returns: '' or, when the project's quota refuses it, what to run.
    """
    ctxt = cinder_context.get_admin_context()
    deltas = {'gigabytes': delta_gb}
    QUOTAS.add_volume_type_opts(ctxt, deltas, volume.volume_type_id)
    try:
        reservations = QUOTAS.reserve(ctxt, project_id=volume.project_id,
                                      **deltas)
    except exception.OverQuota:
        LOG.warning('The quota usage of project %(project)s does not count '
                    'the %(delta)d GiB volume %(vol)s grew by (over quota '
                    'while the dead extend\'s reservation lasts); run '
                    'cinder-manage quota sync --project-id %(project)s.',
                    {'project': volume.project_id, 'delta': delta_gb,
                     'vol': volume.id})
        return ('; quota usage not updated (over quota): cinder-manage '
                'quota sync --project-id %s' % volume.project_id)
    QUOTAS.commit(ctxt, reservations, project_id=volume.project_id)
    return ''
