"""Bringing existing EBS disks and snapshots under Cinder, and back out.

A reference names a disk (or snapshot) by id (``source-id``) or by name
(``source-name``). A disk can be managed when it is not attached and not
already owned by another Cinder volume (the ``cinder-volume-id`` tag).
"""

from cinder import exception
from cinder.volume import volume_utils
from oslo_log import log as logging

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import naming
from cinder_ebs_driver import options
from cinder_ebs_driver import volume_types

LOG = logging.getLogger(__name__)

SOURCE_ID = 'source-id'
SOURCE_NAME = 'source-name'
SNAPSHOT_ACCOMPLISHED = 'accomplished'


def _invalid_ref(ref, reason):
    LOG.error('Cannot manage %(ref)s: %(reason)s',
              {'ref': ref, 'reason': reason})
    return exception.ManageExistingInvalidReference(existing_ref=ref,
                                                    reason=reason)


def _ref_value(ref):
    ref = ref or {}
    for key in (SOURCE_ID, SOURCE_NAME):
        value = ref.get(key)
        if value:
            return key, value
    raise _invalid_ref(ref, _('the reference needs "%(id)s" (the disk or '
                              'snapshot id) or "%(name)s".') %
                       {'id': SOURCE_ID, 'name': SOURCE_NAME})


def _pick_one(ref, matches, kind):
    if not matches:
        raise _invalid_ref(ref, _('no %s matches it.') % kind)
    if len(matches) > 1:
        raise _invalid_ref(ref, _('%(count)d %(kind)ss have that name; use '
                                  '"%(id)s".') %
                           {'count': len(matches), 'kind': kind,
                            'id': SOURCE_ID})
    return matches[0]


class ManageOps(object):
    """manage / unmanage of disks and snapshots, manageable listings."""

    def __init__(self, client, conf):
        self._client = client
        self._conf = conf

    # -- volumes ---------------------------------------------------------

    def find_disk(self, ref):
        key, value = _ref_value(ref)
        if key == SOURCE_ID:
            try:
                return self._client.get_disk(value)
            except ebs_exc.EBSNotFound:
                raise _invalid_ref(ref, _('disk %s does not exist.') % value)
        disks = [d for d in self._client.list_disks()
                 if d.get('DiskName') == value]
        return _pick_one(ref, disks, _('disk'))

    def _check_manageable(self, volume, disk, ref):
        disk_id = disk['DiskId']
        owner = naming.tags_of(disk).get(naming.VOLUME_TAG)
        if owner and owner != volume.id:
            raise _invalid_ref(ref, _('disk %(disk)s already belongs to '
                                      'Cinder volume %(owner)s.') %
                               {'disk': disk_id, 'owner': owner})
        instances = ebs_client.attached_instance_ids(disk)
        if instances:
            raise _invalid_ref(ref, _('disk %(disk)s is attached to '
                                      '%(inst)s; detach it first.') %
                               {'disk': disk_id,
                                'inst': ', '.join(instances)})
        if disk.get('Status') != 'Available':
            raise _invalid_ref(ref, _('disk %(disk)s is %(status)s, not '
                                      'Available.') %
                               {'disk': disk_id, 'status': disk.get('Status')})
        zone = self._conf.safe_get('ebs_zone_id')
        if (zone and disk.get('ZoneId') and disk['ZoneId'] != zone and
                disk.get('Category') not in
                volume_types.REGIONAL_CATEGORIES):
            raise _invalid_ref(ref, _('disk %(disk)s is in zone %(zone)s, '
                                      'this backend serves %(ours)s.') %
                               {'disk': disk_id, 'zone': disk['ZoneId'],
                                'ours': zone})

    def _check_type(self, volume, disk):
        volume_types.check_not_encrypted_multiattach(volume)
        specs = volume_types.extra_specs_of(volume.volume_type)
        spec = volume_types.spec_for_volume(volume, self._conf)
        category = disk.get('Category')
        if category not in options.DISK_CATEGORIES:
            raise exception.ManageExistingVolumeTypeMismatch(
                reason=_('disk %(disk)s is a %(cat)s disk; the EBS driver '
                         'manages %(known)s disks.') %
                {'disk': disk['DiskId'], 'cat': category,
                 'known': ', '.join(options.DISK_CATEGORIES)})
        if (volume_types.CATEGORY_KEY in specs and
                spec.category != category):
            raise exception.ManageExistingVolumeTypeMismatch(
                reason=_('the volume type asks for %(want)s but disk '
                         '%(disk)s is %(cat)s.') %
                {'want': spec.category, 'disk': disk['DiskId'],
                 'cat': category})
        if volume.multiattach and not naming.is_multiattach_disk(disk):
            raise exception.ManageExistingVolumeTypeMismatch(
                reason=_('the volume type is multi-attach but disk %s was '
                         'created without multi-attach, which ECS fixes '
                         'at creation.') % disk['DiskId'])

    def manage(self, volume, ref):
        disk = self.find_disk(ref)
        self._check_manageable(volume, disk, ref)
        self._check_type(volume, disk)
        disk_id = disk['DiskId']
        self._client.modify_disk_attribute(
            disk_id, name=volume.name,
            description=naming.volume_description(volume))
        self._client.tag_disk(disk_id, naming.volume_tags(volume))
        LOG.info('Managed disk %(disk)s (was "%(name)s") as volume '
                 '%(vol)s.', {'disk': disk_id, 'name': disk.get('DiskName'),
                              'vol': volume.id})
        return {'provider_id': disk_id}

    def get_size(self, volume, ref):
        disk = self.find_disk(ref)
        self._check_manageable(volume, disk, ref)
        return int(disk.get('Size') or 0)

    def unmanage(self, volume):
        if not volume.provider_id:
            return
        try:
            self._client.untag_disk(volume.provider_id, [naming.VOLUME_TAG])
        except ebs_exc.EBSNotFound:
            LOG.info('Disk %s of unmanaged volume %s is gone.',
                     volume.provider_id, volume.id)
            return
        LOG.info('Unmanaged volume %(vol)s; disk %(disk)s stays on the '
                 'backend.', {'vol': volume.id, 'disk': volume.provider_id})

    def _zone_disks(self):
        zone = self._conf.safe_get('ebs_zone_id')
        return [d for d in self._client.list_disks()
                if not zone or not d.get('ZoneId') or d['ZoneId'] == zone or
                d.get('Category') in volume_types.REGIONAL_CATEGORIES]

    def manageable_volumes(self, cinder_volumes, marker, limit, offset,
                           sort_keys, sort_dirs):
        by_disk = {v.provider_id: v.id for v in cinder_volumes or []
                   if v.provider_id}
        entries = []
        for disk in self._zone_disks():
            disk_id = disk['DiskId']
            cinder_id = (by_disk.get(disk_id) or
                         naming.tags_of(disk).get(naming.VOLUME_TAG))
            instances = ebs_client.attached_instance_ids(disk)
            reason = None
            if cinder_id:
                reason = _('Already managed by Cinder.')
            elif instances:
                reason = _('Attached to %s.') % ', '.join(instances)
            elif disk.get('Status') != 'Available':
                reason = _('Disk status is %s.') % disk.get('Status')
            elif disk.get('Category') not in options.DISK_CATEGORIES:
                reason = _('Unsupported category %s.') % disk.get('Category')
            entries.append({
                'reference': {SOURCE_ID: disk_id},
                'size': int(disk.get('Size') or 0),
                'safe_to_manage': reason is None,
                'reason_not_safe': reason,
                'cinder_id': cinder_id,
                'extra_info': {
                    'name': disk.get('DiskName'),
                    'category': disk.get('Category'),
                    'performance_level': disk.get('PerformanceLevel'),
                    'multiattach': naming.is_multiattach_disk(disk),
                },
            })
        return volume_utils.paginate_entries_list(
            entries, marker, limit, offset, sort_keys, sort_dirs)

    # -- snapshots -------------------------------------------------------

    def find_snapshot(self, ref):
        key, value = _ref_value(ref)
        if key == SOURCE_ID:
            try:
                return self._client.get_snapshot(value)
            except ebs_exc.EBSNotFound:
                raise _invalid_ref(ref, _('snapshot %s does not exist.')
                                   % value)
        snapshots = [s for s in self._client.list_snapshots()
                     if s.get('SnapshotName') == value]
        return _pick_one(ref, snapshots, _('snapshot'))

    def _check_snapshot(self, snapshot, ebs_snapshot, ref):
        snap_id = ebs_snapshot['SnapshotId']
        owner = naming.tags_of(ebs_snapshot).get(naming.SNAPSHOT_TAG)
        if owner and owner != snapshot.id:
            raise _invalid_ref(ref, _('snapshot %(snap)s already belongs to '
                                      'Cinder snapshot %(owner)s.') %
                               {'snap': snap_id, 'owner': owner})
        disk_id = snapshot.volume.provider_id
        if ebs_snapshot.get('SourceDiskId') != disk_id:
            raise _invalid_ref(ref, _('snapshot %(snap)s was taken of disk '
                                      '%(src)s, not of %(disk)s (volume '
                                      '%(vol)s).') %
                               {'snap': snap_id,
                                'src': ebs_snapshot.get('SourceDiskId'),
                                'disk': disk_id,
                                'vol': snapshot.volume_id})
        if ebs_snapshot.get('Status') != SNAPSHOT_ACCOMPLISHED:
            raise _invalid_ref(ref, _('snapshot %(snap)s is %(status)s.') %
                               {'snap': snap_id,
                                'status': ebs_snapshot.get('Status')})

    def manage_snapshot(self, snapshot, ref):
        ebs_snapshot = self.find_snapshot(ref)
        self._check_snapshot(snapshot, ebs_snapshot, ref)
        snap_id = ebs_snapshot['SnapshotId']
        self._tag_snapshot(snap_id, naming.snapshot_tags(snapshot))
        LOG.info('Managed EBS snapshot %(id)s as snapshot %(snap)s.',
                 {'id': snap_id, 'snap': snapshot.id})
        return {'provider_id': snap_id}

    def snapshot_size(self, snapshot, ref):
        ebs_snapshot = self.find_snapshot(ref)
        self._check_snapshot(snapshot, ebs_snapshot, ref)
        return int(ebs_snapshot.get('SourceDiskSize') or
                   snapshot.volume_size or 0)

    def unmanage_snapshot(self, snapshot):
        if not snapshot.provider_id:
            return
        try:
            self._untag_snapshot(snapshot.provider_id, [naming.SNAPSHOT_TAG])
        except ebs_exc.EBSNotFound:
            return

    def _tag_snapshot(self, snapshot_id, tags):
        tag = getattr(self._client, 'tag_snapshot', None)
        if tag is None:
            LOG.warning('The backend client cannot tag snapshots; snapshot '
                        '%s stays untagged.', snapshot_id)
            return
        tag(snapshot_id, tags)

    def _untag_snapshot(self, snapshot_id, keys):
        untag = getattr(self._client, 'untag_snapshot', None)
        if untag is not None:
            untag(snapshot_id, keys)

    def manageable_snapshots(self, cinder_snapshots, marker, limit, offset,
                             sort_keys, sort_dirs):
        by_id = {s.provider_id: s.id for s in cinder_snapshots or []
                 if s.provider_id}
        disks = {d['DiskId']: d for d in self._zone_disks()}
        entries = []
        for snap in self._client.list_snapshots():
            source = snap.get('SourceDiskId')
            if source not in disks:
                continue
            snap_id = snap['SnapshotId']
            cinder_id = (by_id.get(snap_id) or
                         naming.tags_of(snap).get(naming.SNAPSHOT_TAG))
            reason = None
            if cinder_id:
                reason = _('Already managed by Cinder.')
            elif not naming.tags_of(disks[source]).get(naming.VOLUME_TAG):
                reason = _('The source disk is not a Cinder volume.')
            elif snap.get('Status') != SNAPSHOT_ACCOMPLISHED:
                reason = _('Snapshot status is %s.') % snap.get('Status')
            entries.append({
                'reference': {SOURCE_ID: snap_id},
                'size': int(snap.get('SourceDiskSize') or 0),
                'safe_to_manage': reason is None,
                'reason_not_safe': reason,
                'cinder_id': cinder_id,
                'source_reference': {SOURCE_ID: source},
                'extra_info': {'name': snap.get('SnapshotName')},
            })
        return volume_utils.paginate_entries_list(
            entries, marker, limit, offset, sort_keys, sort_dirs)
