"""Resource ids shaped like ECS ones: d-/s- followed by 20 [a-z0-9]."""

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def _random_suffix(length=20):
    return ''.join(secrets.choice(_ALPHABET) for _ in range(length))


def new_disk_id():
    return 'd-' + _random_suffix()


def new_snapshot_id():
    return 's-' + _random_suffix()
