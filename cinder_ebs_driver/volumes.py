"""Disk lifecycle of Cinder volumes: create, delete, clone, resize, revert,
retype.

Every disk is created with a ``ClientToken`` derived from the volume id and
tagged with the volume id, so that a retried create never makes a second
disk and a disk whose creation half failed can be found and removed.
"""

from cinder import exception
from cinder.volume import volume_types as cinder_volume_types
from oslo_log import log as logging
from oslo_utils import excutils

from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import naming
from cinder_ebs_driver import origins
from cinder_ebs_driver import qos
from cinder_ebs_driver import volume_types

LOG = logging.getLogger(__name__)

AVAILABLE = 'Available'
IN_USE = 'In_use'
# The ResizeDisk refusal of the online type for a multi-attach disk, in
# the reading of the ResizeDisk error table.
MULTI_ATTACH_NO_ONLINE_RESIZE = (
    'InvalidOperation.MultiAttachDiskNotSupportResizeOnline')
# Transient statuses in which ECS refuses DeleteDisk.
SETTLING = ('Creating', 'ReIniting')


class VolumeOps(object):
    """Volume operations on EBS disks."""

    def __init__(self, client, conf, attacher, origin_keeper):
        self._client = client
        self._conf = conf
        self._attacher = attacher
        self._origins = origin_keeper

    # -- lookups ---------------------------------------------------------

    def find_disks(self, volume):
        """Disk ids tagged with the volume id (after a lost response)."""
        disks = self._client.list_disks(tags=naming.volume_tags(volume))
        return [d['DiskId'] for d in disks if d.get('DiskId')]

    def disk_id(self, volume):
        """The disk of a volume: provider_id, else found by its tag."""
        if volume.provider_id:
            return volume.provider_id
        found = self.find_disks(volume)
        if len(found) == 1:
            return found[0]
        msg = (_('Volume %(vol)s has no EBS disk (provider_id is empty and '
                 '%(count)d disks carry its tag).') %
               {'vol': volume.id, 'count': len(found)})
        LOG.error(msg)
        raise exception.InvalidVolume(reason=msg)

    # -- create ----------------------------------------------------------

    def _spec(self, volume):
        volume_types.check_not_encrypted_multiattach(volume)
        return volume_types.spec_for_volume(volume, self._conf)

    def _create_disk(self, volume, spec, size, snapshot_id=None):
        volume_types.check_size(spec, size)
        token = naming.client_token('cinder-vol', volume.id)
        try:
            disk_id = self._request_disk(volume, spec, size, snapshot_id,
                                         token)
        except ebs_exc.EBSBackendError as error:
            if error.code not in ebs_exc.IDEMPOTENCE_MISMATCH_CODES:
                raise
            # An earlier attempt at this volume asked for another disk
            # (Cinder rescheduled the create with other parameters); its
            # disk was removed with the orphans.  A token of these
            # parameters keeps this attempt idempotent.
            LOG.warning('The create token of volume %(vol)s was used '
                        'before with other parameters (%(code)s); '
                        'creating the disk with a token of this request.',
                        {'vol': volume.id, 'code': error.code})
            token = naming.client_token('cinder-vol', '%s-%s' % (
                volume.id, '-'.join(str(part) for part in (
                    size, spec.category, spec.performance_level,
                    spec.multiattach, snapshot_id, spec.provisioned_iops))))
            disk_id = self._request_disk(volume, spec, size, snapshot_id,
                                         token)
        try:
            disk = self._wait_available(volume, disk_id)
        except ebs_exc.EBSNotFound:
            # ECS keeps answering a ClientToken with its first disk even
            # after that disk is deleted: an earlier attempt at this volume
            # was rolled back and Cinder rescheduled the create. A token
            # derived from the stale disk keeps this attempt idempotent.
            LOG.warning('The create token of volume %(vol)s answered disk '
                        '%(disk)s, which no longer exists (an earlier '
                        'attempt was rolled back); creating a new disk.',
                        {'vol': volume.id, 'disk': disk_id})
            token = naming.client_token(
                'cinder-vol', '%s-%s' % (volume.id, disk_id))
            disk_id = self._request_disk(volume, spec, size, snapshot_id,
                                         token)
            disk = self._wait_available(volume, disk_id)
        LOG.info('Created disk %(disk)s (%(cat)s %(pl)s, %(size)s GiB, '
                 'provisioned IOPS %(prov)s, multi-attach %(multi)s) for '
                 'volume %(vol)s.',
                 {'disk': disk_id, 'cat': spec.category,
                  'pl': spec.performance_level or '-', 'size': size,
                  'prov': spec.provisioned_iops or '-',
                  'multi': spec.multiattach, 'vol': volume.id})
        return disk_id, disk

    def _request_disk(self, volume, spec, size, snapshot_id, token):
        """CreateDisk; on failure remove any disk it may have made."""
        try:
            return self._client.create_disk(
                name=volume.name, size_gb=size, category=spec.category,
                performance_level=spec.performance_level,
                provisioned_iops=spec.provisioned_iops,
                multi_attach=spec.multiattach, client_token=token,
                description=naming.volume_description(volume),
                tags=naming.volume_tags(volume), snapshot_id=snapshot_id)
        except Exception:
            with excutils.save_and_reraise_exception():
                LOG.error('Creating the disk of volume %s failed.',
                          volume.id)
                self._remove_orphans(volume)

    def _wait_available(self, volume, disk_id):
        """Wait for a new disk; delete it when it does not get there."""
        try:
            return self._client.wait_for_disk_status(
                disk_id, [AVAILABLE], transition='create')
        except ebs_exc.EBSNotFound:
            raise
        except Exception:
            with excutils.save_and_reraise_exception():
                LOG.error('Disk %(disk)s of volume %(vol)s did not become '
                          'available; deleting it.',
                          {'disk': disk_id, 'vol': volume.id})
                self._delete_quietly(disk_id)

    def _remove_orphans(self, volume):
        try:
            for disk_id in self.find_disks(volume):
                self._delete_quietly(disk_id)
        except Exception as err:
            LOG.warning('Could not look for disks of volume %(vol)s left '
                        'by a failed create: %(err)s',
                        {'vol': volume.id, 'err': err})

    def _delete_quietly(self, disk_id):
        try:
            self.delete_disk(disk_id)
        except Exception as err:
            LOG.warning('Could not delete disk %(disk)s: %(err)s',
                        {'disk': disk_id, 'err': err})

    @staticmethod
    def _model_update(volume, spec, disk_id):
        update = {'provider_id': disk_id}
        if spec.multiattach != bool(volume.multiattach):
            # A migration target (see volume_types.volume_multiattach).
            update['multiattach'] = spec.multiattach
        return update

    def create(self, volume):
        spec = self._spec(volume)
        disk_id, _disk = self._create_disk(volume, spec, volume.size)
        return self._model_update(volume, spec, disk_id)

    def create_from_snapshot(self, volume, snapshot_id):
        if snapshot_id == origins.EMPTY:
            # The snapshot of a blank disk never attached.
            return self.create(volume)
        spec = self._spec(volume)
        disk_id, disk = self._create_disk(volume, spec, volume.size,
                                          snapshot_id=snapshot_id)
        self._grow_to(volume, disk_id, disk)
        return self._model_update(volume, spec, disk_id)

    def _grow_to(self, volume, disk_id, disk):
        """Resize a disk made from a snapshot when it came out smaller."""
        size = int((disk or {}).get('Size') or volume.size)
        if size >= volume.size:
            return
        try:
            self.resize(disk_id, volume.size, online=False)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._delete_quietly(disk_id)

    def clone(self, volume, src_vref):
        """A disk from a snapshot of the source's disk.

        The snapshot is made for the clone; a source disk that was never
        attached (ECS refuses to snapshot it) is cloned from what it was
        created with.  The clone's snapshot is then released: deleted, or
        kept while the new disk, not attached yet, needs it for a snapshot
        or clone of its own (see :mod:`~cinder_ebs_driver.origins`).
        """
        spec = self._spec(volume)
        src_disk = self.disk_id(src_vref)
        try:
            snapshot_id = self._client.create_snapshot(
                src_disk, name='cinder-clone-%s' % volume.id,
                client_token=naming.client_token('cinder-clone', volume.id),
                description=_('Temporary snapshot to clone volume %(src)s '
                              'to %(dst)s') % {'src': src_vref.id,
                                               'dst': volume.id},
                tags={naming.CLONE_TAG: volume.id})
        except ebs_exc.EBSBackendError as error:
            if not origins.is_never_attached_refusal(error):
                raise
            return self._clone_from_origin(volume, spec, src_vref, src_disk)
        try:
            self._client.wait_for_snapshot(snapshot_id)
            disk_id, disk = self._create_disk(volume, spec, volume.size,
                                              snapshot_id=snapshot_id)
            self._grow_to(volume, disk_id, disk)
        finally:
            try:
                self._origins.release(snapshot_id)
            except Exception as err:
                LOG.warning('Could not release the snapshot %(snap)s of '
                            'clone %(vol)s: %(err)s',
                            {'snap': snapshot_id, 'vol': volume.id,
                             'err': err})
        return self._model_update(volume, spec, disk_id)

    def _clone_from_origin(self, volume, spec, src_vref, src_disk):
        origin = self._origins.origin(
            src_disk, _('clone volume %s') % src_vref.id)
        LOG.info('Disk %(disk)s of volume %(src)s has never been attached, '
                 'so ECS cannot snapshot it; cloning it to %(vol)s from '
                 '%(origin)s, which holds the same data.',
                 {'disk': src_disk, 'src': src_vref.id, 'vol': volume.id,
                  'origin': origins.describe(origin)})
        if origin == origins.EMPTY:
            return self.create(volume)
        disk_id, disk = self._create_disk(volume, spec, volume.size,
                                          snapshot_id=origin)
        self._grow_to(volume, disk_id, disk)
        return self._model_update(volume, spec, disk_id)

    # -- delete ----------------------------------------------------------

    def delete(self, volume):
        disk_ids = ([volume.provider_id] if volume.provider_id
                    else self.find_disks(volume))
        if not disk_ids:
            LOG.info('Volume %s has no disk on the backend; nothing to '
                     'delete.', volume.id)
        for disk_id in disk_ids:
            source = self._source_snapshot(volume, disk_id)
            self.delete_disk(disk_id)
            if source:
                # It may have been kept for this disk only (see origins).
                self._origins.release(source, leaving=disk_id)

    def _source_snapshot(self, volume, disk_id):
        """The snapshot a clone's or a snapshot's volume was made from."""
        if not (volume.source_volid or volume.snapshot_id):
            return None
        try:
            disk = self._client.get_disk(disk_id)
        except ebs_exc.EBSNotFound:
            return None
        return disk.get('SourceSnapshotId') or None

    def delete_disk(self, disk_id):
        """Delete a disk; a disk that is gone is deleted already.

        Sends DeleteDisk straight away.  The disk is read only when ECS
        refuses it: a disk still being created or reset (a create that
        timed out and is rolled back) is waited for, a disk still
        attached somewhere although Cinder detached it is detached, and
        the deletion is sent again.
        """
        try:
            self._client.delete_disk(disk_id)
        except ebs_exc.EBSNotFound:
            LOG.info('Disk %s does not exist; treating it as deleted.',
                     disk_id)
            return
        except ebs_exc.EBSBackendError as error:
            if error.retryable:
                raise
            made_deletable = self._make_deletable(disk_id)
            if made_deletable is None:
                return
            if not made_deletable:
                raise
            try:
                self._client.delete_disk(disk_id)
            except ebs_exc.EBSNotFound:
                return
        self._client.wait_for_disk_deleted(disk_id)
        LOG.info('Deleted disk %s.', disk_id)

    def _make_deletable(self, disk_id):
        """After a refused DeleteDisk: what stood in the way, removed.

        :returns: None when the disk is gone, True when it had to settle
            or be detached first (and now may be deleted), False when
            neither explains the refusal.
        """
        try:
            disk = self._client.get_disk(disk_id)
        except ebs_exc.EBSNotFound:
            LOG.info('Disk %s does not exist; treating it as deleted.',
                     disk_id)
            return None
        changed = False
        if disk.get('Status') in SETTLING:
            LOG.info('Disk %(disk)s is %(status)s; waiting for it to settle '
                     'before deleting it.',
                     {'disk': disk_id, 'status': disk.get('Status')})
            disk = self._client.wait_for_disk_status(disk_id,
                                                     [AVAILABLE, IN_USE])
            changed = True
        leftovers = ebs_client.attached_instance_ids(disk)
        if leftovers:
            self._detach_leftovers(disk_id, leftovers, 'deletion')
            changed = True
        return changed

    def _detach_leftovers(self, disk_id, instances, before):
        """Detach a disk that ECS lists on hosts Cinder detached it from."""
        LOG.warning('Disk %(disk)s is still attached to %(inst)s on the '
                    'backend although Cinder detached it; detaching it '
                    'before the %(before)s.',
                    {'disk': disk_id, 'inst': ', '.join(instances),
                     'before': before})
        self._attacher.detach_all(disk_id)

    # -- size, content, type ---------------------------------------------

    def resize(self, disk_id, new_size, online=False):
        self._client.resize_disk(disk_id, new_size, online=online)
        statuses = [IN_USE] if online else [AVAILABLE]
        disk = self._client.wait_for_disk_status(disk_id, statuses)
        if int((disk or {}).get('Size') or new_size) < new_size:
            msg = (_('Disk %(disk)s still reports %(size)s GiB after a '
                     'resize to %(new)s GiB.') %
                   {'disk': disk_id, 'size': disk.get('Size'),
                    'new': new_size})
            raise exception.VolumeBackendAPIException(data=msg)

    def extend(self, volume, new_size):
        """Offline resize, or online when the disk is attached."""
        disk_id = self.disk_id(volume)
        disk = self._client.get_disk(disk_id)
        instances = ebs_client.attached_instance_ids(disk)
        online = bool(instances)
        if (online and naming.is_multiattach_disk(disk)
                and not attachments.held_hosts(volume)):
            # Cinder detached every attachment, but the last ones may have
            # gone at the same moment and a re-check is still to detach
            # the host (see host_release); the caller holds the lock it
            # takes.
            self._detach_leftovers(disk_id, instances, 'extend')
            online = False
        change = self._performance_for_size(volume, disk, new_size)
        LOG.info('Extending volume %(vol)s (disk %(disk)s) to %(size)s GiB '
                 '%(how)s.', {'vol': volume.id, 'disk': disk_id,
                              'size': new_size,
                              'how': 'online' if online else 'offline'})
        try:
            self.resize(disk_id, new_size, online=online)
            if change:
                LOG.info('Changing disk %(disk)s of volume %(vol)s to meet '
                         'its QoS specs at %(size)s GiB: %(change)s.',
                         {'disk': disk_id, 'vol': volume.id,
                          'size': new_size, 'change': change})
                self._client.modify_disk_spec(disk_id, **change)
                self._client.wait_for_disk_status(
                    disk_id, [IN_USE] if instances else [AVAILABLE])
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

    def revert(self, volume, snapshot_id):
        """Roll the disk back to a snapshot.

        :raises NotImplementedError: for a snapshot that only records the
            origin of a disk never attached (see
            :mod:`~cinder_ebs_driver.origins`) once the disk has been
            attached: ResetDisk takes only the disk's own snapshots, so
            Cinder's generic revert copies the data instead.
        """
        disk_id = self.disk_id(volume)
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
        self._client.wait_for_disk_status(disk_id, [AVAILABLE])
        LOG.info('Reverted volume %(vol)s to snapshot %(snap)s.',
                 {'vol': volume.id, 'snap': snapshot_id})

    def _own_snapshot(self, disk_id, snapshot_id):
        snapshot = self._client.get_snapshot(snapshot_id)
        return snapshot.get('SourceDiskId') == disk_id

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

        disk_id = self.disk_id(volume)
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
            statuses = ([IN_USE] if ebs_client.attached_instance_ids(disk)
                        else [AVAILABLE])
            self._client.wait_for_disk_status(disk_id, statuses)
        return True
