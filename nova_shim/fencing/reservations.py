"""Persistent reservations on a host's block device (fencing).

Register, reserve, release, preempt, clear and report through the kernel's
persistent-reservation interface (``<linux/pr.h>``), which the block layer
turns into NVMe Reservation or SCSI PERSISTENT RESERVE commands. Each host
uses its own key, derived from its NVMe host NQN or its system uuid.

Active/standby fencing with these calls: every host registers its key; the
active host reserves (``WRITE_EXCLUSIVE``); after a failover the new active
host preempts the old key, after which the old host's writes fail with a
reservation conflict (``EBADE`` from the block layer).

The ioctls run in the privsep daemon (:mod:`nova_shim.fencing.privsep`).
"""

import errno
import hashlib
import struct
import uuid

from oslo_log import log as logging

from nova_shim.fencing import pr_abi
from nova_shim.fencing import privsep

LOG = logging.getLogger(__name__)

PRType = pr_abi.PRType

HOSTNQN_FILE = '/etc/nvme/hostnqn'
PRODUCT_UUID_FILE = '/sys/class/dmi/id/product_uuid'

# errnos meaning "this device or kernel has no such reservation call"
# (ENOTBLK: privsep refused a path that is neither a block device nor a
# file of a user-space block service).
_NOT_SUPPORTED_ERRNOS = frozenset([errno.ENOTTY, errno.EOPNOTSUPP,
                                   errno.ENOTBLK])
# The read ioctls are new (Linux 6.19); older kernels pass them on to the
# disk driver, and some drivers (loop) answer EINVAL.
_READ_NOT_SUPPORTED_ERRNOS = _NOT_SUPPORTED_ERRNOS | {errno.EINVAL}

# Report sizes for the NVMe fallback: room for 64 registrants.
_NVME_REPORT_LEN = 4096


class ReservationError(Exception):
    """A persistent-reservation call failed.

    :ivar device: the block device.
    :ivar operation: register, reserve, release, preempt, clear or report.
    :ivar errno: the errno, when the call failed with one.
    :ivar status: the device status, when the call returned one.
    """

    def __init__(self, device, operation, errno=None, status=None,
                 detail=None):
        self.device = device
        self.operation = operation
        self.errno = errno
        self.status = status
        if detail is None:
            if errno is not None:
                detail = '%s (errno %d)' % (_strerror(errno), errno)
            elif status is not None:
                detail = 'device status %s' % _status_name(status)
            else:
                detail = 'failed'
        super().__init__('Persistent reservation %s on %s: %s'
                         % (operation, device, detail))


class ReservationConflict(ReservationError):
    """The device refused the call (reservation conflict).

    Another host holds the reservation, or this host's key is not (or no
    longer) registered.
    """


class ReservationNotSupported(ReservationError):
    """The device or the kernel has no persistent reservations."""


def _strerror(err):
    try:
        return errno.errorcode[err]
    except KeyError:
        return 'errno %d' % err


def _status_name(status):
    try:
        return '%s (%#x)' % (pr_abi.PRStatus(status).name, status)
    except ValueError:
        return '%#x' % status


def is_conflict_status(status, nvme=False):
    """True when a positive PR ioctl result means a reservation conflict.

    Linux 6.3+ returns ``PR_STS_RESERVATION_CONFLICT`` (0x18); older
    kernels returned the SCSI status byte (also 0x18) or the NVMe status
    "Reservation Conflict" (0x83, possibly with the DNR/More bits).

    :param nvme: ``status`` is a raw NVMe status (NVMe passthrough).
    """
    if (status & 0x7ff) == pr_abi.NVME_SC_RESERVATION_CONFLICT:
        return True
    return not nvme and (status & 0xff) == pr_abi.PRStatus.RESERVATION_CONFLICT


def is_conflict_error(exc):
    """True when an ``OSError`` is a reservation conflict.

    Applies to an ioctl or to I/O on a fenced device: the block layer maps
    ``BLK_STS_RESV_CONFLICT`` to ``EBADE``.
    """
    return isinstance(exc, OSError) and exc.errno == errno.EBADE


def error_from_errno(device, operation, err, not_supported=None):
    """Return the typed error for an errno from a PR call."""
    if not_supported is None:
        not_supported = _NOT_SUPPORTED_ERRNOS
    if err == errno.EBADE:
        return ReservationConflict(device, operation, errno=err)
    if err in not_supported:
        return ReservationNotSupported(device, operation, errno=err)
    return ReservationError(device, operation, errno=err)


def error_from_status(device, operation, status, nvme=False):
    """Return the typed error for a positive status from a PR call."""
    if is_conflict_status(status, nvme):
        return ReservationConflict(device, operation, status=status)
    return ReservationError(device, operation, status=status)


def _read_id_file(path):
    try:
        with open(path) as f:
            return f.read().strip() or None
    except OSError:
        return None


def host_key(nqn=None, host_uuid=None):
    """Return this host's reservation key: a stable, non-zero 64-bit int.

    The key is derived from the host's NVMe host NQN (``nqn``, or
    ``/etc/nvme/hostnqn``), else from its system uuid (``host_uuid``, or
    the DMI product uuid). Hosts with different identities get different
    keys (a collision needs two ids with equal 64-bit SHA-256 prefixes).

    :raises ValueError: no identity given or found, or a malformed uuid.
    """
    if nqn is None and host_uuid is None:
        nqn = _read_id_file(HOSTNQN_FILE)
        if nqn is None:
            host_uuid = _read_id_file(PRODUCT_UUID_FILE)
    if nqn is not None:
        nqn = str(nqn).strip()
        if not nqn:
            raise ValueError('empty host NQN')
        ident = b'nqn:' + nqn.encode('utf-8')
    elif host_uuid is not None:
        try:
            ident = b'uuid:' + str(uuid.UUID(str(host_uuid).strip())).encode()
        except ValueError:
            raise ValueError('malformed host uuid %r' % (host_uuid,))
    else:
        raise ValueError('cannot derive a reservation key: neither %s nor '
                         '%s exists; pass nqn or host_uuid'
                         % (HOSTNQN_FILE, PRODUCT_UUID_FILE))
    # The prefix is part of the key derivation, not a module path: it keeps
    # its old spelling so that keys stay the same across versions.
    digest = hashlib.sha256(b'nova_shim.reservations:' + ident).digest()
    for i in range(0, len(digest), 8):
        key = int.from_bytes(digest[i:i + 8], 'big')
        if key:
            return key
    return 1  # pragma: no cover (a SHA-256 digest of zeros)


def _check_key(name, key, allow_zero=False):
    if isinstance(key, bool) or not isinstance(key, int):
        raise ValueError('%s must be an int, got %r' % (name, key))
    if not (0 if allow_zero else 1) <= key < 1 << 64:
        raise ValueError('%s out of range: %r' % (name, key))


def _pr_out(device, operation, request, arg):
    LOG.debug('Persistent reservation %(op)s on %(dev)s',
              {'op': operation, 'dev': device})
    try:
        status = privsep.pr_out(device, request, bytes(arg))
    except OSError as exc:
        raise error_from_errno(device, operation, exc.errno) from exc
    if status:
        raise error_from_status(device, operation, status)


def register(device, key, old_key=0, ignore_existing=False):
    """Register ``key`` on the device (replacing ``old_key``).

    :param ignore_existing: register even when this host already has a
        different key (``PR_FL_IGNORE_KEY``).
    """
    _check_key('key', key, allow_zero=True)
    _check_key('old_key', old_key, allow_zero=True)
    arg = pr_abi.PrRegistration(
        old_key=old_key, new_key=key,
        flags=pr_abi.PR_FL_IGNORE_KEY if ignore_existing else 0)
    _pr_out(device, 'register', pr_abi.IOC_PR_REGISTER, arg)


def unregister(device, key):
    """Remove this host's registration ``key``."""
    _check_key('key', key)
    _pr_out(device, 'unregister', pr_abi.IOC_PR_REGISTER,
            pr_abi.PrRegistration(old_key=key, new_key=0))


def reserve(device, key, pr_type=PRType.WRITE_EXCLUSIVE):
    """Take the reservation of type ``pr_type`` with the registered key."""
    _check_key('key', key)
    arg = pr_abi.PrReservation(key=key, type=PRType(pr_type))
    _pr_out(device, 'reserve', pr_abi.IOC_PR_RESERVE, arg)


def release(device, key, pr_type=PRType.WRITE_EXCLUSIVE):
    """Release the reservation held with ``key``."""
    _check_key('key', key)
    arg = pr_abi.PrReservation(key=key, type=PRType(pr_type))
    _pr_out(device, 'release', pr_abi.IOC_PR_RELEASE, arg)


def preempt(device, key, victim_key, pr_type=PRType.WRITE_EXCLUSIVE,
            abort=False):
    """Remove ``victim_key`` and take its reservation with ``key``.

    ``key`` is this host's registered key. The kernel sends ``old_key`` of
    the ioctl as the caller's own key (NVMe CRKEY, SCSI RESERVATION KEY)
    and ``new_key`` as the key to preempt (NVMe PRKEY, SCSI SERVICE ACTION
    RESERVATION KEY), despite their names.

    :param abort: also abort the victim's outstanding commands
        (``IOC_PR_PREEMPT_ABORT``).
    """
    _check_key('key', key)
    _check_key('victim_key', victim_key)
    # The kernel sends old_key as the caller's own key (NVMe CRKEY, SCSI
    # RESERVATION KEY) and new_key as the key to preempt (NVMe PRKEY,
    # SCSI SERVICE ACTION RESERVATION KEY).
    arg = pr_abi.PrPreempt(old_key=key, new_key=victim_key,
                           type=PRType(pr_type))
    request = pr_abi.IOC_PR_PREEMPT_ABORT if abort else pr_abi.IOC_PR_PREEMPT
    _pr_out(device, 'preempt', request, arg)


def clear(device, key):
    """Remove every registration and the reservation.

    ``key`` must be registered.
    """
    _check_key('key', key)
    _pr_out(device, 'clear', pr_abi.IOC_PR_CLEAR, pr_abi.PrClear(key=key))


def _pr_type_or_none(value):
    try:
        return PRType(value)
    except ValueError:
        return None


def parse_nvme_report(data, extended):
    """Parse an NVMe Reservation Report.

    The layout is the NVMe base specification's "Reservation Status Data
    Structure" (regular or extended).

    :returns: ``{'generation', 'keys', 'reservation'}`` like
        :func:`report`.
    """
    header, entry_len, key_off = (64, 64, 8) if extended else (24, 24, 16)
    if len(data) < header:
        raise ValueError('reservation report too short: %d bytes'
                         % len(data))
    generation, rtype, regctl = struct.unpack_from('<IBH', data, 0)
    regctl = min(regctl, (len(data) - header) // entry_len)
    keys, holders = [], []
    for i in range(regctl):
        off = header + i * entry_len
        rcsts = data[off + 2]
        (rkey,) = struct.unpack_from('<Q', data, off + key_off)
        keys.append(rkey)
        if rcsts & 1:
            holders.append(rkey)
    reservation = None
    if rtype:
        reservation = {'key': holders[0] if holders else 0,
                       'type': _pr_type_or_none(rtype)}
    return {'generation': generation, 'keys': keys,
            'reservation': reservation}


def _report_ioctl(device, max_keys):
    status, key, generation, rtype = privsep.pr_read_reservation(device)
    if status:
        raise error_from_status(device, 'report', status)
    status, generation, total, keys = privsep.pr_read_keys(device, max_keys)
    if status:
        raise error_from_status(device, 'report', status)
    if total > len(keys) and total <= pr_abi.PR_KEYS_MAX:
        status, generation, total, keys = privsep.pr_read_keys(device, total)
        if status:
            raise error_from_status(device, 'report', status)
    reservation = None
    if rtype:
        reservation = {'key': key, 'type': _pr_type_or_none(rtype)}
    return {'generation': generation, 'keys': list(keys),
            'reservation': reservation, 'source': 'pr-ioctl'}


def _report_nvme(device):
    status = None
    for extended in (False, True):
        status, data = privsep.nvme_reservation_report(
            device, _NVME_REPORT_LEN, extended)
        if not status:
            result = parse_nvme_report(data, extended)
            result['source'] = 'nvme'
            return result
    raise error_from_status(device, 'report', status, nvme=True)


def report(device, max_keys=64):
    """Return the registered keys and the reservation of the device.

    Uses ``IOC_PR_READ_KEYS`` / ``IOC_PR_READ_RESERVATION`` (Linux 6.19+);
    on older kernels, an NVMe Reservation Report sent through the NVMe
    passthrough ioctl for NVMe namespaces.

    :returns: ``{'device', 'generation', 'keys': [int, ...],
        'reservation': None | {'key': int, 'type': PRType | None},
        'source': 'pr-ioctl' | 'nvme'}``
    :raises ReservationNotSupported: neither way works on this device.
    """
    try:
        result = _report_ioctl(device, max_keys)
    except OSError as exc:
        if exc.errno not in _READ_NOT_SUPPORTED_ERRNOS:
            raise error_from_errno(device, 'report', exc.errno) from exc
        LOG.debug('PR read ioctls unavailable on %(dev)s (%(err)s), trying '
                  'an NVMe reservation report',
                  {'dev': device, 'err': _strerror(exc.errno)})
        try:
            result = _report_nvme(device)
        except OSError as exc2:
            raise error_from_errno(
                device, 'report', exc2.errno,
                not_supported=_READ_NOT_SUPPORTED_ERRNOS) from exc2
    result['device'] = device
    return result
