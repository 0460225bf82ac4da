"""Binary interface of the kernel's persistent-reservation ioctls.

Struct layouts and request numbers of ``<linux/pr.h>`` (block layer PR
ioctls), plus the NVMe passthrough command of ``<linux/nvme_ioctl.h>`` used
to read a reservation report from an NVMe namespace on kernels that lack
``IOC_PR_READ_KEYS`` / ``IOC_PR_READ_RESERVATION`` (added in Linux 6.19).
Nothing here touches a device.
"""

import ctypes
import enum
import platform


class PRType(enum.IntEnum):
    """``enum pr_type``: the reservation types."""

    WRITE_EXCLUSIVE = 1
    EXCLUSIVE_ACCESS = 2
    WRITE_EXCLUSIVE_REG_ONLY = 3
    EXCLUSIVE_ACCESS_REG_ONLY = 4
    WRITE_EXCLUSIVE_ALL_REGS = 5
    EXCLUSIVE_ACCESS_ALL_REGS = 6


class PRStatus(enum.IntEnum):
    """``enum pr_status``: positive results of the PR ioctls (Linux 6.3+).

    The values follow SCSI; ``RESERVATION_CONFLICT`` is the SAM status byte.
    """

    SUCCESS = 0x0
    IOERR = 0x2
    RESERVATION_CONFLICT = 0x18
    RETRY_PATH_FAILURE = 0xe0000
    PATH_FAST_FAILED = 0xf0000
    PATH_FAILED = 0x10000


#: ``PR_FL_IGNORE_KEY``: register without checking the existing key.
PR_FL_IGNORE_KEY = 1 << 0
#: ``PR_KEYS_MAX``: the most keys ``IOC_PR_READ_KEYS`` accepts.
PR_KEYS_MAX = 1 << 16

#: NVMe generic status "Reservation Conflict" (what kernels before 6.3
#: returned from the PR ioctls of an NVMe namespace).
NVME_SC_RESERVATION_CONFLICT = 0x83
#: NVMe I/O command opcode "Reservation Report".
NVME_CMD_RESV_REPORT = 0x0e


class PrRegistration(ctypes.Structure):
    _fields_ = [('old_key', ctypes.c_uint64),
                ('new_key', ctypes.c_uint64),
                ('flags', ctypes.c_uint32),
                ('_pad', ctypes.c_uint32)]


class PrReservation(ctypes.Structure):
    _fields_ = [('key', ctypes.c_uint64),
                ('type', ctypes.c_uint32),
                ('flags', ctypes.c_uint32)]


class PrPreempt(ctypes.Structure):
    _fields_ = [('old_key', ctypes.c_uint64),
                ('new_key', ctypes.c_uint64),
                ('type', ctypes.c_uint32),
                ('flags', ctypes.c_uint32)]


class PrClear(ctypes.Structure):
    _fields_ = [('key', ctypes.c_uint64),
                ('flags', ctypes.c_uint32),
                ('_pad', ctypes.c_uint32)]


class PrReadKeys(ctypes.Structure):
    _fields_ = [('generation', ctypes.c_uint32),
                ('num_keys', ctypes.c_uint32),
                ('keys_ptr', ctypes.c_uint64)]


class PrReadReservation(ctypes.Structure):
    _fields_ = [('key', ctypes.c_uint64),
                ('generation', ctypes.c_uint32),
                ('type', ctypes.c_uint32)]


class NvmePassthruCmd(ctypes.Structure):
    """``struct nvme_passthru_cmd`` (``struct nvme_admin_cmd``)."""

    _fields_ = [('opcode', ctypes.c_uint8),
                ('flags', ctypes.c_uint8),
                ('rsvd1', ctypes.c_uint16),
                ('nsid', ctypes.c_uint32),
                ('cdw2', ctypes.c_uint32),
                ('cdw3', ctypes.c_uint32),
                ('metadata', ctypes.c_uint64),
                ('addr', ctypes.c_uint64),
                ('metadata_len', ctypes.c_uint32),
                ('data_len', ctypes.c_uint32),
                ('cdw10', ctypes.c_uint32),
                ('cdw11', ctypes.c_uint32),
                ('cdw12', ctypes.c_uint32),
                ('cdw13', ctypes.c_uint32),
                ('cdw14', ctypes.c_uint32),
                ('cdw15', ctypes.c_uint32),
                ('timeout_ms', ctypes.c_uint32),
                ('result', ctypes.c_uint32)]


# _IOC encoding (include/uapi/asm-generic/ioctl.h). A few architectures use
# 13 size bits and 3 direction bits with other direction values.
if platform.machine().lower().startswith(('ppc', 'powerpc', 'mips',
                                          'sparc', 'alpha')):
    _IOC_SIZEBITS, _IOC_NONE, _IOC_WRITE, _IOC_READ = 13, 1, 4, 2
else:
    _IOC_SIZEBITS, _IOC_NONE, _IOC_WRITE, _IOC_READ = 14, 0, 1, 2
_IOC_NRSHIFT = 0
_IOC_TYPESHIFT = 8
_IOC_SIZESHIFT = 16
_IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS


def _ioc(direction, type_char, nr, size):
    if size >= 1 << _IOC_SIZEBITS:
        raise ValueError('ioctl argument too large: %d' % size)
    return ((direction << _IOC_DIRSHIFT) | (ord(type_char) << _IOC_TYPESHIFT)
            | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT))


def _io(type_char, nr):
    return _ioc(_IOC_NONE, type_char, nr, 0)


def _iow(type_char, nr, struct):
    return _ioc(_IOC_WRITE, type_char, nr, ctypes.sizeof(struct))


def _ior(type_char, nr, struct):
    return _ioc(_IOC_READ, type_char, nr, ctypes.sizeof(struct))


def _iowr(type_char, nr, struct):
    return _ioc(_IOC_READ | _IOC_WRITE, type_char, nr, ctypes.sizeof(struct))


IOC_PR_REGISTER = _iow('p', 200, PrRegistration)
IOC_PR_RESERVE = _iow('p', 201, PrReservation)
IOC_PR_RELEASE = _iow('p', 202, PrReservation)
IOC_PR_PREEMPT = _iow('p', 203, PrPreempt)
IOC_PR_PREEMPT_ABORT = _iow('p', 204, PrPreempt)
IOC_PR_CLEAR = _iow('p', 205, PrClear)
IOC_PR_READ_KEYS = _iowr('p', 206, PrReadKeys)
IOC_PR_READ_RESERVATION = _ior('p', 207, PrReadReservation)

NVME_IOCTL_ID = _io('N', 0x40)
NVME_IOCTL_IO_CMD = _iowr('N', 0x43, NvmePassthruCmd)

#: The PR ioctls that change state, with the struct each one takes.
PR_OUT_REQUESTS = {
    IOC_PR_REGISTER: PrRegistration,
    IOC_PR_RESERVE: PrReservation,
    IOC_PR_RELEASE: PrReservation,
    IOC_PR_PREEMPT: PrPreempt,
    IOC_PR_PREEMPT_ABORT: PrPreempt,
    IOC_PR_CLEAR: PrClear,
}
