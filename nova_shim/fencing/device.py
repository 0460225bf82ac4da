"""The shared disk as the lease agent sees it.

:class:`LeaseDevice` reads and writes the lease record with ``O_DIRECT``
(no page cache: a standby must see the primary's latest write, not its own
cached copy) from a page-aligned buffer, and issues the reservation calls
through :mod:`nova_shim.fencing.reservations` (privsep). The lease agent
only uses the methods below, so tests can hand it any object with the same
methods.
"""

import mmap
import os

from nova_shim.fencing import lease
from nova_shim.fencing import reservations

PRType = reservations.PRType


class LeaseDevice(object):
    """A block device (or a file) holding a lease record.

    :param path: the device, e.g. ``/dev/disk/by-id/nvme-...``.
    :param offset: byte offset of the record, a multiple of
        :data:`lease.BLOCK_SIZE`; negative counts from the end of the
        device (-4096 is the last 4 KiB block).
    :param direct: open with ``O_DIRECT`` (only tests of file systems
        without it turn this off).
    :raises OSError: the device cannot be opened.
    :raises ValueError: the offset is unaligned or outside the device.
    """

    def __init__(self, path, offset=-lease.BLOCK_SIZE, direct=True):
        self.path = path
        flags = os.O_RDWR | os.O_CLOEXEC | os.O_DSYNC
        if direct:
            flags |= os.O_DIRECT
        self._fd = os.open(path, flags)
        try:
            self.size = os.lseek(self._fd, 0, os.SEEK_END)
            self.offset = resolve_offset(offset, self.size)
        except Exception:
            os.close(self._fd)
            raise
        # An anonymous mapping is page aligned, as O_DIRECT wants.
        self._buf = mmap.mmap(-1, lease.BLOCK_SIZE)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._buf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def read_record(self):
        """Return the :data:`lease.BLOCK_SIZE` bytes at the offset."""
        got = os.preadv(self._fd, [self._buf], self.offset)
        if got != lease.BLOCK_SIZE:
            raise OSError('short read of the lease record on %s: %d bytes'
                          % (self.path, got))
        return bytes(self._buf)

    def write_record(self, block):
        """Write one block at the offset.

        :raises OSError: with ``EBADE`` when a reservation refuses it.
        """
        if len(block) != lease.BLOCK_SIZE:
            raise ValueError('a lease block is %d bytes, got %d'
                             % (lease.BLOCK_SIZE, len(block)))
        self._buf[:] = block
        done = os.pwritev(self._fd, [self._buf], self.offset)
        if done != lease.BLOCK_SIZE:
            raise OSError('short write of the lease record on %s: %d bytes'
                          % (self.path, done))

    def register(self, key):
        """Register ``key`` for this host, whatever it had registered."""
        try:
            reservations.register(self.path, key, ignore_existing=True)
        except reservations.ReservationConflict:
            # NVMe "Register" refuses a host that has another key:
            # "Replace" it, ignoring the current key.
            reservations.register(self.path, key, old_key=key,
                                  ignore_existing=True)

    def unregister(self, key):
        reservations.unregister(self.path, key)

    def reserve(self, key):
        reservations.reserve(self.path, key, PRType.WRITE_EXCLUSIVE)

    def release(self, key):
        reservations.release(self.path, key, PRType.WRITE_EXCLUSIVE)

    def preempt(self, key, victim_key, abort=True):
        reservations.preempt(self.path, key, victim_key,
                             PRType.WRITE_EXCLUSIVE, abort=abort)


def resolve_offset(offset, size):
    """The absolute, checked byte offset of the record on a device.

    :raises ValueError: unaligned, or the block does not fit the device.
    """
    if offset % lease.BLOCK_SIZE:
        raise ValueError('the lease offset %d is not a multiple of %d'
                         % (offset, lease.BLOCK_SIZE))
    absolute = size + offset if offset < 0 else offset
    if absolute < 0 or absolute + lease.BLOCK_SIZE > size:
        raise ValueError('the lease offset %d is outside the device (%d '
                         'bytes)' % (offset, size))
    return absolute
