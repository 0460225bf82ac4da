"""The 512-byte record the guests share, and its O_DIRECT read/write."""

import errno
import os

import fixtures
import testtools

from ebs_allinone.hosts import direct_io


class RecordEncodingTest(testtools.TestCase):

    def test_padded_to_512_bytes(self):
        block = direct_io.encode_record('ebs-allinone-record-0123456789ab')
        self.assertEqual(direct_io.RECORD_SIZE, len(block))
        self.assertEqual(512, len(block))
        self.assertTrue(block.startswith(b'ebs-allinone-record-0123456789ab '))
        self.assertEqual(b'\n', block[-1:])
        self.assertEqual(b' ' * (511 - 32), block[32:511])

    def test_same_layout_as_the_guest_printf(self):
        # The tiny guest writes printf '%-511s\n' "$record".
        text = 'record from host-a'
        self.assertEqual(('%-511s\n' % text).encode(),
                         direct_io.encode_record(text))

    def test_round_trip(self):
        for text in ('', 'x', 'a b  c', 'é☃ unicode', 'y' * 511,
                     'trailing tab\t'):
            self.assertEqual(
                text, direct_io.decode_record(direct_io.encode_record(text)),
                text)

    def test_longest_record(self):
        block = direct_io.encode_record('z' * 511)
        self.assertEqual(b'z' * 511 + b'\n', block)

    def test_too_long(self):
        self.assertRaises(ValueError, direct_io.encode_record, 'z' * 512)
        # The limit is in bytes, not characters.
        self.assertRaises(ValueError, direct_io.encode_record, 'é' * 256)
        self.assertEqual(510, len(direct_io.encode_record('é' * 255)
                                  .rstrip(b' \n')))

    def test_newline_refused(self):
        self.assertRaises(ValueError, direct_io.encode_record, 'a\nb')
        self.assertRaises(ValueError, direct_io.encode_record, 'a\n')

    def test_decode_a_blank_disk(self):
        self.assertEqual('', direct_io.decode_record(b'\0' * 4096))

    def test_decode_only_the_first_512_bytes(self):
        block = b'first' + b'\0' * 507 + b'second record\n'
        self.assertEqual('first', direct_io.decode_record(block))

    def test_decode_stops_at_the_newline(self):
        self.assertEqual('one', direct_io.decode_record(b'one\ntwo\n'))

    def test_decode_unpadded_and_invalid_utf8(self):
        self.assertEqual('abc', direct_io.decode_record(b'abc'))
        self.assertEqual('a\ufffdb', direct_io.decode_record(b'a\xffb\n'))

    def test_trailing_spaces_are_padding(self):
        # The layout cannot tell the record's own trailing spaces from
        # the padding.
        self.assertEqual('text', direct_io.decode_record(
            direct_io.encode_record('text   ')))


class DirectIOTest(testtools.TestCase):
    """On a real file of the test's file system (O_DIRECT where it can)."""

    def setUp(self):
        super().setUp()
        self.path = self.useFixture(fixtures.TempDir()).join('disk.img')
        with open(self.path, 'wb') as f:
            f.write(b'\0' * 8192)
        try:
            os.close(os.open(self.path, os.O_RDONLY | os.O_DIRECT))
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                self.skipTest('no O_DIRECT on this file system (tmpfs?)')
            raise

    def test_write_then_read(self):
        direct_io.write_record(self.path, 'written by host-a')
        self.assertEqual('written by host-a',
                         direct_io.read_record(self.path))
        with open(self.path, 'rb') as f:
            data = f.read()
        self.assertEqual(direct_io.encode_record('written by host-a'),
                         data[:512])
        # Only the first sector is written.
        self.assertEqual(b'\0' * (8192 - 512), data[512:])
        self.assertEqual(8192, len(data))

    def test_overwrite(self):
        direct_io.write_record(self.path, 'a much longer first record')
        direct_io.write_record(self.path, 'short')
        self.assertEqual('short', direct_io.read_record(self.path))

    def test_read_blank(self):
        self.assertEqual('', direct_io.read_record(self.path))

    def test_read_what_the_guest_wrote(self):
        with open(self.path, 'r+b') as f:
            f.write(('%-511s\n' % 'from the guest on host-b').encode())
        self.assertEqual('from the guest on host-b',
                         direct_io.read_record(self.path))

    def test_short_device(self):
        short = self.path + '.short'
        with open(short, 'wb') as f:
            f.write(b'abc\n')
        self.assertRaises(OSError, direct_io.read_record, short)

    def test_invalid_record_writes_nothing(self):
        self.assertRaises(ValueError, direct_io.write_record, self.path,
                          'two\nlines')
        with open(self.path, 'rb') as f:
            self.assertEqual(b'\0' * 8192, f.read())

    def test_missing_device(self):
        missing = self.path + '.missing'
        self.assertRaises(FileNotFoundError, direct_io.read_record, missing)
        self.assertRaises(FileNotFoundError, direct_io.write_record, missing,
                          'x')
        self.assertFalse(os.path.exists(missing))
