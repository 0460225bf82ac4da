"""Tests for nova_shim.fencing.reservations (privsep side mocked)."""

import ctypes
import errno
import os
import struct
import uuid

import fixtures
import testtools

from nova_shim.fencing import pr_abi
from nova_shim.fencing import privsep
from nova_shim.fencing import reservations
from tests.unit.nova_shim import block_fixtures

DEV = '/dev/nvme0n1'
KEY = 0x1234_5678_9abc_def0
VICTIM = 0x0fed_cba9_8765_4321


def decode(struct_cls, payload):
    return struct_cls.from_buffer_copy(payload)


class HostKeyTestCase(block_fixtures.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.tempdir()
        self.nqn_file = os.path.join(tmp, 'hostnqn')
        self.uuid_file = os.path.join(tmp, 'product_uuid')
        self.useFixture(fixtures.MockPatchObject(
            reservations, 'HOSTNQN_FILE', self.nqn_file))
        self.useFixture(fixtures.MockPatchObject(
            reservations, 'PRODUCT_UUID_FILE', self.uuid_file))

    def _write(self, path, text):
        with open(path, 'w') as f:
            f.write(text)

    def test_stable_non_zero_64_bit(self):
        nqn = 'nqn.2014-08.org.nvmexpress:uuid:' + str(uuid.uuid4())
        key = reservations.host_key(nqn=nqn)
        self.assertEqual(key, reservations.host_key(nqn=nqn))
        self.assertEqual(key, reservations.host_key(nqn=nqn + '\n'))
        self.assertTrue(0 < key < 1 << 64)

    def test_known_value(self):
        # The derivation must never change: keys registered on disks
        # survive upgrades.
        self.assertEqual(
            0x1280302d1afc8a7d,
            reservations.host_key(
                host_uuid='3d1219c7-c4c5-404a-aa1f-6d2a48adfda4'))

    def test_unique_per_host(self):
        keys = {reservations.host_key(host_uuid=str(uuid.uuid4()))
                for _ in range(2000)}
        keys |= {reservations.host_key(nqn='nqn.2014-08.com.example:h%d' % i)
                 for i in range(2000)}
        self.assertEqual(4000, len(keys))
        self.assertNotIn(0, keys)

    def test_uuid_spelling_does_not_matter(self):
        u = uuid.uuid4()
        self.assertEqual(reservations.host_key(host_uuid=str(u)),
                         reservations.host_key(host_uuid=str(u).upper()))
        self.assertEqual(reservations.host_key(host_uuid=str(u)),
                         reservations.host_key(host_uuid='{%s}' % u.hex))

    def test_nqn_wins_over_uuid(self):
        u = str(uuid.uuid4())
        self.assertEqual(reservations.host_key(nqn='nqn.x:1'),
                         reservations.host_key(nqn='nqn.x:1', host_uuid=u))
        self.assertNotEqual(reservations.host_key(nqn=u),
                            reservations.host_key(host_uuid=u))

    def test_reads_host_nqn_file(self):
        self._write(self.nqn_file, 'nqn.2014-08.org.nvmexpress:uuid:abc\n')
        self._write(self.uuid_file, str(uuid.uuid4()))
        self.assertEqual(
            reservations.host_key(nqn='nqn.2014-08.org.nvmexpress:uuid:abc'),
            reservations.host_key())

    def test_falls_back_to_system_uuid(self):
        u = str(uuid.uuid4())
        self._write(self.uuid_file, u + '\n')
        self.assertEqual(reservations.host_key(host_uuid=u),
                         reservations.host_key())

    def test_no_identity(self):
        exc = self.assertRaises(ValueError, reservations.host_key)
        self.assertIn('nqn', str(exc))

    def test_bad_identities(self):
        self.assertRaises(ValueError, reservations.host_key, nqn='  ')
        self.assertRaises(ValueError, reservations.host_key,
                          host_uuid='not-a-uuid')


class PublicApiTestCase(testtools.TestCase):
    """Each call sends the right request and struct to the privsep side."""

    def setUp(self):
        super().setUp()
        self.pr_out = self.useFixture(fixtures.MockPatchObject(
            privsep, 'pr_out', return_value=0)).mock

    def _sent(self):
        self.assertEqual(1, self.pr_out.call_count)
        device, request, payload = self.pr_out.call_args[0]
        self.assertEqual(DEV, device)
        self.assertIsInstance(payload, bytes)
        self.assertEqual(ctypes.sizeof(pr_abi.PR_OUT_REQUESTS[request]),
                         len(payload))
        return request, decode(pr_abi.PR_OUT_REQUESTS[request], payload)

    def test_register(self):
        reservations.register(DEV, KEY)
        request, arg = self._sent()
        self.assertEqual(pr_abi.IOC_PR_REGISTER, request)
        self.assertEqual((0, KEY, 0), (arg.old_key, arg.new_key, arg.flags))

    def test_register_ignoring_existing_key(self):
        reservations.register(DEV, KEY, old_key=VICTIM, ignore_existing=True)
        request, arg = self._sent()
        self.assertEqual((VICTIM, KEY, pr_abi.PR_FL_IGNORE_KEY),
                         (arg.old_key, arg.new_key, arg.flags))

    def test_unregister(self):
        reservations.unregister(DEV, KEY)
        request, arg = self._sent()
        self.assertEqual(pr_abi.IOC_PR_REGISTER, request)
        self.assertEqual((KEY, 0), (arg.old_key, arg.new_key))

    def test_reserve(self):
        reservations.reserve(DEV, KEY)
        request, arg = self._sent()
        self.assertEqual(pr_abi.IOC_PR_RESERVE, request)
        self.assertEqual((KEY, pr_abi.PRType.WRITE_EXCLUSIVE, 0),
                         (arg.key, arg.type, arg.flags))

    def test_reserve_other_type(self):
        reservations.reserve(DEV, KEY,
                             reservations.PRType.WRITE_EXCLUSIVE_ALL_REGS)
        self.assertEqual(5, self._sent()[1].type)

    def test_release(self):
        reservations.release(DEV, KEY, pr_abi.PRType.EXCLUSIVE_ACCESS)
        request, arg = self._sent()
        self.assertEqual(pr_abi.IOC_PR_RELEASE, request)
        self.assertEqual((KEY, 2), (arg.key, arg.type))

    def test_preempt(self):
        reservations.preempt(DEV, KEY, VICTIM)
        request, arg = self._sent()
        self.assertEqual(pr_abi.IOC_PR_PREEMPT, request)
        # The caller's own key goes in old_key (NVMe CRKEY), the
        # victim's in new_key (PRKEY), as drivers/nvme/host/pr.c sends.
        self.assertEqual((KEY, VICTIM, 1, 0),
                         (arg.old_key, arg.new_key, arg.type, arg.flags))

    def test_preempt_abort(self):
        reservations.preempt(DEV, KEY, VICTIM,
                             pr_abi.PRType.WRITE_EXCLUSIVE_REG_ONLY,
                             abort=True)
        request, arg = self._sent()
        self.assertEqual(pr_abi.IOC_PR_PREEMPT_ABORT, request)
        self.assertEqual(3, arg.type)

    def test_clear(self):
        reservations.clear(DEV, KEY)
        request, arg = self._sent()
        self.assertEqual(pr_abi.IOC_PR_CLEAR, request)
        self.assertEqual((KEY, 0), (arg.key, arg.flags))

    def test_bad_keys_and_types(self):
        for key in (0, -1, 1 << 64, True, '1', None, 1.0):
            self.assertRaises(ValueError, reservations.reserve, DEV, key)
        self.assertRaises(ValueError, reservations.register, DEV, -1)
        self.assertRaises(ValueError, reservations.preempt, DEV, KEY, 0)
        self.assertRaises(ValueError, reservations.reserve, DEV, KEY, 7)
        self.assertFalse(self.pr_out.called)


class ErrorMappingTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.pr_out = self.useFixture(fixtures.MockPatchObject(
            privsep, 'pr_out')).mock

    def _raises(self, exc_class, **kw):
        return self.assertRaises(exc_class, reservations.reserve, DEV, KEY)

    def test_ebade_is_conflict(self):
        self.pr_out.side_effect = OSError(errno.EBADE, 'Invalid exchange')
        exc = self._raises(reservations.ReservationConflict)
        self.assertEqual(errno.EBADE, exc.errno)
        self.assertEqual('reserve', exc.operation)
        self.assertEqual(DEV, exc.device)
        self.assertIn('EBADE', str(exc))

    def test_conflict_status(self):
        # Linux 6.3+ PR_STS_RESERVATION_CONFLICT, the SCSI status byte, and
        # the NVMe status older kernels returned (with the DNR bit too).
        for status in (0x18, 0x83, 0x4083):
            self.pr_out.return_value = status
            exc = self._raises(reservations.ReservationConflict)
            self.assertEqual(status, exc.status)
            self.assertIsNone(exc.errno)

    def test_not_supported(self):
        for err in (errno.ENOTTY, errno.EOPNOTSUPP):
            self.pr_out.side_effect = OSError(err, os.strerror(err))
            exc = self._raises(reservations.ReservationNotSupported)
            self.assertEqual(err, exc.errno)

    def test_other_errno(self):
        for err in (errno.EIO, errno.EPERM, errno.ENOENT, errno.EINVAL):
            self.pr_out.side_effect = OSError(err, os.strerror(err))
            exc = self._raises(reservations.ReservationError)
            self.assertNotIsInstance(exc, reservations.ReservationConflict)
            self.assertNotIsInstance(exc,
                                     reservations.ReservationNotSupported)
            self.assertEqual(err, exc.errno)

    def test_other_status(self):
        self.pr_out.return_value = pr_abi.PRStatus.PATH_FAILED
        exc = self._raises(reservations.ReservationError)
        self.assertNotIsInstance(exc, reservations.ReservationConflict)
        self.assertEqual(0x10000, exc.status)
        self.assertIn('PATH_FAILED', str(exc))
        self.pr_out.return_value = 0x2
        self.assertIn('IOERR', str(self._raises(
            reservations.ReservationError)))

    def test_is_conflict_error_for_io(self):
        # What a write on a fenced host gets from the block layer.
        self.assertTrue(reservations.is_conflict_error(
            OSError(errno.EBADE, 'Invalid exchange')))
        self.assertFalse(reservations.is_conflict_error(
            OSError(errno.EIO, 'I/O error')))
        self.assertFalse(reservations.is_conflict_error(ValueError()))


def nvme_report(generation, rtype, regs, extended=False):
    """Build an NVMe Reservation Status data structure.

    regs: list of (cntlid, holds, key).
    """
    header = struct.pack('<IBH2xB', generation, rtype, len(regs), 0)
    header += b'\0' * ((64 if extended else 24) - len(header))
    body = b''
    for cntlid, holds, key in regs:
        if extended:
            body += struct.pack('<HB5xQ16s32x', cntlid, int(holds), key,
                                b'h' * 16)
        else:
            body += struct.pack('<HB5xQQ', cntlid, int(holds), 0x77, key)
    return header + body


class ReportTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.read_res = self.useFixture(fixtures.MockPatchObject(
            privsep, 'pr_read_reservation')).mock
        self.read_keys = self.useFixture(fixtures.MockPatchObject(
            privsep, 'pr_read_keys')).mock
        self.nvme = self.useFixture(fixtures.MockPatchObject(
            privsep, 'nvme_reservation_report')).mock

    def test_read_ioctls(self):
        self.read_res.return_value = (0, KEY, 7, 1)
        self.read_keys.return_value = (0, 7, 2, [KEY, VICTIM])
        result = reservations.report(DEV)
        self.assertEqual({'device': DEV, 'generation': 7,
                          'keys': [KEY, VICTIM],
                          'reservation': {'key': KEY,
                                          'type': pr_abi.PRType(1)},
                          'source': 'pr-ioctl'}, result)
        self.read_keys.assert_called_once_with(DEV, 64)
        self.assertFalse(self.nvme.called)

    def test_no_reservation(self):
        self.read_res.return_value = (0, 0, 3, 0)
        self.read_keys.return_value = (0, 3, 0, [])
        result = reservations.report(DEV)
        self.assertIsNone(result['reservation'])
        self.assertEqual([], result['keys'])

    def test_more_keys_than_asked(self):
        self.read_res.return_value = (0, 0, 1, 0)
        self.read_keys.side_effect = [(0, 1, 3, [1, 2]), (0, 1, 3, [1, 2, 3])]
        result = reservations.report(DEV, max_keys=2)
        self.assertEqual([1, 2, 3], result['keys'])
        self.read_keys.assert_called_with(DEV, 3)

    def test_read_status_conflict(self):
        self.read_res.return_value = (0x18, 0, 0, 0)
        self.assertRaises(reservations.ReservationConflict,
                          reservations.report, DEV)

    def test_read_errno(self):
        self.read_res.side_effect = OSError(errno.EIO, 'I/O error')
        exc = self.assertRaises(reservations.ReservationError,
                                reservations.report, DEV)
        self.assertEqual(errno.EIO, exc.errno)
        self.assertFalse(self.nvme.called)

    def test_nvme_fallback(self):
        for err in (errno.ENOTTY, errno.EINVAL, errno.EOPNOTSUPP):
            self.read_res.side_effect = OSError(err, os.strerror(err))
            self.nvme.reset_mock()
            self.nvme.side_effect = None
            self.nvme.return_value = (0, nvme_report(
                9, 1, [(1, True, KEY), (2, False, VICTIM)]).ljust(4096,
                                                                  b'\0'))
            result = reservations.report(DEV)
            self.assertEqual({'device': DEV, 'generation': 9,
                              'keys': [KEY, VICTIM],
                              'reservation': {'key': KEY,
                                              'type': pr_abi.PRType(1)},
                              'source': 'nvme'}, result)
            self.nvme.assert_called_once_with(DEV, 4096, False)

    def test_nvme_fallback_extended(self):
        self.read_res.side_effect = OSError(errno.ENOTTY, 'x')
        self.nvme.side_effect = [
            (0x2018, b''),
            (0, nvme_report(4, 5, [(1, True, KEY), (2, True, VICTIM)],
                            extended=True))]
        result = reservations.report(DEV)
        self.assertEqual([KEY, VICTIM], result['keys'])
        self.assertEqual(pr_abi.PRType.WRITE_EXCLUSIVE_ALL_REGS,
                         result['reservation']['type'])
        self.assertEqual(DEV, self.nvme.call_args[0][0])
        self.assertTrue(self.nvme.call_args[0][2])

    def test_nvme_fallback_fails(self):
        self.read_res.side_effect = OSError(errno.ENOTTY, 'x')
        # Raw NVMe statuses: 0x18 there is not a reservation conflict.
        for status in (0x2002, 0x2018):
            self.nvme.return_value = (status, b'')
            exc = self.assertRaises(reservations.ReservationError,
                                    reservations.report, DEV)
            self.assertNotIsInstance(exc, reservations.ReservationConflict)
            self.assertEqual(status, exc.status)
        self.nvme.return_value = (0x4083, b'')
        self.assertRaises(reservations.ReservationConflict,
                          reservations.report, DEV)

    def test_not_nvme_either(self):
        self.read_res.side_effect = OSError(errno.ENOTTY, 'x')
        self.nvme.side_effect = OSError(errno.EINVAL, 'x')
        exc = self.assertRaises(reservations.ReservationNotSupported,
                                reservations.report, DEV)
        self.assertEqual(errno.EINVAL, exc.errno)


class ParseNvmeReportTestCase(testtools.TestCase):

    def test_regular(self):
        data = nvme_report(2, 3, [(1, False, 10), (2, True, 20)])
        self.assertEqual({'generation': 2, 'keys': [10, 20],
                          'reservation': {'key': 20,
                                          'type': pr_abi.PRType(3)}},
                         reservations.parse_nvme_report(data, False))

    def test_extended_no_reservation(self):
        data = nvme_report(1, 0, [(1, False, 10)], extended=True)
        self.assertEqual({'generation': 1, 'keys': [10],
                          'reservation': None},
                         reservations.parse_nvme_report(data, True))

    def test_truncated(self):
        data = nvme_report(1, 1, [(1, True, 10), (2, False, 20)])
        self.assertEqual([10], reservations.parse_nvme_report(
            data[:-1], False)['keys'])
        self.assertRaises(ValueError, reservations.parse_nvme_report,
                          b'\0' * 10, False)

    def test_unknown_type(self):
        data = nvme_report(1, 9, [(1, True, 10)])
        self.assertEqual({'key': 10, 'type': None},
                         reservations.parse_nvme_report(data, False)
                         ['reservation'])
