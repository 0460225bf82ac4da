"""Changes to a Cinder volume's disk in place: extend, revert, retype.

* extend resizes the disk (online while it is attached) and, when the
  type's back-end QoS specs ask more of the larger disk, changes its
  performance to meet them;
* revert resets the disk to one of its own snapshots;
* retype changes the disk's category, performance level or provisioned
  IOPS, or answers False when only a new disk can take the new type
  (Cinder then migrates).

The disk lifecycle (create, clone, delete), the lookups and the resize
used here are in :mod:`~cinder_ebs_driver.volumes`.
"""

from cinder import exception
from cinder.volume import volume_types as cinder_volume_types
from oslo_log import log as logging

from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import naming
from cinder_ebs_driver import origins
from cinder_ebs_driver import qos
from cinder_ebs_driver import volume_types
from cinder_ebs_driver import volumes

LOG = logging.getLogger(__name__)

# The ResizeDisk refusal of the online type for a multi-attach disk, in
# the reading of the ResizeDisk error table.
MULTI_ATTACH_NO_ONLINE_RESIZE = (
    'InvalidOperation.MultiAttachDiskNotSupportResizeOnline')


class VolumeChanges(object):
    """In-place changes of the EBS disks of volumes."""

    def __init__(self, client, conf, volume_ops):
        self._client = client
        self._conf = conf
        self._volumes = volume_ops

    # -- size ------------------------------------------------------------

    def extend(self, volume, new_size):
        """Offline resize, or online when the disk is attached."""
        disk_id = self._volumes.disk_id(volume)
        disk = self._client.get_disk(disk_id)
        instances = ebs_client.attached_instance_ids(disk)
        online = bool(instances)
        if (online and naming.is_multiattach_disk(disk)
                and not attachments.held_hosts(volume)):
            # Cinder detached every attachment, but the last ones may have
            # gone at the same moment and a re-check is still to detach
            # the host (see host_release); the caller holds the lock it
            # takes.
            self._volumes.detach_leftovers(disk_id, instances, 'extend')
            online = False
        change = self._performance_for_size(volume, disk, new_size)
        LOG.info('Extending volume %(vol)s (disk %(disk)s) to %(size)s GiB '
                 '%(how)s.', {'vol': volume.id, 'disk': disk_id,
                              'size': new_size,
                              'how': 'online' if online else 'offline'})
        try:
            self._volumes.resize(disk_id, new_size, online=online)
            if change:
                LOG.info('Changing disk %(disk)s of volume %(vol)s to meet '
                         'its QoS specs at %(size)s GiB: %(change)s.',
                         {'disk': disk_id, 'vol': volume.id,
                          'size': new_size, 'change': change})
                self._client.modify_disk_spec(disk_id, **change)
                self._client.wait_for_disk_status(
                    disk_id,
                    [volumes.IN_USE] if instances else [volumes.AVAILABLE])
        except ebs_exc.EBSBackendError as error:
            if error.code != MULTI_ATTACH_NO_ONLINE_RESIZE:
                raise
            msg = (_('ECS refused to extend multi-attach volume %(vol)s '
                     'while it is attached to %(inst)s (%(code)s, request '
                     '%(req)s): this service does not resize multi-attach '
                     'disks online. Detach it from every host, then extend '
                     'it.') %
                   {'vol': volume.id, 'inst': ', '.join(instances),
                    'code': error.code, 'req': error.request_id})
            LOG.error(msg)
            raise exception.InvalidVolume(reason=msg)

    def _performance_for_size(self, volume, disk, new_size):
        """The ModifyDiskSpec an extend needs for the type's QoS specs.

        Per-GiB specs ask more of a larger disk. While the disk as it is
        meets them at the new size nothing changes (a larger baseline
        would let an AutoPL disk buy fewer IOPS, but ECS allows one change
        of them an hour: a saving is not worth a failed extend). Else the
        disk keeps its category and level if they can meet them (AutoPL
        with more provisioned IOPS), or takes the first disk that does. A
        multi-attach or Regional disk cannot change (ECS refuses
        ModifyDiskSpec for them): its extend is refused before anything
        changes.

        :returns: ModifyDiskSpec's keyword arguments, or None.
        :raises InvalidVolume: the disk cannot meet the specs at that size.
        """
        specs = qos.backend_specs(volume.volume_type)
        try:
            required = qos.requirement(specs, new_size) if specs else None
        except exception.InvalidQoSSpecs as error:
            # A type from before the specs were checked: do not hold the
            # extend for it.
            LOG.warning('Extending volume %(vol)s without looking at its '
                        'back-end QoS specs: %(err)s',
                        {'vol': volume.id, 'err': error})
            return None
        category = disk.get('Category')
        level = disk.get('PerformanceLevel') or None
        provisioned = (disk.get('ProvisionedIops') or 0
                       if category == qos.AUTOPL else None)
        if required is None or qos.meets(required, category, level,
                                         provisioned, new_size):
            return None
        multiattach = naming.is_multiattach_disk(disk)
        if multiattach or category in volume_types.REGIONAL_CATEGORIES:
            msg = (_('Volume %(vol)s cannot be extended to %(size)s GiB: '
                     'its QoS specs would then ask %(iops)s IOPS and '
                     '%(mbps)s MB/s, more than its disk gives, and ECS '
                     'does not change a multi-attach or Regional disk\'s '
                     'performance. Retype it to a type whose specs it '
                     'meets, or migrate it.') %
                   {'vol': volume.id, 'size': new_size,
                    'iops': required.iops or '-',
                    'mbps': required.mbps or '-'})
            LOG.error(msg)
            raise exception.InvalidVolume(reason=msg)
        try:
            target = qos.choose(required, new_size, multiattach,
                                category=category, level=level,
                                min_sizes=volume_types.ESSD_MIN_SIZE)
        except exception.InvalidQoSSpecs:
            target = volume_types.spec_for_volume(volume, self._conf,
                                                  size=new_size)
        change = {}
        if target.category != category:
            change['category'] = target.category
        if (target.performance_level or None) != level or change:
            change['performance_level'] = target.performance_level
        if (target.provisioned_iops is not None
                and target.provisioned_iops != provisioned):
            change['provisioned_iops'] = target.provisioned_iops
        return change or None

    # -- content ---------------------------------------------------------

    def revert(self, volume, snapshot_id):
        """Roll the disk back to a snapshot.

        :raises NotImplementedError: for a snapshot that only records the
            origin of a disk never attached (see
            :mod:`~cinder_ebs_driver.origins`) once the disk has been
            attached: ResetDisk takes only the disk's own snapshots, so
            Cinder's generic revert copies the data instead.
        """
        disk_id = self._volumes.disk_id(volume)
        disk = self._client.get_disk(disk_id)
        if ebs_client.attached_instance_ids(disk):
            msg = (_('Volume %s is attached; it can only be reverted to a '
                     'snapshot while it is available.') % volume.id)
            raise exception.InvalidVolume(reason=msg)
        if snapshot_id == origins.EMPTY or not self._own_snapshot(
                disk_id, snapshot_id):
            if (origins.never_attached(disk) and
                    (disk.get('SourceSnapshotId') or origins.EMPTY)
                    == snapshot_id):
                LOG.info('Volume %(vol)s was never attached since snapshot '
                         '%(snap)s was recorded: it holds that data '
                         'already.', {'vol': volume.id, 'snap': snapshot_id})
                return
            LOG.info('Snapshot %(snap)s is not a snapshot of disk %(disk)s; '
                     'Cinder copies its data to revert volume %(vol)s.',
                     {'snap': snapshot_id, 'disk': disk_id,
                      'vol': volume.id})
            raise NotImplementedError()
        self._client.reset_disk(disk_id, snapshot_id)
        self._client.wait_for_disk_status(disk_id, [volumes.AVAILABLE])
        LOG.info('Reverted volume %(vol)s to snapshot %(snap)s.',
                 {'vol': volume.id, 'snap': snapshot_id})

    def _own_snapshot(self, disk_id, snapshot_id):
        snapshot = self._client.get_snapshot(snapshot_id)
        return snapshot.get('SourceDiskId') == disk_id

    # -- type ------------------------------------------------------------

    def retype(self, context, volume, new_type, diff):
        """Change performance level / category in place, or return False.

        Returns False (Cinder then migrates, or refuses the retype when
        the migration policy is ``never``) when multi-attach toggles, the
        encryption changes, the category cannot change in place, or the
        disk is multi-attach and its category or performance level would
        change (ECS fixes both for multi-attach disks).
        """
        new_multiattach = volume_types.is_multiattach_type(new_type)
        if new_multiattach and (
                volume.encryption_key_id or
                cinder_volume_types.is_encrypted(context,
                                                 new_type.get('id'))):
            msg = (_('Cannot retype volume %s to a multi-attach type: '
                     'multi-attach volumes cannot be encrypted.') %
                   volume.id)
            LOG.error(msg)
            raise exception.InvalidVolume(reason=msg)
        spec = volume_types.parse_extra_specs(
            volume_types.extra_specs_of(new_type), self._conf,
            multiattach=new_multiattach,
            qos_specs=qos.backend_specs(new_type), size=volume.size)

        disk_id = self._volumes.disk_id(volume)
        disk = self._client.get_disk(disk_id)
        if new_multiattach != naming.is_multiattach_disk(disk):
            LOG.info('Retype of volume %s toggles multi-attach, which ECS '
                     'fixes at creation; a migration is needed.', volume.id)
            return False
        if (diff or {}).get('encryption'):
            LOG.info('Retype of volume %s changes encryption; a migration '
                     'is needed.', volume.id)
            return False
        category = disk.get('Category')
        if not volume_types.category_change_in_place(category,
                                                     spec.category):
            LOG.info('Retype of volume %(vol)s changes the category from '
                     '%(old)s to %(new)s, which needs a new disk.',
                     {'vol': volume.id, 'old': category,
                      'new': spec.category})
            return False
        new_category = spec.category if spec.category != category else None
        new_level = spec.performance_level
        if new_level == disk.get('PerformanceLevel') and not new_category:
            new_level = None
        # An AutoPL type without back-end specs buys no IOPS.
        new_provisioned = None
        if (spec.category == qos.AUTOPL and (spec.provisioned_iops or 0)
                != (disk.get('ProvisionedIops') or 0)):
            new_provisioned = spec.provisioned_iops or 0
        changes = [what for what, changed in (
            (_('category'), new_category), (_('performance level'),
                                            new_level),
            (_('provisioned IOPS'), new_provisioned is not None)) if changed]
        if changes and naming.is_multiattach_disk(disk):
            # The multi-attach guide's restrictions: a multi-attach disk
            # cannot change its category or its performance level
            # (ModifyDiskSpec refuses every change of one).
            LOG.info('Retype of multi-attach volume %(vol)s changes the '
                     'disk\'s %(what)s, which ECS does not allow for a '
                     'multi-attach disk; a migration to a new disk is '
                     'needed (migration policy on-demand).',
                     {'vol': volume.id, 'what': ', '.join(changes)})
            return False
        if changes:
            LOG.info('Changing disk %(disk)s of volume %(vol)s in place: '
                     'category %(cat)s, performance level %(pl)s, '
                     'provisioned IOPS %(prov)s.',
                     {'disk': disk_id, 'vol': volume.id,
                      'cat': spec.category, 'pl': spec.performance_level,
                      'prov': spec.provisioned_iops})
            self._client.modify_disk_spec(disk_id,
                                          performance_level=new_level,
                                          category=new_category,
                                          provisioned_iops=new_provisioned)
            statuses = ([volumes.IN_USE]
                        if ebs_client.attached_instance_ids(disk)
                        else [volumes.AVAILABLE])
            self._client.wait_for_disk_status(disk_id, statuses)
        return True
