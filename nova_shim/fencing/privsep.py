"""Privileged helpers of the Nova-side shim (oslo.privsep).

Only the open + ioctl of the persistent-reservation calls run with
privileges. The entrypoints accept nothing but the known reservation
requests on block devices (or regular files of a FUSE file system, where a
user-space block service such as the EBS emulator serves a disk and
answers the reservation ioctls), so the daemon cannot be asked for an
arbitrary ioctl.
"""

import ctypes
import errno
import fcntl
import os
import platform
import shlex
import stat

from oslo_privsep import capabilities
from oslo_privsep import priv_context

from nova_shim.fencing import pr_abi

sys_admin_pctxt = priv_context.PrivContext(
    'nova_shim',
    cfg_section='nova_shim_privileged',
    pypath=__name__ + '.sys_admin_pctxt',
    capabilities=[capabilities.CAP_SYS_ADMIN,
                  capabilities.CAP_DAC_OVERRIDE],
)


#: ``FUSE_SUPER_MAGIC`` of ``<linux/magic.h>``: ``statfs.f_type`` of FUSE.
FUSE_SUPER_MAGIC = 0x65735546
# struct statfs starts with f_type: a long, except on s390x (unsigned int).
_STATFS_TYPE = (ctypes.c_uint if platform.machine().startswith('s390')
                else ctypes.c_long)


def init(root_helper=None):
    """Choose how this process runs the privileged calls.

    With a ``root_helper`` (e.g. ``sudo privsep-helper`` through
    rootwrap) they run in a privsep daemon started through it; a process
    that is already root runs them in process; any other process starts
    the daemon with ``sudo``.
    """
    if root_helper:
        priv_context.init(root_helper=shlex.split(root_helper))
    elif os.geteuid() == 0:
        sys_admin_pctxt.set_client_mode(False)
    else:
        priv_context.init(root_helper=['sudo'])


def fs_type(fd):
    """``statfs.f_type`` of the file system holding the open file ``fd``."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)  # larger than any struct statfs
    if libc.fstatfs(fd, buf) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return _STATFS_TYPE.from_buffer(buf).value & 0xffffffff


def _open_block_device(path, writable):
    """Open a block device, or a FUSE file that serves as one.

    FUSE files are the EBS emulator's per-instance disk views, which answer
    the reservation ioctls. Anything else is refused with ENOTBLK.
    """
    flags = (os.O_RDWR if writable else os.O_RDONLY) | os.O_CLOEXEC
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISBLK(mode) or (stat.S_ISREG(mode)
                                       and fs_type(fd) == FUSE_SUPER_MAGIC)):
            raise OSError(errno.ENOTBLK, os.strerror(errno.ENOTBLK), path)
    except Exception:
        os.close(fd)
        raise
    return fd


@sys_admin_pctxt.entrypoint
def pr_out(path, request, payload):
    """Run one state-changing PR ioctl (register, reserve, ...).

    :param path: the block device.
    :param request: one of ``pr_abi.PR_OUT_REQUESTS``.
    :param payload: the bytes of the request's struct.
    :returns: the ioctl's return value: 0, or a positive device status
        (``pr_abi.PRStatus`` or, on old kernels, the device's own code).
    :raises OSError: the ioctl failed with an errno.
    """
    struct = pr_abi.PR_OUT_REQUESTS.get(request)
    if struct is None or len(payload) != ctypes.sizeof(struct):
        raise ValueError('not a persistent reservation request: %#x'
                         % request)
    fd = _open_block_device(path, writable=True)
    try:
        return fcntl.ioctl(fd, request, bytearray(payload), True)
    finally:
        os.close(fd)


@sys_admin_pctxt.entrypoint
def pr_read_reservation(path):
    """``IOC_PR_READ_RESERVATION``: return (status, key, generation, type)."""
    arg = pr_abi.PrReadReservation()
    fd = _open_block_device(path, writable=False)
    try:
        ret = fcntl.ioctl(fd, pr_abi.IOC_PR_READ_RESERVATION, arg, True)
    finally:
        os.close(fd)
    return ret, arg.key, arg.generation, arg.type


@sys_admin_pctxt.entrypoint
def pr_read_keys(path, max_keys):
    """``IOC_PR_READ_KEYS``: return (status, generation, total, keys).

    ``total`` is the number of registered keys; ``keys`` holds at most
    ``max_keys`` of them.
    """
    max_keys = max(0, min(int(max_keys), pr_abi.PR_KEYS_MAX))
    keys = (ctypes.c_uint64 * max(max_keys, 1))()
    arg = pr_abi.PrReadKeys(num_keys=max_keys,
                            keys_ptr=ctypes.addressof(keys))
    fd = _open_block_device(path, writable=False)
    try:
        ret = fcntl.ioctl(fd, pr_abi.IOC_PR_READ_KEYS, arg, True)
    finally:
        os.close(fd)
    got = min(arg.num_keys, max_keys)
    return ret, arg.generation, arg.num_keys, list(keys[:got])


@sys_admin_pctxt.entrypoint
def nvme_reservation_report(path, data_len, extended):
    """Send an NVMe Reservation Report to the namespace at ``path``.

    :param data_len: bytes to read (a multiple of 4, at most 64 KiB).
    :param extended: ask for the extended data structure (128-bit host
        ids).
    :returns: (NVMe status, report bytes).
    """
    data_len = int(data_len)
    if data_len <= 0 or data_len % 4 or data_len > 65536:
        raise ValueError('bad reservation report length %r' % data_len)
    buf = ctypes.create_string_buffer(data_len)
    fd = _open_block_device(path, writable=False)
    try:
        nsid = fcntl.ioctl(fd, pr_abi.NVME_IOCTL_ID)
        cmd = pr_abi.NvmePassthruCmd(
            opcode=pr_abi.NVME_CMD_RESV_REPORT, nsid=nsid,
            addr=ctypes.addressof(buf), data_len=data_len,
            cdw10=data_len // 4 - 1, cdw11=1 if extended else 0)
        ret = fcntl.ioctl(fd, pr_abi.NVME_IOCTL_IO_CMD, cmd, True)
    finally:
        os.close(fd)
    return ret, buf.raw
