"""Find the resources a request names (or raise the ECS not-found error),
and the common filters of Describe actions as SQL conditions."""

from ebs_emulator import db
from ebs_emulator import exception


def check_region(request, required=True):
    region = request.params.str('RegionId', required=required)
    if region is not None and region != request.service.region_id:
        raise exception.invalid_region()
    return region


def find_disk(request, name='DiskId'):
    """The disk the request names, or None."""
    return request.session.get(db.Disk, request.params.str(name,
                                                           required=True))


def get_disk(request, name='DiskId'):
    disk = find_disk(request, name)
    if disk is None:
        raise exception.disk_not_found(
            'The specified disk %s does not exist.'
            % request.params.str(name))
    return disk


def snapshot_in_progress(session, disk_id):
    """Whether a snapshot of the disk is still being created."""
    return session.query(db.Snapshot.id).filter_by(
        source_disk_id=disk_id, status='progressing').first() is not None


def find_snapshot(request, name='SnapshotId'):
    """The snapshot the request names, or None."""
    return request.session.get(db.Snapshot,
                               request.params.str(name, required=True))


def get_snapshot(request, name='SnapshotId'):
    snapshot = find_snapshot(request, name)
    if snapshot is None:
        raise exception.snapshot_not_found(
            'The specified SnapshotId %s does not exist.'
            % request.params.str(name))
    return snapshot


def get_instance(request, name='InstanceId'):
    instance_id = request.params.str(name, required=True)
    instance = request.service.instances.get(instance_id)
    if instance is None:
        raise exception.instance_not_found(
            'The specified InstanceId %s does not exist.' % instance_id)
    return instance


def snapshot_manifest(session, snapshot_id):
    """{chunk index: chunk hash} of a snapshot."""
    rows = session.query(db.SnapshotChunk).filter_by(snapshot_id=snapshot_id)
    return {row.chunk_index: row.chunk_hash for row in rows}


def match_conditions(params, model, wanted_ids, fields):
    """The common filters of a Describe action, as SQL conditions.

    :param model: the table's model (``db.Disk`` ...).
    :param wanted_ids: ids asked for (``None``: any id).
    :param fields: ``(parameter, attribute)`` pairs; a parameter that is
        given keeps only the rows whose column equals it.
    """
    conditions = []
    if wanted_ids is not None:
        conditions.append(model.id.in_(list(wanted_ids)))
    for field, attribute in fields:
        value = params.str(field)
        if value is not None:
            conditions.append(getattr(model, attribute) == value)
    return conditions
