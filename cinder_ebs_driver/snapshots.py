"""Snapshots of Cinder volumes as EBS snapshots.

A volume whose disk was never attached has the data it was created with;
its snapshot records that origin instead (see
:mod:`~cinder_ebs_driver.origins`).
"""

from cinder import exception
from oslo_log import log as logging
from oslo_utils import excutils

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import naming
from cinder_ebs_driver import origins

LOG = logging.getLogger(__name__)


class SnapshotOps(object):
    """Snapshot operations on EBS snapshots."""

    def __init__(self, client, conf, volume_ops, origin_keeper):
        self._client = client
        self._conf = conf
        self._volumes = volume_ops
        self._origins = origin_keeper

    def find_snapshots(self, snapshot):
        found = self._client.list_snapshots(
            tags=naming.snapshot_tags(snapshot))
        return [s['SnapshotId'] for s in found if s.get('SnapshotId')]

    def snapshot_id(self, snapshot):
        if snapshot.provider_id:
            return snapshot.provider_id
        found = self.find_snapshots(snapshot)
        if len(found) == 1:
            return found[0]
        msg = (_('Snapshot %(snap)s has no EBS snapshot (provider_id is '
                 'empty and %(count)d snapshots carry its tag).') %
               {'snap': snapshot.id, 'count': len(found)})
        LOG.error(msg)
        raise exception.InvalidSnapshot(reason=msg)

    def create(self, snapshot):
        disk_id = self._volumes.disk_id(snapshot.volume)
        try:
            snapshot_id = self._client.create_snapshot(
                disk_id, name=snapshot.name,
                client_token=naming.client_token('cinder-snap', snapshot.id),
                description=naming.snapshot_description(snapshot),
                tags=naming.snapshot_tags(snapshot))
        except ebs_exc.EBSBackendError as error:
            if not origins.is_never_attached_refusal(error):
                with excutils.save_and_reraise_exception():
                    self._remove_orphans(snapshot)
            return self._record_origin(snapshot, disk_id)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._remove_orphans(snapshot)
        try:
            self._client.wait_for_snapshot(snapshot_id)
        except Exception:
            with excutils.save_and_reraise_exception():
                LOG.error('Snapshot %(id)s of disk %(disk)s did not '
                          'complete; deleting it.',
                          {'id': snapshot_id, 'disk': disk_id})
                self._delete_quietly(snapshot_id)
        LOG.info('Created snapshot %(id)s of disk %(disk)s for Cinder '
                 'snapshot %(snap)s.', {'id': snapshot_id, 'disk': disk_id,
                                        'snap': snapshot.id})
        return {'provider_id': snapshot_id}

    def _record_origin(self, snapshot, disk_id):
        """A snapshot of a disk never attached: what it was made from."""
        origin = self._origins.origin(
            disk_id, _('snapshot volume %s') % snapshot.volume_id)
        LOG.info('Disk %(disk)s has never been attached, so ECS cannot '
                 'snapshot it; Cinder snapshot %(snap)s records %(origin)s, '
                 'which holds the same data.',
                 {'disk': disk_id, 'snap': snapshot.id,
                  'origin': origins.describe(origin)})
        return {'provider_id': origin}

    def _remove_orphans(self, snapshot):
        try:
            for snapshot_id in self.find_snapshots(snapshot):
                self._delete_quietly(snapshot_id)
        except Exception as err:
            LOG.warning('Could not look for snapshots of %(snap)s left by '
                        'a failed create: %(err)s',
                        {'snap': snapshot.id, 'err': err})

    def _delete_quietly(self, snapshot_id):
        try:
            self._client.delete_snapshot(snapshot_id, force=True)
        except ebs_exc.EBSNotFound:
            pass
        except Exception as err:
            LOG.warning('Could not delete snapshot %(snap)s: %(err)s',
                        {'snap': snapshot_id, 'err': err})

    def delete(self, snapshot):
        """Delete the ECS snapshot, unless others still need it.

        It may be recorded by other Cinder snapshots, or hold the data of
        disks made from it that were never attached (see
        :mod:`~cinder_ebs_driver.origins`).
        """
        if snapshot.provider_id == origins.EMPTY:
            return
        ids = ([snapshot.provider_id] if snapshot.provider_id
               else self.find_snapshots(snapshot))
        for snapshot_id in ids:
            self._origins.release(snapshot_id, leaving=snapshot.id)
