"""Tags of disks and snapshots (stored in the tags table)."""

from ebs_emulator import db
from ebs_emulator import errors

MAX_TAGS_PER_RESOURCE = 20


def tags_of(session, resource_type, resource_id):
    return (session.query(db.Tag)
            .filter_by(resource_type=resource_type, resource_id=resource_id)
            .order_by(db.Tag.created_at, db.Tag.key).all())


def tags_by_resource(session, resource_type):
    """{resource id: [Tag, ...]} for every resource of one type."""
    grouped = {}
    rows = (session.query(db.Tag).filter_by(resource_type=resource_type)
            .order_by(db.Tag.created_at, db.Tag.key))
    for tag in rows:
        grouped.setdefault(tag.resource_id, []).append(tag)
    return grouped


def set_tags(session, resource_type, resource_id, pairs, now):
    """Add or overwrite tags, keeping at most 20 per resource."""
    current = {tag.key: tag for tag in
               tags_of(session, resource_type, resource_id)}
    new_keys = {key for key, _value in pairs} - set(current)
    if len(current) + len(new_keys) > MAX_TAGS_PER_RESOURCE:
        raise errors.too_many_tags()
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
