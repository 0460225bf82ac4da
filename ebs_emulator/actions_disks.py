"""Disk actions: CreateDisk, DeleteDisk, DescribeDisks, ResizeDisk,
ModifyDiskSpec and ModifyDiskAttribute."""

import sqlalchemy as sa

from ebs_emulator import categories
from ebs_emulator import db
from ebs_emulator import exception
from ebs_emulator import idempotency
from ebs_emulator import ids
from ebs_emulator import lookup
from ebs_emulator import paging
from ebs_emulator import params as params_mod
from ebs_emulator import performance
from ebs_emulator import rules
from ebs_emulator import tagging
from ebs_emulator import views

DISK_STATUSES = ('In_use', 'Available', 'Attaching', 'Detaching',
                 'Creating', 'ReIniting')


def _name_and_description(params):
    name = params.str('DiskName')
    if name is not None and not params_mod.valid_name(name):
        raise exception.invalid_disk_name()
    description = params.str('Description')
    if description is not None and not params_mod.valid_description(
            description):
        raise exception.invalid_description()
    return name, description


def _zone_for(request, category):
    zone = request.params.str('ZoneId')
    if category in categories.REGIONAL_CATEGORIES:
        zone = zone or request.service.zone_id
    elif zone is None:
        raise rules.CREATE_ZONE.error()
    if zone not in request.service.zones:
        raise rules.CREATE_ZONE_EXISTS.error()
    return zone


def _check_multi_attach_category(request, category):
    for rule in (rules.CREATE_MULTI_ATTACH_GUIDE,
                 rules.CREATE_MULTI_ATTACH_ESSD):
        if (request.applies(rule) and not categories.supports_multi_attach(
                category, request.service.readings)):
            raise rule.error()


def create_disk(request):
    params = request.params
    lookup.check_region(request)
    token = idempotency.client_token(params)
    earlier = idempotency.previous_result(request, 'CreateDisk', token)
    if earlier:
        return {'DiskId': earlier, 'OrderId': ''}

    if params.has('InstanceId'):
        # Not an ECS rule: the emulator makes pay-as-you-go disks only.
        raise exception.invalid_parameter(
            'InstanceId', 'Only pay-as-you-go disks are supported: create '
            'the disk in a zone, then call AttachDisk.')
    category = categories.validate_category(
        params.str('DiskCategory', default='cloud'))
    zone = _zone_for(request, category)
    level = categories.performance_level_for(
        category, params.str('PerformanceLevel'))
    multi_attach = params.choice(
        'MultiAttach', ('Enabled', 'Disabled'), default='Disabled',
        error=exception.invalid_multi_attach) == 'Enabled'
    if multi_attach:
        _check_multi_attach_category(request, category)
    encrypted = params.bool('Encrypted', default=False)
    name, description = _name_and_description(params)
    tags = params.tags()
    size = params.int('Size', minimum=1, error=exception.invalid_size)
    snapshot = None
    if params.has('SnapshotId'):
        snapshot = lookup.get_snapshot(request)
        if snapshot.status != 'accomplished':
            raise rules.CREATE_SNAPSHOT_READY.error()
        if (size is not None and size < snapshot.source_disk_size and
                request.applies(rules.CREATE_SIZE_BELOW_SNAPSHOT)):
            raise rules.CREATE_SIZE_BELOW_SNAPSHOT.error()
        # A disk is never smaller than the snapshot it comes from.
        size = max(size or 0, snapshot.source_disk_size)
    elif size is None:
        raise rules.CREATE_SIZE_OR_SNAPSHOT.error()
    categories.check_size(category, level, size)
    provisioned_iops, bursting = _performance_options(
        request, category, size, multi_attach)

    disk_id = ids.new_disk_id()
    request.session.add(db.Disk(
        id=disk_id, region_id=request.service.region_id, zone_id=zone,
        name=name or '', description=description or '', size=size,
        category=category, performance_level=level,
        multi_attach=multi_attach, encrypted=encrypted, status='Creating',
        due_at=request.due(), created_at=request.now,
        source_snapshot_id=snapshot.id if snapshot else '',
        provisioned_iops=provisioned_iops, bursting_enabled=bursting))
    request.session.flush()
    tagging.set_tags(request.session, 'disk', disk_id, tags, request.now)
    idempotency.remember(request, 'CreateDisk', token, disk_id)
    blocks = request.service.blocks
    if snapshot:
        blocks.restore(disk_id, lookup.snapshot_manifest(
            request.session, snapshot.id), size)
    else:
        blocks.create_disk(disk_id, size)
    return {'DiskId': disk_id, 'OrderId': ''}


def _performance_options(request, category, size, multi_attach):
    """CreateDisk's ProvisionedIops and BurstingEnabled, checked.

    :returns: (provisioned IOPS, bursting) for an AutoPL disk, else
        (None, None).
    """
    params = request.params
    provisioned = params.int('ProvisionedIops', minimum=0,
                             error=rules.CREATE_PROVISIONED_LIMIT.error)
    bursting = params.bool('BurstingEnabled')
    if category != performance.AUTOPL:
        if provisioned is not None:
            raise rules.CREATE_PROVISIONED_CATEGORY.error()
        if bursting is not None:
            raise rules.CREATE_BURSTING_CATEGORY.error()
        return None, None
    if provisioned and provisioned > performance.max_provisioned_iops(
            size, request.service.readings):
        raise rules.CREATE_PROVISIONED_LIMIT.error()
    if bursting:
        if multi_attach:
            raise rules.CREATE_BURSTING_MULTI_ATTACH.error()
        if size <= performance.SMALLEST_TUNABLE_SIZE:
            raise rules.CREATE_BURSTING_SIZE.error()
    return provisioned or 0, bool(bursting)


def delete_disk(request):
    disk = lookup.find_disk(request)
    if disk is None:
        if request.applies(rules.DELETE_DISK_IGNORED):
            return {}
        raise rules.DELETE_DISK_EXISTS.error()
    if views.disk_status(disk) != 'Available':
        raise rules.DELETE_DISK_AVAILABLE.error(
            'The disk must be Available to be released; it is %s.'
            % views.disk_status(disk))
    tagging.remove_tags(request.session, 'disk', disk.id)
    request.session.delete(disk)
    disk_id = disk.id
    request.after_commit.append(
        lambda: request.service.blocks.delete_disk(disk_id))
    request.after_commit.append(
        lambda: request.service.devices.forget(disk_id))
    return {}


def _attachment_exists(*conditions):
    return sa.exists().where(db.Attachment.disk_id == db.Disk.id,
                             *conditions)


def _status_condition(status):
    """SQL for "the disk's ECS status is ``status``" (see disk_status)."""
    if status not in ('Attaching', 'Detaching', 'In_use', 'Available'):
        return db.Disk.status == status          # Creating, ReIniting
    state = db.Attachment.state
    attaching = _attachment_exists(state == 'attaching')
    if status == 'Attaching':
        extra = attaching
    elif status == 'Detaching':
        extra = sa.and_(~attaching, _attachment_exists(state == 'detaching'),
                        ~_attachment_exists(state == 'attached'))
    elif status == 'In_use':
        extra = sa.and_(~attaching, _attachment_exists(state == 'attached'))
    else:
        extra = ~_attachment_exists()
    return sa.and_(db.Disk.status == 'Available', extra)


def _disk_filters(request):
    """The SQL conditions of DescribeDisks' filters."""
    params = request.params
    wanted_ids = params.json_list('DiskIds', max_items=100,
                                  error=exception.invalid_disk_ids)
    status = params.choice('Status', DISK_STATUSES + ('All',))
    category = params.str('Category')
    if category is not None and category != 'all':
        categories.validate_category(category)
    else:
        category = None
    multi_attach = params.choice('MultiAttach',
                                 ('Enabled', 'Disabled', 'LegacyShared'))
    disk_type = params.choice('DiskType', ('all', 'system', 'data'))
    conditions = lookup.match_conditions(params, db.Disk, wanted_ids, (
        ('ZoneId', 'zone_id'), ('DiskName', 'name'),
        ('SnapshotId', 'source_snapshot_id'),
        ('PerformanceLevel', 'performance_level')))
    if status not in (None, 'All'):
        conditions.append(_status_condition(status))
    if category:
        conditions.append(db.Disk.category == category)
    if multi_attach:
        conditions.append(db.Disk.multi_attach == (multi_attach == 'Enabled'))
    encrypted = params.bool('Encrypted')
    if encrypted is not None:
        conditions.append(db.Disk.encrypted == encrypted)
    # No system disks here, and every disk is portable.
    if disk_type == 'system' or params.bool('Portable') is False:
        conditions.append(sa.false())
    instance_id = params.str('InstanceId')
    if instance_id is not None:
        conditions.append(_attachment_exists(
            db.Attachment.instance_id == instance_id,
            db.Attachment.state.in_(views.VISIBLE_ATTACHMENTS)))
    conditions.extend(tagging.match_conditions('disk', db.Disk.id,
                                               params.tags()))
    return conditions


def describe_disks(request):
    lookup.check_region(request)
    query = (request.session.query(db.Disk)
             .filter(*_disk_filters(request))
             .order_by(db.Disk.created_at, db.Disk.id))
    page, fields = paging.paginate(request.params, query,
                                   clamp_results=True)
    tags = tagging.tags_by_resource(request.session, 'disk',
                                    [disk.id for disk in page])
    result = {'Disks': {'Disk': [
        views.disk_view(disk, tags.get(disk.id, []),
                        request.service.readings)
        for disk in page]}}
    result.update(fields)
    return result


def resize_disk(request):
    params = request.params
    token = idempotency.client_token(params)
    if idempotency.previous_result(request, 'ResizeDisk', token):
        return {}
    disk = lookup.get_disk(request)
    new_size = params.int('NewSize', required=True, minimum=1)
    online = params.choice(
        'Type', ('offline', 'online'), default='offline') == 'online'
    if lookup.snapshot_in_progress(request.session, disk.id):
        raise rules.RESIZE_SNAPSHOT_IN_PROGRESS.error()
    status = views.disk_status(disk)
    if online:
        if status != 'In_use':
            raise rules.RESIZE_ONLINE_IN_USE.error(
                'The current status of the resource does not support '
                'resize online.')
        if disk.multi_attach and request.applies(
                rules.RESIZE_MULTI_ATTACH_ONLINE):
            raise rules.RESIZE_MULTI_ATTACH_ONLINE.error()
    elif status != 'Available':
        # Not an ECS rule: the emulator's instances never restart, which
        # is when ECS applies an offline resize of an attached disk.
        raise exception.incorrect_disk_status(
            'An offline resize needs an Available disk; it is %s.' % status)
    if new_size < disk.size:
        raise rules.RESIZE_SMALLER.error()
    if new_size == disk.size:
        raise rules.RESIZE_BIGGER.error()
    if new_size > categories.max_size(disk.category):
        raise rules.RESIZE_MAX.error()
    idempotency.remember(request, 'ResizeDisk', token, disk.id)
    disk.size = new_size
    request.service.blocks.grow_disk(disk.id, new_size)
    request.service.devices.refresh(disk.id)
    # The baseline performance grows with the size.
    request.service.apply_limits(disk)
    return {}


def modify_disk_spec(request):
    disk = lookup.get_disk(request)
    params = request.params
    new_category = params.str('DiskCategory')
    new_level = params.str('PerformanceLevel')
    new_provisioned = params.int('ProvisionedIops', minimum=0,
                                 error=rules.SPEC_PROVISIONED_LIMIT.error)
    if new_category is None and new_level is None and new_provisioned is None:
        raise exception.missing_parameter('DiskCategory')
    if views.disk_status(disk) not in ('Available', 'In_use'):
        raise rules.SPEC_STATUS.error()
    if disk.multi_attach:
        raise rules.SPEC_MULTI_ATTACH.error()
    if lookup.snapshot_in_progress(request.session, disk.id):
        raise rules.SPEC_SNAPSHOT_IN_PROGRESS.error()
    category = categories.validate_category(new_category or disk.category)
    if new_level is not None and category != categories.ESSD:
        raise rules.SPEC_LEVEL_ESSD.error()
    if new_level is None and category == disk.category:
        new_level = disk.performance_level or None
    level = categories.performance_level_for(category, new_level)
    categories.check_size(category, level, disk.size)
    if category != performance.AUTOPL:
        if new_provisioned is not None:
            raise rules.SPEC_PROVISIONED_CATEGORY.error()
        disk.provisioned_iops = disk.bursting_enabled = None
    else:
        if new_provisioned is None:
            new_provisioned = disk.provisioned_iops or 0
        if new_provisioned > performance.max_provisioned_iops(
                disk.size, request.service.readings):
            raise rules.SPEC_PROVISIONED_LIMIT.error()
        disk.provisioned_iops = new_provisioned
        disk.bursting_enabled = bool(disk.bursting_enabled)
    disk.category = category
    disk.performance_level = level
    request.service.apply_limits(disk)
    return {'OrderId': '', 'TaskId': ''}


def modify_disk_attribute(request):
    params = request.params
    if params.has('DiskIds'):
        disk_ids = params.json_list('DiskIds', max_items=100,
                                    error=exception.invalid_disk_ids)
        disks = []
        for disk_id in disk_ids:
            disk = request.session.get(db.Disk, disk_id)
            if disk is None:
                raise exception.disk_not_found()
            disks.append(disk)
    else:
        disks = [lookup.get_disk(request)]
    name, description = _name_and_description(params)
    delete_with_instance = params.bool('DeleteWithInstance')
    delete_auto_snapshot = params.bool('DeleteAutoSnapshot')
    enable_auto_snapshot = params.bool('EnableAutoSnapshot')
    for disk in disks:
        if delete_with_instance and disk.multi_attach:
            raise rules.ATTRIBUTE_DELETE_WITH_INSTANCE.error()
        if name is not None:
            disk.name = name
        if description is not None:
            disk.description = description
        if delete_auto_snapshot is not None:
            disk.delete_auto_snapshot = delete_auto_snapshot
        if enable_auto_snapshot is not None:
            disk.enable_auto_snapshot = enable_auto_snapshot
        if delete_with_instance is not None:
            for attachment in disk.attachments:
                attachment.delete_with_instance = delete_with_instance
    return {}


ACTIONS = {
    'CreateDisk': create_disk,
    'DeleteDisk': delete_disk,
    'DescribeDisks': describe_disks,
    'ResizeDisk': resize_disk,
    'ModifyDiskSpec': modify_disk_spec,
    'ModifyDiskAttribute': modify_disk_attribute,
}
