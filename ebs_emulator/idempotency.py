"""ClientToken idempotency (CreateDisk, CreateSnapshot, ResizeDisk).

A retried request with the same ClientToken and the same parameters gets
the first request's result and changes nothing; the same token with other
parameters is refused (rules ``token-same`` and ``token-mismatch``).
"""

import hashlib
import json

from ebs_emulator import db
from ebs_emulator import rules

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
        raise rules.TOKEN_FORMAT.error()
    return token


def previous_result(request, action, token):
    """The resource id an earlier request with this token answered."""
    if not token:
        return None
    record = request.session.get(db.ClientToken, (action, token))
    if record is None:
        return None
    if record.digest != _digest(request.params):
        for rule in (rules.TOKEN_MISMATCH, rules.TOKEN_MISMATCH_OLD):
            if request.applies(rule):
                raise rule.error()
    return record.resource_id


def remember(request, action, token, resource_id):
    if token:
        request.session.add(db.ClientToken(
            action=action, token=token, digest=_digest(request.params),
            resource_id=resource_id, created_at=request.now))
