"""Snapshot actions: CreateSnapshot, DeleteSnapshot, DescribeSnapshots and
ResetDisk.

A snapshot's data is captured when CreateSnapshot is called (a point in
time); its status then goes progressing -> accomplished after the
configured delay, like the real service.  A disk that was never attached
cannot be snapshotted, and a snapshot that existing disks were created
from is deleted only with ``Force`` (see :mod:`ebs_emulator.rules`).
"""

from ebs_emulator import db
from ebs_emulator import exception
from ebs_emulator import idempotency
from ebs_emulator import ids
from ebs_emulator import lookup
from ebs_emulator import paging
from ebs_emulator import params as params_mod
from ebs_emulator import rules
from ebs_emulator import tagging
from ebs_emulator import views

SNAPSHOT_STATUSES = ('progressing', 'accomplished', 'failed')


def _snapshot_name(params):
    name = params.str('SnapshotName')
    # ECS reserves names starting with "auto" for automatic snapshots.
    if name is not None and (not params_mod.valid_name(name) or
                             name.startswith('auto')):
        raise rules.SNAPSHOT_NAME.error()
    description = params.str('Description')
    if description is not None and not params_mod.valid_description(
            description):
        raise exception.invalid_description()
    return name or '', description or ''


def create_snapshot(request):
    params = request.params
    token = idempotency.client_token(params)
    earlier = idempotency.previous_result(request, 'CreateSnapshot', token)
    if earlier:
        return {'SnapshotId': earlier}
    disk = lookup.get_disk(request)
    name, description = _snapshot_name(params)
    tags = params.tags()
    if disk.status != 'Available':
        # Creating or ReIniting: neither In_use nor Available.
        raise rules.SNAPSHOT_STATUS.error(
            'The disk is %s; it cannot be snapshotted now.' % disk.status)
    if disk.attached_at is None:
        raise rules.SNAPSHOT_NEVER_ATTACHED.error()
    if lookup.snapshot_in_progress(request.session, disk.id):
        raise rules.SNAPSHOT_ONE_AT_A_TIME.error()

    manifest = request.service.blocks.capture(disk.id)
    snapshot_id = ids.new_snapshot_id()
    request.session.add(db.Snapshot(
        id=snapshot_id, region_id=disk.region_id, source_disk_id=disk.id,
        source_disk_size=disk.size, source_disk_category=disk.category,
        encrypted=disk.encrypted, name=name, description=description,
        status='progressing', due_at=request.due(), created_at=request.now))
    request.session.flush()
    for index, chunk_hash in manifest.items():
        request.session.add(db.SnapshotChunk(
            snapshot_id=snapshot_id, chunk_index=index,
            chunk_hash=chunk_hash))
    db.add_chunk_refs(request.session, manifest.values())
    tagging.set_tags(request.session, 'snapshot', snapshot_id, tags,
                     request.now)
    idempotency.remember(request, 'CreateSnapshot', token, snapshot_id)
    return {'SnapshotId': snapshot_id}


def delete_snapshot(request):
    snapshot = lookup.find_snapshot(request)
    force = request.params.bool('Force', default=False)
    if snapshot is None:
        if request.applies(rules.DELETE_SNAPSHOT_IGNORED):
            return {}
        raise rules.DELETE_SNAPSHOT_EXISTS.error()
    made_disks = request.session.query(db.Disk.id).filter_by(
        source_snapshot_id=snapshot.id).first()
    if made_disks is not None and not force:
        raise rules.DELETE_SNAPSHOT_USED.error()
    rows = request.session.query(db.SnapshotChunk).filter_by(
        snapshot_id=snapshot.id)
    hashes = [row.chunk_hash for row in rows]
    rows.delete(synchronize_session=False)
    tagging.remove_tags(request.session, 'snapshot', snapshot.id)
    request.session.delete(snapshot)
    unused = db.drop_chunk_refs(request.session, hashes)
    # Chunk files go only once the database no longer refers to them.
    request.after_commit.append(
        lambda: request.service.blocks.remove_chunks(unused))
    return {}


def describe_snapshots(request):
    params = request.params
    lookup.check_region(request)
    wanted_ids = params.json_list('SnapshotIds', max_items=100,
                                  error=exception.invalid_snapshot_ids)
    status = params.choice('Status', SNAPSHOT_STATUSES + ('all',))
    conditions = lookup.match_conditions(params, db.Snapshot, wanted_ids, (
        ('DiskId', 'source_disk_id'), ('SnapshotName', 'name')))
    if status not in (None, 'all'):
        conditions.append(db.Snapshot.status == status)
    encrypted = params.bool('Encrypted')
    if encrypted is not None:
        conditions.append(db.Snapshot.encrypted == encrypted)
    conditions.extend(tagging.match_conditions('snapshot', db.Snapshot.id,
                                               params.tags()))
    query = (request.session.query(db.Snapshot).filter(*conditions)
             .order_by(db.Snapshot.created_at, db.Snapshot.id))
    page, fields = paging.paginate(params, query, max_results=100)
    page_ids = [snap.id for snap in page]
    tags = tagging.tags_by_resource(request.session, 'snapshot', page_ids)
    in_use = {row.source_snapshot_id for row in
              request.session.query(db.Disk.source_snapshot_id).filter(
                  db.Disk.source_snapshot_id.in_(page_ids))}
    result = {'Snapshots': {'Snapshot': [
        views.snapshot_view(snap, tags.get(snap.id, []), snap.id in in_use)
        for snap in page]}}
    result.update(fields)
    return result


def reset_disk(request):
    disk = lookup.get_disk(request)
    snapshot = lookup.get_snapshot(request)
    if snapshot.source_disk_id != disk.id:
        raise rules.RESET_OWN_SNAPSHOT.error()
    if snapshot.status != 'accomplished':
        raise rules.RESET_SNAPSHOT_READY.error()
    if lookup.snapshot_in_progress(request.session, disk.id):
        raise rules.RESET_NO_SNAPSHOT_IN_PROGRESS.error()
    if views.disk_status(disk) != 'Available':
        raise rules.RESET_STATUS.error(
            'The disk must be Available to be reset; it is %s.'
            % views.disk_status(disk))
    request.service.blocks.restore(
        disk.id, lookup.snapshot_manifest(request.session, snapshot.id),
        disk.size)
    disk.status = 'ReIniting'
    disk.due_at = request.due()
    return {}


ACTIONS = {
    'CreateSnapshot': create_snapshot,
    'DeleteSnapshot': delete_snapshot,
    'DescribeSnapshots': describe_snapshots,
    'ResetDisk': reset_disk,
}
