"""Names, tags and idempotency tokens of the disks and snapshots we own.

Every EBS resource created for Cinder carries the Cinder id as a tag, so that
a resource can be found again after a lost API response and so that
``manage`` / orphan checks know who owns a disk.
"""

import hashlib

VOLUME_TAG = 'cinder-volume-id'
SNAPSHOT_TAG = 'cinder-snapshot-id'
# The temporary snapshot of a clone, tagged with the new volume's id.
CLONE_TAG = 'cinder-clone-of'

# ECS accepts client tokens of at most 64 ASCII characters.
CLIENT_TOKEN_MAX = 64


def client_token(kind, resource_id):
    """Return a deterministic ECS ``ClientToken`` for one operation.

    A retried request with the same token never creates a second resource.
    The token is derived from the operation kind and the Cinder id, and is
    hashed when it would exceed the ECS limit.
    """
    token = '%s-%s' % (kind, resource_id)
    if len(token) <= CLIENT_TOKEN_MAX and token.isascii():
        return token
    digest = hashlib.sha256(token.encode('utf-8')).hexdigest()
    prefix = kind.encode('ascii', 'ignore').decode('ascii')[:15]
    return ('%s-%s' % (prefix, digest))[:CLIENT_TOKEN_MAX]


def volume_tags(volume):
    return {VOLUME_TAG: volume.id}


def snapshot_tags(snapshot):
    return {SNAPSHOT_TAG: snapshot.id}


def volume_description(volume):
    return 'Cinder volume %s' % volume.id


def snapshot_description(snapshot):
    return 'Cinder snapshot %s of volume %s' % (snapshot.id,
                                                snapshot.volume_id)


def tags_of(resource):
    """Return the tags of an ECS disk or snapshot dict as a plain dict."""
    tags = (resource or {}).get('Tags') or {}
    if isinstance(tags, dict):
        tags = tags.get('Tag') or []
    result = {}
    for tag in tags:
        key = tag.get('TagKey', tag.get('Key'))
        if key is not None:
            result[key] = tag.get('TagValue', tag.get('Value'))
    return result


def is_multiattach_disk(disk):
    return (disk or {}).get('MultiAttach') == 'Enabled'
