"""Render database rows as ECS response items (DescribeDisks & co.)."""

import time

from ebs_emulator import devices
from ebs_emulator import performance

# Attachment states listed in a disk's Attachments: an attachment in
# progress is not listed yet; a detach in progress still is.
VISIBLE_ATTACHMENTS = ('attached', 'detaching')


def ecs_time(epoch):
    """ECS timestamps: UTC, ISO 8601, e.g. 2024-05-01T08:30:12Z."""
    if not epoch:
        return ''
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


def disk_status(disk):
    """The ECS status of a disk, derived from its attachments."""
    if disk.status != 'Available':
        return disk.status          # Creating or ReIniting
    states = {attachment.state for attachment in disk.attachments}
    if 'attaching' in states:
        return 'Attaching'
    if 'detaching' in states and 'attached' not in states:
        return 'Detaching'
    if 'attached' in states or 'detaching' in states:
        return 'In_use'
    return 'Available'


def tags_view(tags):
    return {'Tag': [{'TagKey': tag.key, 'TagValue': tag.value}
                    for tag in tags]}


def disk_view(disk, tags, readings):
    iops, throughput = performance.limits(
        disk.category, disk.performance_level, disk.size,
        disk.provisioned_iops, readings)
    visible = [attachment for attachment in disk.attachments
               if attachment.state in VISIBLE_ATTACHMENTS]
    single = visible[0] if visible and not disk.multi_attach else None
    view = {
        'DiskId': disk.id,
        'DiskName': disk.name,
        'Description': disk.description,
        'Size': disk.size,
        'Category': disk.category,
        'PerformanceLevel': disk.performance_level,
        'Status': disk_status(disk),
        'Type': 'data',
        'MultiAttach': 'Enabled' if disk.multi_attach else 'Disabled',
        'IOPS': iops,
        'Throughput': throughput,
        'Attachments': {'Attachment': [
            {'InstanceId': attachment.instance_id,
             'Device': attachment.device,
             'AttachedTime': ecs_time(attachment.attached_at)}
            for attachment in visible]},
        'MountInstanceNum': len(visible),
        'InstanceId': single.instance_id if single else '',
        'Device': single.device if single else '',
        # The last attach and detach: never attached, both are empty.
        'AttachedTime': ecs_time(disk.attached_at),
        'DetachedTime': ecs_time(disk.detached_at),
        'DeleteWithInstance': bool(single and single.delete_with_instance),
        'Tags': tags_view(tags),
        'SerialNumber': devices.serial_of(disk.id),
        'Encrypted': disk.encrypted,
        'KMSKeyId': '',
        'ZoneId': disk.zone_id,
        'RegionId': disk.region_id,
        'SourceSnapshotId': disk.source_snapshot_id,
        'ImageId': '',
        'CreationTime': ecs_time(disk.created_at),
        'Portable': True,
        'DiskChargeType': 'PostPaid',
        'DeleteAutoSnapshot': disk.delete_auto_snapshot,
        'EnableAutoSnapshot': disk.enable_auto_snapshot,
        'ResourceGroupId': '',
        'OperationLocks': {'OperationLock': []},
    }
    if disk.category == performance.AUTOPL:
        view['ProvisionedIops'] = disk.provisioned_iops or 0
        view['BurstingEnabled'] = bool(disk.bursting_enabled)
    return view


def snapshot_view(snapshot, tags, in_use):
    done = snapshot.status == 'accomplished'
    return {
        'SnapshotId': snapshot.id,
        'SnapshotName': snapshot.name,
        'Description': snapshot.description,
        'SourceDiskId': snapshot.source_disk_id,
        # ECS returns SourceDiskSize as a string.
        'SourceDiskSize': str(snapshot.source_disk_size),
        'SourceDiskType': 'data',
        'SourceStorageType': 'disk',
        'Status': snapshot.status,
        'Progress': '100%' if done else '0%',
        'RemainTime': 0,
        'Available': done,
        'Usage': 'disk' if in_use else 'none',
        'Category': 'standard',
        'SnapshotType': 'user',
        'InstantAccess': False,
        'Encrypted': snapshot.encrypted,
        'RegionId': snapshot.region_id,
        'CreationTime': ecs_time(snapshot.created_at),
        'Tags': tags_view(tags),
    }


def instance_view(instance, region_id):
    return {
        'InstanceId': instance['InstanceId'],
        'InstanceName': instance.get('HostName', instance['InstanceId']),
        'HostName': instance.get('HostName', ''),
        'SerialNumber': instance.get('SerialNumber', ''),
        'ZoneId': instance['ZoneId'],
        'RegionId': region_id,
        'Status': 'Running',
        'InstanceType': 'ecs.g7se.large',
        'OSType': 'linux',
        'Tags': {'Tag': []},
    }
