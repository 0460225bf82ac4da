"""The lease record shared by the hosts of a multi-attach volume.

One record of :data:`BLOCK_SIZE` bytes lives at a fixed offset of the
shared disk. Only the current primary writes it (the write-exclusive
reservation makes every other host's write fail); standbys read it and
judge the primary alive while the record keeps changing.

Layout (big-endian, the rest of the block is zero)::

    offset size field
    0      8    magic, b'EBSLEASE'
    8      2    format version (1)
    10     2    flags (bit 0: released, the holder handed the lease over)
    12     4    reserved, zero
    16     8    epoch: grows by one at every takeover
    24     8    heartbeat counter: grows by one at every refresh
    32     8    holder key (the holder's reservation key)
    40     64   holder host name, UTF-8, NUL padded
    104    4    CRC-32 (zlib) of bytes 0..103
"""

import collections
import struct
import zlib

#: Size and alignment of the record: O_DIRECT needs the offset, the length
#: and the buffer aligned to the logical block size (512 or 4096 bytes).
BLOCK_SIZE = 4096
MAGIC = b'EBSLEASE'
VERSION = 1
#: The holder released the lease (a clean stop): take over at once.
FLAG_RELEASED = 0x1
HOST_MAX_BYTES = 64

_BODY = struct.Struct('>8sHHIQQQ%ds' % HOST_MAX_BYTES)
_CRC = struct.Struct('>I')
RECORD_BYTES = _BODY.size + _CRC.size


class RecordError(ValueError):
    """The block does not hold a valid lease record."""


class NotALeaseRecord(RecordError):
    """The block holds something else (wrong magic): other data."""


class CorruptRecord(RecordError):
    """A lease record whose checksum or fields are wrong."""


class UnsupportedVersion(RecordError):
    """A lease record of a format version this code does not know."""


def _check_u64(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError('%s must be an int, got %r' % (name, value))
    if not 0 <= value < 1 << 64:
        raise ValueError('%s out of range: %r' % (name, value))


def check_host_name(host):
    """Return ``host`` encoded, or raise ValueError when it cannot fit."""
    if not isinstance(host, str) or not host:
        raise ValueError('the host name must be a non-empty string')
    raw = host.encode('utf-8')
    if len(raw) > HOST_MAX_BYTES or b'\0' in raw:
        raise ValueError('host name %r must be at most %d bytes of UTF-8 '
                         'without NUL' % (host, HOST_MAX_BYTES))
    return raw


class Record(collections.namedtuple(
        'Record', 'holder key epoch heartbeat released')):
    """One lease record.

    :ivar holder: the holder's host name.
    :ivar key: the holder's reservation key.
    :ivar epoch: grows by one at every takeover.
    :ivar heartbeat: grows by one at every refresh of the holder.
    :ivar released: the holder handed the lease over.
    """

    __slots__ = ()

    def __new__(cls, holder, key, epoch, heartbeat=0, released=False):
        check_host_name(holder)
        _check_u64('key', key)
        _check_u64('epoch', epoch)
        _check_u64('heartbeat', heartbeat)
        return super().__new__(cls, holder, key, epoch, heartbeat,
                               bool(released))

    def beat(self):
        """The next heartbeat of this holder."""
        return Record(self.holder, self.key, self.epoch,
                      (self.heartbeat + 1) % (1 << 64))

    def release(self):
        """This record marked released (one more heartbeat)."""
        return Record(self.holder, self.key, self.epoch,
                      (self.heartbeat + 1) % (1 << 64), released=True)

    def encode(self):
        """The record as a :data:`BLOCK_SIZE` block of bytes."""
        body = _BODY.pack(MAGIC, VERSION,
                          FLAG_RELEASED if self.released else 0, 0,
                          self.epoch, self.heartbeat, self.key,
                          check_host_name(self.holder))
        block = bytearray(BLOCK_SIZE)
        block[:_BODY.size] = body
        _CRC.pack_into(block, _BODY.size, zlib.crc32(body))
        return bytes(block)


def decode(block):
    """Parse a block read from the record's offset.

    :returns: a :class:`Record`, or None when the block is all zeros (no
        lease was ever written there).
    :raises NotALeaseRecord: the block holds other data.
    :raises UnsupportedVersion: a record of another format version.
    :raises CorruptRecord: a lease record that fails its checks.
    """
    block = bytes(block)
    if len(block) < RECORD_BYTES:
        raise CorruptRecord('lease block too short: %d bytes' % len(block))
    if block[:len(MAGIC)] != MAGIC:
        if not any(block):
            return None
        raise NotALeaseRecord('no lease record here (the block holds '
                              'other data)')
    body = block[:_BODY.size]
    (crc,) = _CRC.unpack_from(block, _BODY.size)
    (magic, version, flags, reserved, epoch, heartbeat, key,
     host) = _BODY.unpack(body)
    if version != VERSION:
        raise UnsupportedVersion('lease record format version %d is not '
                                 'supported (this agent writes %d)'
                                 % (version, VERSION))
    if crc != zlib.crc32(body):
        raise CorruptRecord('lease record checksum mismatch')
    if flags & ~FLAG_RELEASED or reserved:
        raise CorruptRecord('lease record has unknown flags %#x' % flags)
    try:
        holder = host.rstrip(b'\0').decode('utf-8')
        return Record(holder, key, epoch, heartbeat,
                      released=bool(flags & FLAG_RELEASED))
    except ValueError as exc:
        raise CorruptRecord('lease record has a bad field: %s' % exc)
