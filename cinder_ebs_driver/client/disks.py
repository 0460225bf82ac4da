"""ECS disk calls of the backend client.

Create, describe, attach, detach, resize, change and tag EBS disks.
CreateDisk and ResizeDisk carry a ClientToken derived from the operation:
ECS answers a repeated call with the first one's result.  The attach,
detach and spec calls have none in the ECS API: when a repeated attempt is
refused, each tells from the disk's state whether an earlier attempt did
the job.
"""

import functools
import json

from alibabacloud_ecs20140526 import models as ecs_models

from cinder_ebs_driver.client import calls
from cinder_ebs_driver import exception
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import naming

MULTI_ATTACH_ENABLED = 'Enabled'
MULTI_ATTACH_DISABLED = 'Disabled'

# Disk statuses of ECS.
DISK_AVAILABLE = 'Available'
DISK_IN_USE = 'In_use'
DISK_ATTACHING = 'Attaching'
DISK_DETACHING = 'Detaching'
DISK_CREATING = 'Creating'
DISK_REINITING = 'ReIniting'

# The refusal of a DetachDisk while the same detach is under way.
DETACHING_FROM_THIS_INSTANCE = 'InvalidOperation.DiskDetachingFromThisEcs'

RESOURCE_TYPE_DISK = 'disk'


def attached_instance_ids(disk):
    """The ids of the instances a disk (a DescribeDisks item) is attached to.

    Reads ``Attachments`` (every attachment of a multi-attach disk) and,
    for answers that only name one instance, ``InstanceId``.
    """
    disk = disk or {}
    ids = []
    attachments = disk.get('Attachments') or {}
    if isinstance(attachments, dict):
        attachments = attachments.get('Attachment') or []
    for attachment in attachments:
        instance_id = attachment.get('InstanceId')
        if instance_id and instance_id not in ids:
            ids.append(instance_id)
    if disk.get('InstanceId') and disk['InstanceId'] not in ids:
        ids.append(disk['InstanceId'])
    return ids


def describe_disk(disk):
    """A disk's state in words, for a timeout error."""
    if disk is None:
        return _('disk deleted')
    return _('status %(status)s, attached to %(instances)s') % {
        'status': disk.get('Status'),
        'instances': ', '.join(attached_instance_ids(disk)) or _('nothing')}


class DiskCalls(object):
    """Disk calls; mixed into :class:`~cinder_ebs_driver.client.EBSClient`.

    Needs the calling machinery of
    :class:`~cinder_ebs_driver.client.calls.BaseClient` and, for the
    attach retry check, the waiters' ``_poll``.
    """

    def create_disk(self, name, size_gb, category, performance_level,
                    multi_attach, client_token, description=None, tags=None,
                    snapshot_id=None, encrypted=False,
                    provisioned_iops=None):
        """Create a data disk in the configured zone; answer its id.

        :param size_gb: size in GiB; may be None with ``snapshot_id`` (the
            snapshot's size).
        :param performance_level: ``PL0``..``PL3`` or None.
        :param multi_attach: whether several instances may attach it; fixed
            for the disk's life.
        :param client_token: idempotency token (at most 64 ASCII
            characters), the same for every try of the same creation.
        :param tags: dict of tag key to value.
        :param provisioned_iops: ESSD AutoPL's ProvisionedIops, or None.
        """
        request = ecs_models.CreateDiskRequest(
            region_id=self._region_id,
            zone_id=self._zone_id,
            disk_name=name,
            size=size_gb,
            disk_category=category,
            performance_level=performance_level,
            multi_attach=(MULTI_ATTACH_ENABLED if multi_attach
                          else MULTI_ATTACH_DISABLED),
            client_token=client_token,
            description=description,
            tag=self._tags(ecs_models.CreateDiskRequestTag, tags),
            snapshot_id=snapshot_id,
            encrypted=True if encrypted else None,
            provisioned_iops=provisioned_iops or None)
        return self._call('CreateDisk', request)['DiskId']

    def delete_disk(self, disk_id):
        """Delete a disk.

        :raises EBSNotFound: when the disk does not exist (any more).
        """
        self._call('DeleteDisk', ecs_models.DeleteDiskRequest(disk_id=disk_id))

    def get_disk(self, disk_id):
        """The DescribeDisks item of a disk.

        :raises EBSNotFound: when the disk does not exist.
        """
        request = ecs_models.DescribeDisksRequest(
            region_id=self._region_id, disk_ids=json.dumps([disk_id]))
        body = self._call('DescribeDisks', request)
        for disk in (body.get('Disks') or {}).get('Disk') or []:
            if disk.get('DiskId') == disk_id:
                return disk
        raise exception.EBSNotFound(
            action='DescribeDisks', code='InvalidDiskId.NotFound',
            error_message=_('The disk %s does not exist.') % disk_id,
            request_id=body.get('RequestId'))

    def _find_disk(self, disk_id):
        """The disk, or None when it does not exist."""
        try:
            return self.get_disk(disk_id)
        except exception.EBSNotFound:
            return None

    def list_disks(self, disk_ids=None, tags=None, status=None,
                   source_snapshot_id=None):
        """DescribeDisks items of the region, every page.

        :param disk_ids: only these disks (an empty list: none).
        :param tags: dict of tag key to value that every disk must carry
            (a value of None: any value of that key).
        :param status: only disks in this status.
        :param source_snapshot_id: only disks created from this snapshot.
        """
        filters = dict(tags=tags, status=status,
                       source_snapshot_id=source_snapshot_id)
        if disk_ids is not None:
            disks = []
            for chunk in calls.chunks(disk_ids, calls.MAX_IDS_PER_CALL):
                disks.extend(self._list_disks(chunk, **filters))
            return disks
        return self._list_disks(None, **filters)

    def _list_disks(self, disk_ids, tags, status, source_snapshot_id):
        def make_request(page_number, page_size):
            return ecs_models.DescribeDisksRequest(
                region_id=self._region_id,
                disk_ids=json.dumps(disk_ids) if disk_ids else None,
                tag=self._tags(ecs_models.DescribeDisksRequestTag, tags),
                status=status,
                snapshot_id=source_snapshot_id,
                page_number=page_number,
                page_size=page_size)
        return self._paginate('DescribeDisks', make_request, 'Disks', 'Disk',
                              'DiskId')

    def attach_disk(self, disk_id, instance_id):
        """Start attaching a disk to an instance (see wait_for_attachment)."""
        def already_done(error):
            disk = self.get_disk(disk_id)
            if (disk.get('Status') == DISK_ATTACHING
                    and instance_id not in attached_instance_ids(disk)):
                # An attachment in progress is not listed yet: it may be
                # the one of the earlier attempt.
                disk = self._poll(
                    functools.partial(self.get_disk, disk_id),
                    lambda d: d.get('Status') != DISK_ATTACHING,
                    _('disk %s to finish attaching') % disk_id,
                    describe_disk, None)
            return instance_id in attached_instance_ids(disk)
        request = ecs_models.AttachDiskRequest(disk_id=disk_id,
                                               instance_id=instance_id)
        self._call('AttachDisk', request, already_done=already_done)

    def detach_disk(self, disk_id, instance_id):
        """Start detaching a disk from an instance."""
        def already_done(error):
            if error.code == DETACHING_FROM_THIS_INSTANCE:
                return True
            disk = self._find_disk(disk_id)
            return (disk is None
                    or instance_id not in attached_instance_ids(disk))
        request = ecs_models.DetachDiskRequest(disk_id=disk_id,
                                               instance_id=instance_id)
        self._call('DetachDisk', request, already_done=already_done)

    def resize_disk(self, disk_id, new_size_gb, online=False,
                    client_token=None):
        """Grow a disk to ``new_size_gb`` GiB.

        :param online: resize an attached disk without restarting (the
            ``online`` type); otherwise ``offline``.
        :param client_token: idempotency token; by default one derived
            from the disk and the new size, so that a call repeated after
            a lost answer gets the first call's answer from ECS.
        """
        if client_token is None:
            client_token = naming.client_token(
                'cinder-resize', '%s-%d' % (disk_id, new_size_gb))
        request = ecs_models.ResizeDiskRequest(
            disk_id=disk_id, new_size=new_size_gb,
            type='online' if online else 'offline',
            client_token=client_token)
        self._call('ResizeDisk', request)

    def modify_disk_spec(self, disk_id, performance_level=None,
                         category=None, provisioned_iops=None):
        """Change a disk's level, category or provisioned IOPS in place."""
        def already_done(error):
            disk = self.get_disk(disk_id)
            return ((performance_level is None
                     or disk.get('PerformanceLevel') == performance_level)
                    and (category is None
                         or disk.get('Category') == category)
                    and (provisioned_iops is None
                         or disk.get('ProvisionedIops') == provisioned_iops))
        request = ecs_models.ModifyDiskSpecRequest(
            disk_id=disk_id, performance_level=performance_level,
            disk_category=category, provisioned_iops=provisioned_iops)
        self._call('ModifyDiskSpec', request, already_done=already_done)

    def modify_disk_attribute(self, disk_id, name=None, description=None):
        """Rename a disk or change its description."""
        request = ecs_models.ModifyDiskAttributeRequest(
            disk_id=disk_id, disk_name=name, description=description)
        self._call('ModifyDiskAttribute', request)

    def tag_disk(self, disk_id, tags):
        """Add or overwrite tags (dict of key to value) on a disk."""
        self._tag(RESOURCE_TYPE_DISK, disk_id, tags)

    def untag_disk(self, disk_id, keys):
        """Remove the tags with these keys from a disk."""
        self._untag(RESOURCE_TYPE_DISK, disk_id, keys)

    def reset_disk(self, disk_id, snapshot_id):
        """Roll a disk back to one of its snapshots (disk not attached)."""
        request = ecs_models.ResetDiskRequest(disk_id=disk_id,
                                              snapshot_id=snapshot_id)
        self._call('ResetDisk', request)
