"""What a disk that was never attached holds, and the snapshots kept for it.

ECS refuses to snapshot a disk that has never been attached to an
instance (``IncorrectDiskStatus.NeverAttached``, CreateSnapshot
reference).  Such a disk still holds exactly what it was created with:
the snapshot it was created from (``SourceSnapshotId``) followed by
zeros, or only zeros.  So a snapshot or a clone of it is made from that
origin, with no attach and no copy: a Cinder snapshot records the
origin's ECS snapshot as its own (or :data:`EMPTY` for a blank disk),
and a clone is a disk created from it.

An ECS snapshot may then be needed by several Cinder objects: the Cinder
snapshots that record it (their ``provider_id``), and every disk made
from it that has not been attached yet (a later snapshot or clone of that
disk needs it).  :meth:`OriginKeeper.release` deletes one of the driver's
snapshots only when none is left; otherwise it tags the snapshot
``cinder-retained``, and :meth:`OriginKeeper.sweep` (run with the stats)
releases it once its last user is gone or attached.
"""

from cinder import context as cinder_context
from cinder.db import api as cinder_db
from cinder import exception
from oslo_log import log as logging

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import naming

LOG = logging.getLogger(__name__)

# The CreateSnapshot refusal for a disk never attached to an instance.
NEVER_ATTACHED = 'IncorrectDiskStatus.NeverAttached'
# provider_id of a Cinder snapshot of a blank disk never attached: no ECS
# snapshot holds zeros, and none is needed to make them again.
EMPTY = 'empty'
RETAINED_TAG = 'cinder-retained'


def is_never_attached_refusal(error):
    return getattr(error, 'code', None) == NEVER_ATTACHED


def describe(origin):
    """An origin in words, for the logs."""
    return 'an empty disk' if origin == EMPTY else 'snapshot %s' % origin


def never_attached(disk):
    """Whether a DescribeDisks item shows no attachment ever."""
    return not (disk.get('AttachedTime') or disk.get('DetachedTime')
                or ebs_client.attached_instance_ids(disk))


def _cinder_snapshot_refs(provider_id):
    """Ids of the Cinder snapshots (not deleted) recording an ECS one."""
    ctxt = cinder_context.get_admin_context()
    return [row.id for row in cinder_db.snapshot_get_all(
        ctxt, filters={'provider_id': provider_id})]


def _ours(snapshot):
    tags = naming.tags_of(snapshot)
    return bool(tags.get(naming.SNAPSHOT_TAG) or tags.get(RETAINED_TAG)
                or tags.get(naming.CLONE_TAG))


class OriginKeeper(object):
    """Origins of never-attached disks and the life of shared snapshots.

    :param snapshot_refs: ``snapshot_refs(ecs_snapshot_id)`` answers the
        ids of the Cinder snapshots recording that ECS snapshot (Cinder's
        database by default).
    """

    def __init__(self, client, snapshot_refs=None):
        self._client = client
        self._snapshot_refs = snapshot_refs or _cinder_snapshot_refs

    def origin(self, disk_id, purpose):
        """The ECS snapshot a never-attached disk holds, or :data:`EMPTY`.

        :param purpose: what the origin is for, for the error message.
        :raises InvalidVolume: when the disk was made from a snapshot that
            no longer exists (nothing can reproduce its data then).
        """
        disk = self._client.get_disk(disk_id)
        source = disk.get('SourceSnapshotId')
        if not source:
            return EMPTY
        try:
            self._client.get_snapshot(source)
        except ebs_exc.EBSNotFound:
            msg = (_('Cannot %(purpose)s: disk %(disk)s has never been '
                     'attached to an instance, which ECS needs before it '
                     'can snapshot a disk, and snapshot %(snap)s it was '
                     'created from no longer exists. Attach the volume '
                     'once, then try again.') %
                   {'purpose': purpose, 'disk': disk_id, 'snap': source})
            LOG.error(msg)
            raise exception.InvalidVolume(reason=msg)
        return source

    def users(self, snapshot_id, leaving=None):
        """What still needs an ECS snapshot, in words.

        :param leaving: the id of a Cinder snapshot or of a disk that is
            going away and does not count.
        :returns: (Cinder snapshots, never-attached disks) that need it.
        """
        snapshots = ['Cinder snapshot %s' % ref
                     for ref in self._snapshot_refs(snapshot_id)
                     if ref != leaving]
        disks = self._client.list_disks(source_snapshot_id=snapshot_id)
        disks = ['disk %s (never attached)' % disk['DiskId']
                 for disk in disks
                 if disk.get('DiskId') != leaving and never_attached(disk)]
        return snapshots, disks

    def release(self, snapshot_id, leaving=None):
        """Delete one of the driver's ECS snapshots unless still needed.

        :returns: True when it is gone.
        """
        try:
            snapshot = self._client.get_snapshot(snapshot_id)
        except ebs_exc.EBSNotFound:
            return True
        if not _ours(snapshot):
            LOG.info('Snapshot %s was not made by Cinder; leaving it.',
                     snapshot_id)
            return False
        snapshots, disks = self.users(snapshot_id, leaving)
        if snapshots or disks:
            LOG.info('Keeping snapshot %(snap)s: %(users)s still need it.',
                     {'snap': snapshot_id,
                      'users': ', '.join(snapshots + disks)})
            # Only disks: nothing else would release it once they are
            # attached or gone; the stats' sweep looks at it again.
            if not snapshots and not naming.tags_of(snapshot).get(
                    RETAINED_TAG):
                self._client.tag_snapshot(snapshot_id, {RETAINED_TAG: 'true'})
            return False
        try:
            # Force: disks made from it keep their data; ECS only can no
            # longer re-initialise them (DeleteSnapshot reference).
            self._client.delete_snapshot(snapshot_id, force=True)
        except ebs_exc.EBSNotFound:
            pass
        LOG.info('Deleted snapshot %s.', snapshot_id)
        return True

    def sweep(self):
        """Release every retained snapshot that nothing needs any more."""
        retained = self._client.list_snapshots(tags={RETAINED_TAG: None})
        released = 0
        for snapshot in retained:
            try:
                if self.release(snapshot['SnapshotId']):
                    released += 1
            except exception.VolumeBackendAPIException as err:
                LOG.warning('Could not release retained snapshot %(snap)s: '
                            '%(err)s', {'snap': snapshot['SnapshotId'],
                                        'err': err})
        return released
