"""ECS snapshot calls of the backend client."""

import json

from alibabacloud_ecs20140526 import models as ecs_models

from cinder_ebs_driver.client import calls
from cinder_ebs_driver import exception
from cinder_ebs_driver.i18n import _

# Snapshot statuses of ECS.
SNAPSHOT_ACCOMPLISHED = 'accomplished'
SNAPSHOT_FAILED = 'failed'

RESOURCE_TYPE_SNAPSHOT = 'snapshot'


class SnapshotCalls(object):
    """Snapshot calls; mixed into :class:`~cinder_ebs_driver.client.EBSClient`.

    Needs the calling machinery of
    :class:`~cinder_ebs_driver.client.calls.BaseClient`.
    """

    def create_snapshot(self, disk_id, name, client_token, description=None,
                        tags=None):
        """Start a snapshot of a disk; answer its id.

        :param client_token: idempotency token, the same for every try of
            the same snapshot.
        """
        request = ecs_models.CreateSnapshotRequest(
            disk_id=disk_id, snapshot_name=name, client_token=client_token,
            description=description,
            tag=self._tags(ecs_models.CreateSnapshotRequestTag, tags))
        return self._call('CreateSnapshot', request)['SnapshotId']

    def delete_snapshot(self, snapshot_id, force=False):
        """Delete a snapshot.

        :param force: also when disks were created from it (ECS refuses
            that without ``Force``; those disks keep their data but can no
            longer be re-initialised).
        :raises EBSNotFound: when the snapshot does not exist (any more).
        """
        self._call('DeleteSnapshot', ecs_models.DeleteSnapshotRequest(
            snapshot_id=snapshot_id, force=True if force else None))

    def get_snapshot(self, snapshot_id):
        """The DescribeSnapshots item of a snapshot.

        :raises EBSNotFound: when the snapshot does not exist.
        """
        request = ecs_models.DescribeSnapshotsRequest(
            region_id=self._region_id,
            snapshot_ids=json.dumps([snapshot_id]))
        body = self._call('DescribeSnapshots', request)
        for snapshot in (body.get('Snapshots') or {}).get('Snapshot') or []:
            if snapshot.get('SnapshotId') == snapshot_id:
                return snapshot
        raise exception.EBSNotFound(
            action='DescribeSnapshots', code='InvalidSnapshotId.NotFound',
            error_message=_('The snapshot %s does not exist.') % snapshot_id,
            request_id=body.get('RequestId'))

    def list_snapshots(self, disk_id=None, snapshot_ids=None, tags=None):
        """DescribeSnapshots items of the region, every page.

        :param disk_id: only snapshots of this disk.
        :param snapshot_ids: only these snapshots (an empty list: none).
        :param tags: dict of tag key to value that every snapshot carries.
        """
        if snapshot_ids is not None:
            snapshots = []
            for chunk in calls.chunks(snapshot_ids, calls.MAX_IDS_PER_CALL):
                snapshots.extend(self._list_snapshots(disk_id, chunk, tags))
            return snapshots
        return self._list_snapshots(disk_id, None, tags)

    def _list_snapshots(self, disk_id, snapshot_ids, tags):
        def make_request(page_number, page_size):
            return ecs_models.DescribeSnapshotsRequest(
                region_id=self._region_id,
                disk_id=disk_id,
                snapshot_ids=(json.dumps(snapshot_ids) if snapshot_ids
                              else None),
                tag=self._tags(ecs_models.DescribeSnapshotsRequestTag, tags),
                page_number=page_number,
                page_size=page_size)
        return self._paginate('DescribeSnapshots', make_request, 'Snapshots',
                              'Snapshot', 'SnapshotId')

    def tag_snapshot(self, snapshot_id, tags):
        """Add or overwrite tags (dict of key to value) on a snapshot."""
        self._tag(RESOURCE_TYPE_SNAPSHOT, snapshot_id, tags)

    def untag_snapshot(self, snapshot_id, keys):
        """Remove the tags with these keys from a snapshot."""
        self._untag(RESOURCE_TYPE_SNAPSHOT, snapshot_id, keys)
