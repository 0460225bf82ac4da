"""ClientToken idempotency for creating actions.

A retried request with the same ClientToken and the same parameters gets
the resource the first request created; the same token with different
parameters is refused, as ECS does.
"""

import hashlib
import json

from ebs_emulator import db
from ebs_emulator import errors

# Parameters that differ between two sends of one logical request.
_NOT_COMPARED = frozenset((
    'ClientToken', 'Signature', 'SignatureNonce', 'SignatureMethod',
    'SignatureVersion', 'SignatureType', 'Timestamp', 'AccessKeyId',
    'SecurityToken', 'Format', 'Version', 'Action'))
MAX_TOKEN_LENGTH = 64


def _digest(params):
    compared = sorted((key, value) for key, value in params.raw.items()
                      if key not in _NOT_COMPARED)
    return hashlib.sha256(json.dumps(compared).encode('utf-8')).hexdigest()


def client_token(params):
    token = params.str('ClientToken')
    if token is not None and (len(token) > MAX_TOKEN_LENGTH or
                              not token.isascii()):
        raise errors.invalid_parameter('ClientToken')
    return token


def previous_result(session, action, token, params):
    """The resource id an earlier request with this token created."""
    if not token:
        return None
    record = session.get(db.ClientToken, (action, token))
    if record is None:
        return None
    if record.digest != _digest(params):
        raise errors.idempotent_mismatch()
    return record.resource_id


def remember(session, action, token, params, resource_id, now):
    if token:
        session.add(db.ClientToken(action=action, token=token,
                                   digest=_digest(params),
                                   resource_id=resource_id, created_at=now))
