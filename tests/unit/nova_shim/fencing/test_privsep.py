"""The privileged side of the reservation calls (nova_shim.fencing.privsep).

Reached through :mod:`nova_shim.fencing.reservations`, as the lease agent
reaches it: in this process, then across a real privsep daemon.
"""

import errno
import os
import subprocess

import fixtures
from oslo_privsep import priv_context

from nova_shim.fencing import pr_abi
from nova_shim.fencing import privsep
from nova_shim.fencing import reservations
from tests.unit.nova_shim import block_fixtures

KEY = 0x1234_5678_9abc_def0
VICTIM = 0x0fed_cba9_8765_4321


def decode(struct_cls, payload):
    return struct_cls.from_buffer_copy(payload)


class IoctlPathTestCase(block_fixtures.TestCase):
    """The privileged side, run in this (root) process."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            privsep.sys_admin_pctxt, 'client_mode', False))

    def test_ioctl_call_with_ioctl_replaced(self):
        device = self.loop_device()
        calls = []

        def fake_ioctl(fd, request, arg, mutate):
            calls.append((os.readlink('/proc/self/fd/%d' % fd), request,
                          bytes(arg), mutate))
            return 0

        self.useFixture(fixtures.MockPatchObject(privsep.fcntl, 'ioctl',
                                                 fake_ioctl))
        reservations.preempt(device, KEY, VICTIM, abort=True)
        self.assertEqual(1, len(calls))
        path, request, payload, mutate = calls[0]
        self.assertEqual(device, path)
        self.assertEqual(pr_abi.IOC_PR_PREEMPT_ABORT, request)
        self.assertTrue(mutate)
        arg = decode(pr_abi.PrPreempt, payload)
        # The caller's own key goes in old_key (NVMe CRKEY), the
        # victim's in new_key (PRKEY), as drivers/nvme/host/pr.c sends.
        self.assertEqual((KEY, VICTIM, 1, 0),
                         (arg.old_key, arg.new_key, arg.type, arg.flags))

    def test_real_loop_device_has_no_reservations(self):
        device = self.loop_device()
        for call in (lambda: reservations.register(device, KEY),
                     lambda: reservations.reserve(device, KEY),
                     lambda: reservations.release(device, KEY),
                     lambda: reservations.preempt(device, KEY, VICTIM),
                     lambda: reservations.preempt(device, KEY, VICTIM,
                                                  abort=True),
                     lambda: reservations.clear(device, KEY),
                     lambda: reservations.unregister(device, KEY)):
            exc = self.assertRaises(reservations.ReservationNotSupported,
                                    call)
            self.assertIn(exc.errno, (errno.EOPNOTSUPP, errno.ENOTTY))
            self.assertEqual(device, exc.device)

    def test_real_loop_device_report(self):
        device = self.loop_device()
        exc = self.assertRaises(reservations.ReservationNotSupported,
                                reservations.report, device)
        self.assertEqual('report', exc.operation)

    def test_not_a_block_device(self):
        path = self.regular_file()
        exc = self.assertRaises(reservations.ReservationNotSupported,
                                reservations.register, path, KEY)
        self.assertEqual(errno.ENOTBLK, exc.errno)
        exc = self.assertRaises(reservations.ReservationError,
                                reservations.register,
                                path + '.missing', KEY)
        self.assertEqual(errno.ENOENT, exc.errno)

    def test_regular_file_on_fuse_accepted(self):
        # A user-space block service (the EBS emulator) serves a disk as a
        # regular file on FUSE and answers the PR ioctls itself.
        path = self.regular_file()
        calls = []

        def fake_ioctl(fd, request, arg, mutate):
            calls.append((os.readlink('/proc/self/fd/%d' % fd), request))
            return 0

        self.useFixture(fixtures.MockPatchObject(privsep.fcntl, 'ioctl',
                                                 fake_ioctl))
        self.useFixture(fixtures.MockPatchObject(
            privsep, 'fs_type', lambda fd: privsep.FUSE_SUPER_MAGIC))
        reservations.register(path, KEY)
        self.assertEqual([(path, pr_abi.IOC_PR_REGISTER)], calls)

    def test_fs_type(self):
        path = self.regular_file()
        out = subprocess.run(['stat', '-f', '-c', '%t', path], check=True,
                             capture_output=True, text=True).stdout
        fd = os.open(path, os.O_RDONLY)
        self.addCleanup(os.close, fd)
        self.assertEqual(int(out, 16), privsep.fs_type(fd))
        self.assertNotEqual(privsep.FUSE_SUPER_MAGIC, privsep.fs_type(fd))

    def test_entrypoint_refuses_other_ioctls(self):
        payload = bytes(pr_abi.PrRegistration())
        # FS_IOC_GETFLAGS-like number: not a reservation request.
        self.assertRaises(ValueError, privsep.pr_out, '/dev/null',
                          0x80086601, payload)
        self.assertRaises(ValueError, privsep.pr_out, '/dev/null',
                          pr_abi.IOC_PR_REGISTER, payload[:-1])
        for length in (0, 6, 1 << 20):
            self.assertRaises(ValueError, privsep.nvme_reservation_report,
                              '/dev/null', length, False)


class PrivsepDaemonTestCase(block_fixtures.TestCase):
    """Calls cross a real privsep daemon (forked; this process is root)."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('starting the privsep daemon by fork needs root')
        ctx = privsep.sys_admin_pctxt
        if ctx.channel is not None:
            self.skipTest('privsep daemon already running in this process')
        self.device = self.loop_device()
        ctx.start(method=priv_context.Method.FORK)
        self.addCleanup(ctx.stop)

    def test_errors_cross_the_daemon_typed(self):
        exc = self.assertRaises(reservations.ReservationNotSupported,
                                reservations.register, self.device, KEY)
        self.assertIn(exc.errno, (errno.EOPNOTSUPP, errno.ENOTTY))
        self.assertRaises(reservations.ReservationNotSupported,
                          reservations.report, self.device)
        exc = self.assertRaises(reservations.ReservationError,
                                reservations.clear, self.regular_file(), KEY)
        self.assertEqual(errno.ENOTBLK, exc.errno)
