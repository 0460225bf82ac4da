"""Disk lifecycle of Cinder volumes: create (blank, from a snapshot, or a
clone), delete, and the lookups and resize the other volume operations use
(:mod:`~cinder_ebs_driver.volume_changes` changes a volume's disk in place:
extend, revert, retype).

Every disk is created with a ``ClientToken`` derived from the volume id and
tagged with the volume id, so that a retried create never makes a second
disk and a disk whose creation half failed can be found and removed.
"""

from cinder import exception
from oslo_log import log as logging
from oslo_utils import excutils

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import naming
from cinder_ebs_driver import origins
from cinder_ebs_driver import volume_types

LOG = logging.getLogger(__name__)

AVAILABLE = 'Available'
IN_USE = 'In_use'
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
            self.detach_leftovers(disk_id, leftovers, 'deletion')
            changed = True
        return changed

    def detach_leftovers(self, disk_id, instances, before):
        """Detach a disk that ECS lists on hosts Cinder detached it from."""
        LOG.warning('Disk %(disk)s is still attached to %(inst)s on the '
                    'backend although Cinder detached it; detaching it '
                    'before the %(before)s.',
                    {'disk': disk_id, 'inst': ', '.join(instances),
                     'before': before})
        self._attacher.detach_all(disk_id)

    # -- resize ----------------------------------------------------------

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
