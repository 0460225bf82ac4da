"""The FUSE operations of ebs_emulator.fuse_views, called directly.

No mount here: the operations run on a temporary disk file, with ioctl
arguments in real ctypes buffers as libfuse hands them over. The mounted
file system is tested in tests/functional/test_fenced_datapath.py.
"""

import ctypes
import errno
import os

import fixtures
import mfusepy
import testtools

from ebs_emulator import fuse_views
from ebs_emulator import reservations
from nova_shim.fencing import pr_abi

T = pr_abi.PRType


class FakeStore(object):

    def __init__(self):
        self.saved = {}

    def load(self, disk_id):
        return reservations.DiskReservations()

    def save(self, disk_id, state):
        self.saved[disk_id] = None if state is None else state.report()


class InstanceViewsTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.disk_file = os.path.join(tmp, 'd-1.img')
        with open(self.disk_file, 'wb') as f:
            f.truncate(1 << 20)
        self.store = FakeStore()
        self.table = fuse_views.ViewTable(self.store.load, self.store.save)
        self.fs = fuse_views.InstanceViews(self.table)
        for instance in ('i-a', 'i-b'):
            self.table.expose('d-1', instance, 'S1', self.disk_file)
        self.fa = self.fs.open('/i-a/S1', os.O_RDWR)
        self.fb = self.fs.open('/i-b/S1', os.O_RDWR)
        self.addCleanup(self.fs.release, '/i-a/S1', self.fa)
        self.addCleanup(self.fs.release, '/i-b/S1', self.fb)

    def ioctl(self, fh, cmd, struct):
        buf = ctypes.create_string_buffer(bytes(struct), len(bytes(struct)))
        return self.fs.ioctl('/x', cmd, None, fh, 0, ctypes.addressof(buf))

    def assertErrno(self, code, func, *args):
        exc = self.assertRaises(mfusepy.FuseOSError, func, *args)
        self.assertEqual(code, exc.errno)

    def test_names(self):
        self.assertEqual(['.', '..', 'i-a', 'i-b'], self.fs.readdir('/', 0))
        self.assertEqual(['.', '..', 'S1'], self.fs.readdir('/i-a', 0))
        attrs = self.fs.getattr('/i-b/S1')
        self.assertEqual(1 << 20, attrs['st_size'])
        self.assertErrno(errno.ENOENT, self.fs.getattr, '/i-c')
        self.assertErrno(errno.ENOENT, self.fs.getattr, '/i-a/S2')
        self.assertErrno(errno.EPERM, self.fs.truncate, '/i-a/S1', 0)

    def test_views_share_the_disk(self):
        self.assertEqual(5, self.fs.write('/i-a/S1', b'hello', 512, self.fa))
        self.assertEqual(b'hello', self.fs.read('/i-b/S1', 5, 512, self.fb))

    def test_write_exclusive(self):
        self.assertEqual(0, self.ioctl(self.fa, pr_abi.IOC_PR_REGISTER,
                                       pr_abi.PrRegistration(0, 0xA, 0)))
        self.assertEqual(0, self.ioctl(self.fa, pr_abi.IOC_PR_RESERVE,
                                       pr_abi.PrReservation(0xA, 1, 0)))
        self.assertErrno(errno.EBADE, self.fs.write, '/i-b/S1', b'x', 0,
                         self.fb)
        self.assertErrno(errno.EBADE, self.fs.fsync, '/i-b/S1', 1, self.fb)
        self.assertEqual(b'\0', self.fs.read('/i-b/S1', 1, 0, self.fb))
        self.fs.write('/i-a/S1', b'a', 0, self.fa)
        report = self.table.report('d-1')['d-1']
        self.assertEqual({'reads': 1, 'writes': 2, 'writes_refused': 2},
                         report['counters']['i-b'])
        self.assertEqual('i-a', self.store.saved['d-1']['holder'])

    def test_conflict_is_a_positive_status(self):
        self.ioctl(self.fa, pr_abi.IOC_PR_REGISTER,
                   pr_abi.PrRegistration(0, 0xA, 0))
        self.assertEqual(
            pr_abi.PRStatus.RESERVATION_CONFLICT,
            self.ioctl(self.fb, pr_abi.IOC_PR_RESERVE,
                       pr_abi.PrReservation(0xA, 1, 0)))
        self.assertEqual(1, self.table.report()['d-1']['counters']['i-b'][
            'pr_refused'])

    def test_invalid_calls(self):
        self.ioctl(self.fa, pr_abi.IOC_PR_REGISTER,
                   pr_abi.PrRegistration(0, 0xA, 0))
        # Type 7 does not exist; key 0 release and clear use IEKEY,
        # which NVMe refuses on Release; IEKEY on Acquire too.
        for cmd, struct in (
                (pr_abi.IOC_PR_RESERVE, pr_abi.PrReservation(0xA, 7, 0)),
                (pr_abi.IOC_PR_RELEASE, pr_abi.PrReservation(0, 1, 0)),
                (pr_abi.IOC_PR_CLEAR, pr_abi.PrClear(0, 0)),
                (pr_abi.IOC_PR_RESERVE, pr_abi.PrReservation(
                    0xA, 1, pr_abi.PR_FL_IGNORE_KEY))):
            self.assertErrno(errno.EINVAL, self.ioctl, self.fa, cmd, struct)
        # Unknown flags are refused before the device, as the kernel does.
        self.assertErrno(errno.EOPNOTSUPP, self.ioctl, self.fa,
                         pr_abi.IOC_PR_PREEMPT, pr_abi.PrPreempt(
                             0xA, 0xB, 1, 1))
        self.assertErrno(errno.ENOTTY, self.ioctl, self.fa,
                         pr_abi.IOC_PR_READ_KEYS, pr_abi.PrReadKeys())

    def test_preempt_abort_fences_the_holder(self):
        for fh, key in ((self.fa, 0xA), (self.fb, 0xB)):
            self.ioctl(fh, pr_abi.IOC_PR_REGISTER,
                       pr_abi.PrRegistration(0, key, 0))
        self.ioctl(self.fa, pr_abi.IOC_PR_RESERVE,
                   pr_abi.PrReservation(0xA, 1, 0))
        self.assertEqual(0, self.ioctl(self.fb, pr_abi.IOC_PR_PREEMPT_ABORT,
                                       pr_abi.PrPreempt(0xB, 0xA, 1, 0)))
        self.assertErrno(errno.EBADE, self.fs.write, '/i-a/S1', b'x', 0,
                         self.fa)
        held = pr_abi.PrReadReservation()
        self.fs.ioctl('/x', pr_abi.IOC_PR_READ_RESERVATION, None, self.fa,
                      0, ctypes.addressof(held))
        self.assertEqual((0xB, 1), (held.key, held.type))

    def test_detached_view_gives_eio_and_drops_the_registration(self):
        self.ioctl(self.fb, pr_abi.IOC_PR_REGISTER,
                   pr_abi.PrRegistration(0, 0xB, 0))
        self.table.withdraw('d-1', 'i-b', 'S1', detached=True)
        self.assertErrno(errno.EIO, self.fs.read, '/i-b/S1', 1, 0, self.fb)
        self.assertEqual([], self.store.saved['d-1']['registrants'])
        self.assertErrno(errno.ENOENT, self.fs.open, '/i-b/S1', os.O_RDWR)

    def test_stopping_keeps_the_registration(self):
        self.ioctl(self.fb, pr_abi.IOC_PR_REGISTER,
                   pr_abi.PrRegistration(0, 0xB, 0))
        saved = dict(self.store.saved)
        self.table.withdraw('d-1', 'i-b', 'S1', detached=False)
        self.assertEqual(saved, self.store.saved)

    def test_forget(self):
        self.table.forget('d-1')
        self.assertIsNone(self.store.saved['d-1'])
        self.assertEqual({}, self.table.report())
        self.assertErrno(errno.EIO, self.fs.read, '/i-a/S1', 1, 0, self.fa)

    def test_one_limit_for_every_view_of_a_disk(self):
        taken = []
        self.table.set_limits('d-1', 100, 1 << 20)
        limit = self.table.limit_of(self.fa)
        self.assertIs(limit, self.table.limit_of(self.fb))
        self.assertEqual((100, 1 << 20), (limit.iops, limit.bytes_per_sec))
        self.useFixture(fixtures.MockPatchObject(
            limit, 'take', side_effect=taken.append))
        self.fs.write('/i-a/S1', b'x' * 4096, 0, self.fa)
        self.fs.read('/i-b/S1', 512, 0, self.fb)
        self.assertEqual([4096, 512], taken)
        # New figures (a resize) change the same limit; 0 lifts it.
        self.table.set_limits('d-1', 0, 0)
        self.assertEqual((None, None), (limit.iops, limit.bytes_per_sec))
        self.table.forget('d-1')
        self.table.expose('d-1', 'i-a', 'S1', self.disk_file)
        self.assertIsNone(self.table.limit_of(self.fa))

    def test_no_limit_by_default(self):
        self.assertIsNone(self.table.limit_of(self.fa))

    def test_a_reservation_taken_during_the_wait_stops_the_write(self):
        # The limit is waited for before the checks: the write that waited
        # meets the reservation another host took meanwhile.
        self.table.set_limits('d-1', 100, None)
        limit = self.table.limit_of(self.fa)
        self.assertEqual(0, self.ioctl(self.fb, pr_abi.IOC_PR_REGISTER,
                                       pr_abi.PrRegistration(0, 0xb, 0)))

        def reserve_meanwhile(nbytes):
            self.assertEqual(0, self.ioctl(
                self.fb, pr_abi.IOC_PR_RESERVE,
                pr_abi.PrReservation(0xb, 1, 0)))

        self.useFixture(fixtures.MockPatchObject(
            limit, 'take', side_effect=reserve_meanwhile))
        self.assertErrno(errno.EBADE, self.fs.write, '/i-a/S1', b'x', 0,
                         self.fa)
