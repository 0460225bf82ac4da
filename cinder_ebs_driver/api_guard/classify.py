"""Request classification for the cinder-api guard filter.

Pure functions, no database access: they decide from the method, the path
and the microversion header alone whether a request is one of the few shapes
the guard inspects. Everything else is passed to Cinder untouched.
"""

import collections
import functools

from cinder.api.openstack import api_version_request
from cinder.api.openstack import wsgi as cinder_wsgi

#: Microversion that tells Cinder the client understands multi-attach.
MULTIATTACH_VERSION = api_version_request.APIVersionRequest('3.50')
#: First microversion with the attachments API (/attachments).
ATTACHMENTS_VERSION = api_version_request.APIVersionRequest('3.27')

# Request shapes ("kinds").
VOLUME_CREATE = 'volume-create'
VOLUME_MANAGE = 'volume-manage'
VOLUME_ACTION = 'volume-action'
ATTACHMENT_CREATE = 'attachment-create'
TYPE_ENCRYPTION_CREATE = 'type-encryption-create'
TYPE_EXTRA_SPECS_CREATE = 'type-extra-specs-create'
TYPE_EXTRA_SPEC_UPDATE = 'type-extra-spec-update'
QOS_ASSOCIATE = 'qos-associate'
QOS_UPDATE = 'qos-update'
QOS_DELETE_KEYS = 'qos-delete-keys'

#: Shapes whose rule only applies below MULTIATTACH_VERSION.
VERSIONED_KINDS = frozenset([VOLUME_CREATE, VOLUME_MANAGE, VOLUME_ACTION,
                             ATTACHMENT_CREATE])
#: Shapes whose rule applies at every microversion.
TYPE_KINDS = frozenset([TYPE_ENCRYPTION_CREATE, TYPE_EXTRA_SPECS_CREATE,
                        TYPE_EXTRA_SPEC_UPDATE, QOS_ASSOCIATE, QOS_UPDATE,
                        QOS_DELETE_KEYS])

#: Volume actions the guard looks at (see the rules module).
GUARDED_ACTIONS = frozenset(['os-retype', 'os-reserve', 'os-attach'])

Shape = collections.namedtuple('Shape', ['kind', 'resource_id', 'key'])

_COLLECTIONS = frozenset(['volumes', 'attachments', 'types',
                          'manageable_volumes', 'os-volume-manage',
                          'qos-specs'])
_FORMAT_SUFFIX = '.json'
_VERSION_ENVIRON_KEY = 'HTTP_' + (
    cinder_wsgi.API_VERSION_REQUEST_HEADER.upper().replace('-', '_'))
_CONTENT_TYPE_KEY = 'CONTENT_TYPE'


def _path_parts(path_info):
    """Split PATH_INFO below /v3 into its segments, without the project.

    Cinder routes every resource both with and without a leading project id
    (``/{project_id}/volumes`` and ``/volumes``); a project id never equals
    one of the collection names the guard looks at.
    """
    parts = [part for part in path_info.split('/') if part]
    if not parts:
        return None
    # Routes also matches a format suffix: /volumes.json, .../action.json.
    last = parts[-1]
    if last.endswith(_FORMAT_SUFFIX) and len(last) > len(_FORMAT_SUFFIX):
        parts[-1] = last[:-len(_FORMAT_SUFFIX)]
    if parts[0] not in _COLLECTIONS:
        parts = parts[1:]
    if not parts or parts[0] not in _COLLECTIONS:
        return None
    return parts


def classify(method, path_info):
    """Return the Shape of a request the guard inspects, or None.

    :param method: the HTTP method (``REQUEST_METHOD``)
    :param path_info: the path below the API root (``PATH_INFO`` inside the
        /v3 pipeline), with or without the project id
    """
    if method != 'POST' and (method != 'PUT' or (
            'extra_specs' not in path_info and
            'qos-specs' not in path_info)) and (
            method != 'GET' or not path_info.endswith('/associate')):
        return None
    parts = _path_parts(path_info)
    if parts is None:
        return None
    head = parts[0]
    count = len(parts)
    if head == 'qos-specs':
        if method == 'GET' and count == 3 and parts[2] == 'associate':
            return Shape(QOS_ASSOCIATE, parts[1], None)
        if method == 'PUT' and count == 2:
            return Shape(QOS_UPDATE, parts[1], None)
        if method == 'PUT' and count == 3 and parts[2] == 'delete_keys':
            return Shape(QOS_DELETE_KEYS, parts[1], None)
        return None
    if method == 'POST':
        if count == 1:
            if head == 'volumes':
                return Shape(VOLUME_CREATE, None, None)
            if head == 'attachments':
                return Shape(ATTACHMENT_CREATE, None, None)
            if head in ('manageable_volumes', 'os-volume-manage'):
                return Shape(VOLUME_MANAGE, None, None)
            return None
        if count == 3:
            if head == 'volumes' and parts[2] == 'action':
                return Shape(VOLUME_ACTION, parts[1], None)
            if head == 'types' and parts[2] == 'encryption':
                return Shape(TYPE_ENCRYPTION_CREATE, parts[1], None)
            if head == 'types' and parts[2] == 'extra_specs':
                return Shape(TYPE_EXTRA_SPECS_CREATE, parts[1], None)
        return None
    if count == 4 and head == 'types' and parts[2] == 'extra_specs':
        return Shape(TYPE_EXTRA_SPEC_UPDATE, parts[1], parts[3])
    return None


def requested_version(environ):
    """The volume API microversion Cinder will serve this request at.

    Uses Cinder's own header parsing (``OpenStack-API-Version``; no header
    means the minimum, 3.0). Returns None when Cinder will refuse the header
    itself (malformed, unknown service, out of range): the guard then leaves
    the request to Cinder, which gives its usual answer.
    """
    header = environ.get(_VERSION_ENVIRON_KEY)
    if header is None:
        return api_version_request.min_api_version()
    return _parse_version_header(header)


@functools.lru_cache(maxsize=128)
def _parse_version_header(header):
    # A private environ: Cinder's Request keeps the parsed version in its
    # environ, and the real request must be parsed by Cinder afresh. Clients
    # send few distinct headers, hence the cache.
    probe = cinder_wsgi.Request({_VERSION_ENVIRON_KEY: header})
    try:
        probe.set_api_version_request(None)
    except Exception:
        return None
    return probe.api_version_request


def below_multiattach(version):
    """True when the client did not ask for multi-attach awareness."""
    return version < MULTIATTACH_VERSION


def has_attachments_api(version):
    """True when Cinder routes /attachments at this microversion."""
    return not version < ATTACHMENTS_VERSION


def body_is_json(environ):
    """True when Cinder will read the body as JSON (its content types)."""
    content_type = environ.get(_CONTENT_TYPE_KEY)
    if not content_type:
        return True
    media_type = content_type.split(';', 1)[0].strip().lower()
    return media_type in cinder_wsgi.SUPPORTED_CONTENT_TYPES


def action_name(body):
    """The action of a volume action body, as Cinder picks it (one key)."""
    if isinstance(body, dict) and len(body) == 1:
        return next(iter(body))
    return None
