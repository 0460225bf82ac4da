"""Tests for the lease record (nova_shim.fencing.lease)."""

import struct
import zlib

import testtools

from nova_shim.fencing import lease

KEY = 0x1234_5678_9abc_def0


class RecordTestCase(testtools.TestCase):

    def test_round_trip(self):
        for record in (lease.Record('host-a', KEY, 1),
                       lease.Record('hôst-ü' * 5, 1, 2 ** 64 - 1,
                                    2 ** 64 - 1),
                       lease.Record('h', KEY, 7, 3, released=True)):
            block = record.encode()
            self.assertEqual(lease.BLOCK_SIZE, len(block))
            self.assertEqual(record, lease.decode(block))

    def test_documented_layout(self):
        block = lease.Record('host-a', KEY, 5, 9, released=True).encode()
        self.assertEqual(b'EBSLEASE', block[:8])
        self.assertEqual((1, 1, 0, 5, 9, KEY),
                         struct.unpack_from('>HHIQQQ', block, 8))
        self.assertEqual(b'host-a' + b'\0' * 58, block[40:104])
        self.assertEqual(zlib.crc32(block[:104]),
                         struct.unpack_from('>I', block, 104)[0])
        self.assertEqual(bytes(lease.BLOCK_SIZE - 108), block[108:])

    def test_beat_and_release(self):
        record = lease.Record('host-a', KEY, 5, 9)
        self.assertEqual(lease.Record('host-a', KEY, 5, 10), record.beat())
        self.assertEqual(lease.Record('host-a', KEY, 5, 10, True),
                         record.release())
        self.assertEqual(0, lease.Record('h', KEY, 1, 2 ** 64 - 1)
                         .beat().heartbeat)

    def test_empty_block_is_no_record(self):
        self.assertIsNone(lease.decode(bytes(lease.BLOCK_SIZE)))

    def test_other_data(self):
        block = bytearray(lease.BLOCK_SIZE)
        block[0:4] = b'\x7fELF'
        self.assertRaises(lease.NotALeaseRecord, lease.decode, block)
        # One stray byte further in: still not ours, never "no record".
        block = bytearray(lease.BLOCK_SIZE)
        block[1000] = 1
        self.assertRaises(lease.NotALeaseRecord, lease.decode, block)

    def test_every_flipped_byte_is_detected(self):
        good = lease.Record('host-a', KEY, 5, 9).encode()
        for i in range(lease.RECORD_BYTES):
            bad = bytearray(good)
            bad[i] ^= 0x01
            self.assertRaises(lease.RecordError, lease.decode, bad)

    def test_checksum_mismatch_is_corrupt(self):
        bad = bytearray(lease.Record('host-a', KEY, 5, 9).encode())
        bad[20] ^= 0x80
        exc = self.assertRaises(lease.CorruptRecord, lease.decode, bad)
        self.assertIn('checksum', str(exc))

    def test_unknown_version(self):
        block = bytearray(lease.Record('host-a', KEY, 5).encode())
        struct.pack_into('>H', block, 8, 2)
        self.assertRaises(lease.UnsupportedVersion, lease.decode, block)

    def test_unknown_flags_with_a_valid_checksum(self):
        block = bytearray(lease.Record('host-a', KEY, 5).encode())
        struct.pack_into('>H', block, 10, 0x2)
        struct.pack_into('>I', block, 104, zlib.crc32(block[:104]))
        self.assertRaises(lease.CorruptRecord, lease.decode, block)

    def test_short_block(self):
        self.assertRaises(lease.CorruptRecord, lease.decode, b'EBSLEASE')

    def test_bad_fields(self):
        self.assertRaises(ValueError, lease.Record, '', KEY, 1)
        self.assertRaises(ValueError, lease.Record, 'x' * 65, KEY, 1)
        self.assertRaises(ValueError, lease.Record, 'a\0b', KEY, 1)
        self.assertRaises(ValueError, lease.Record, 'h', -1, 1)
        self.assertRaises(ValueError, lease.Record, 'h', KEY, 2 ** 64)
        self.assertRaises(ValueError, lease.Record, 'h', KEY, 1, True)
