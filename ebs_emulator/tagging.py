"""Tags of disks and snapshots (stored in the tags table)."""

import sqlalchemy as sa

from ebs_emulator import db
from ebs_emulator import exception

MAX_TAGS_PER_RESOURCE = 20


def tags_of(session, resource_type, resource_id):
    return (session.query(db.Tag)
            .filter_by(resource_type=resource_type, resource_id=resource_id)
            .order_by(db.Tag.created_at, db.Tag.key).all())


def tags_by_resource(session, resource_type, resource_ids=None):
    """{resource id: [Tag, ...]} for resources of one type.

    :param resource_ids: only these resources (``None``: every one).
    """
    grouped = {}
    rows = session.query(db.Tag).filter_by(resource_type=resource_type)
    if resource_ids is not None:
        rows = rows.filter(db.Tag.resource_id.in_(list(resource_ids)))
    for tag in rows.order_by(db.Tag.created_at, db.Tag.key):
        grouped.setdefault(tag.resource_id, []).append(tag)
    return grouped


def match_conditions(resource_type, id_column, wanted):
    """SQL conditions: the resource carries every wanted (key, value).

    An empty value matches any value of the key, as :func:`matches`.
    Each condition selects ids from the tags table by key (and value), so
    that the database answers it from the tags' index.
    """
    conditions = []
    for key, value in wanted:
        ids = sa.select(db.Tag.resource_id).where(
            db.Tag.resource_type == resource_type, db.Tag.key == key)
        if value:
            ids = ids.where(db.Tag.value == value)
        conditions.append(id_column.in_(ids))
    return conditions


def set_tags(session, resource_type, resource_id, pairs, now):
    """Add or overwrite tags, keeping at most 20 per resource."""
    current = {tag.key: tag for tag in
               tags_of(session, resource_type, resource_id)}
    new_keys = {key for key, _value in pairs} - set(current)
    if len(current) + len(new_keys) > MAX_TAGS_PER_RESOURCE:
        raise exception.too_many_tags()
    for key, value in pairs:
        if key in current:
            current[key].value = value
        else:
            session.add(db.Tag(resource_type=resource_type,
                               resource_id=resource_id, key=key,
                               value=value, created_at=now))
    session.flush()


def remove_tags(session, resource_type, resource_id, keys=None):
    """Remove the given tag keys, or all tags when keys is None."""
    query = session.query(db.Tag).filter_by(resource_type=resource_type,
                                            resource_id=resource_id)
    if keys is not None:
        query = query.filter(db.Tag.key.in_(list(keys)))
    query.delete(synchronize_session=False)


def matches(tags, wanted):
    """True when every wanted (key, value) is present ('' value: any)."""
    have = {tag.key: tag.value for tag in tags}
    for key, value in wanted:
        if key not in have or (value and have[key] != value):
            return False
    return True
