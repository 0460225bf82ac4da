"""Tests for the lease record's device I/O (nova_shim.fencing.device)."""

import errno
import os

import fixtures
import testtools

from nova_shim.fencing import device as device_mod
from nova_shim.fencing import lease
from nova_shim.fencing import reservations
from tests.unit.nova_shim import block_fixtures

KEY = 0x1234_5678_9abc_def0


class ResolveOffsetTestCase(testtools.TestCase):

    def test_offsets(self):
        size = 64 * 1024
        self.assertEqual(size - 4096, device_mod.resolve_offset(-4096,
                                                                size))
        self.assertEqual(0, device_mod.resolve_offset(0, size))
        self.assertEqual(0, device_mod.resolve_offset(-size, size))
        self.assertEqual(size - 4096,
                         device_mod.resolve_offset(size - 4096, size))
        for bad in (512, -512, size, -size - 4096, 1 << 40):
            self.assertRaises(ValueError, device_mod.resolve_offset,
                              bad, size)


class LeaseDeviceFileTestCase(block_fixtures.TestCase):
    """O_DIRECT record I/O on a real file of this machine."""

    SIZE = 1024 * 1024

    def device(self, offset=-lease.BLOCK_SIZE):
        path = self.regular_file(size=self.SIZE)
        try:
            dev = device_mod.LeaseDevice(path, offset)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                self.skipTest('the file system of %s refuses O_DIRECT'
                              % path)
            raise
        self.addCleanup(dev.close)
        return dev

    def test_write_then_read_at_the_last_block(self):
        dev = self.device()
        self.assertEqual(self.SIZE - lease.BLOCK_SIZE, dev.offset)
        self.assertIsNone(lease.decode(dev.read_record()))
        record = lease.Record('host-a', KEY, 3, 4)
        dev.write_record(record.encode())
        self.assertEqual(record, lease.decode(dev.read_record()))
        # Another open of the file (another host's view) sees it.
        with open(dev.path, 'rb') as f:
            f.seek(self.SIZE - lease.BLOCK_SIZE)
            self.assertEqual(record, lease.decode(f.read(lease.BLOCK_SIZE)))
            f.seek(0)
            self.assertEqual(bytes(self.SIZE - lease.BLOCK_SIZE),
                             f.read(self.SIZE - lease.BLOCK_SIZE))

    def test_reads_what_another_writer_wrote(self):
        dev = self.device(offset=8192)
        record = lease.Record('host-b', KEY, 9)
        with open(dev.path, 'r+b') as f:
            f.seek(8192)
            f.write(record.encode())
        self.assertEqual(record, lease.decode(dev.read_record()))

    def test_opened_with_o_direct(self):
        dev = self.device()
        flags = int(open('/proc/self/fdinfo/%d' % dev._fd).read()
                    .split('flags:')[1].split()[0], 8)
        self.assertTrue(flags & os.O_DIRECT)

    def test_block_size_and_offset_checked(self):
        dev = self.device()
        self.assertRaises(ValueError, dev.write_record, b'x' * 512)
        path = self.regular_file(name='small.img', size=4096)
        self.assertRaises(ValueError, device_mod.LeaseDevice, path, 4096)
        self.assertRaises(ValueError, device_mod.LeaseDevice, path, 100)

    def test_missing_device(self):
        exc = self.assertRaises(OSError, device_mod.LeaseDevice,
                                '/nonexistent/disk')
        self.assertEqual(errno.ENOENT, exc.errno)


class LeaseDeviceReservationsTestCase(testtools.TestCase):
    """The device's reservation calls map to nova_shim.fencing.reservations."""

    def setUp(self):
        super().setUp()
        self.calls = []
        for name in ('register', 'unregister', 'reserve', 'release',
                     'preempt'):
            self.useFixture(fixtures.MockPatchObject(
                reservations, name, self._recorder(name)))
        self.dev = device_mod.LeaseDevice.__new__(device_mod.LeaseDevice)
        self.dev.path = '/dev/nvme1n1'
        self.conflict_on_register = False

    def _recorder(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            if (name == 'register' and self.conflict_on_register
                    and 'old_key' not in kwargs):
                raise reservations.ReservationConflict(self.dev.path,
                                                       'register')
        return call

    def test_calls(self):
        we = reservations.PRType.WRITE_EXCLUSIVE
        self.dev.register(KEY)
        self.dev.reserve(KEY)
        self.dev.preempt(KEY, 7, abort=True)
        self.dev.preempt(KEY, 7, abort=False)
        self.dev.release(KEY)
        self.dev.unregister(KEY)
        path = '/dev/nvme1n1'
        self.assertEqual([
            ('register', (path, KEY), {'ignore_existing': True}),
            ('reserve', (path, KEY, we), {}),
            ('preempt', (path, KEY, 7, we), {'abort': True}),
            ('preempt', (path, KEY, 7, we), {'abort': False}),
            ('release', (path, KEY, we), {}),
            ('unregister', (path, KEY), {})], self.calls)

    def test_register_replaces_another_key_of_this_host(self):
        self.conflict_on_register = True
        self.dev.register(KEY)
        self.assertEqual(('register', ('/dev/nvme1n1', KEY),
                          {'old_key': KEY, 'ignore_existing': True}),
                         self.calls[-1])
