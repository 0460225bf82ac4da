"""Fencing seen from real guests: the preempted host's guest gets EIO.

One multi-attach disk of a real emulator with its FUSE data path is
attached to two emulator instances (two hosts); each host's view goes into
its own guest, which writes a numbered record every few milliseconds with
O_DIRECT. Host A holds a write-exclusive reservation, so only guest A's
writes land; host B then preempts A (as the lease agent does on
failover), and the roles swap at once: guest A's writes fail inside the
guest with EIO, guest B's succeed.
"""

import errno
import re

from oslo_utils import uuidutils

from ebs_emulator import datapath
from nova_shim import attach
from nova_shim.volume_api import local as local_volumes
from tests import emulator_fixture
from tests.functional import test_fenced_datapath as fenced
from tests.libvirt import base
from tests.unit.emulator import base as emulator_base

OK = r'EBS-GUEST-WRITE-OK (\d+)'
FAIL = r'EBS-GUEST-WRITE-FAIL (\d+) (\d+)'


class FencedGuestsTest(base.LibvirtTestCase):

    def setUp(self):
        reason = datapath.unavailable_reason()
        if reason:
            self.skipTest(reason)
        # Before libvirtd: its private mount namespace copies the mounts
        # that exist when it starts, the FUSE mount of the views included.
        self.emu = self.useFixture(emulator_fixture.EmulatorFixture(
            num_instances=2, fuse_views='yes'))
        super().setUp()
        self.api = emulator_base.EmulatorClient(self, self.emu)

    def test_preempted_hosts_guest_sees_io_errors(self):
        inst_a, inst_b = [i['InstanceId'] for i in self.emu.instances]
        disk_id = self.api.create_disk(size=1, multi_attach=True)
        self.api.attach(disk_id, inst_a)
        self.api.attach(disk_id, inst_b)
        dev_a = self.api.device(disk_id, inst_a)
        dev_b = self.api.device(disk_id, inst_b)
        self.assertEqual('ok', fenced.pr(dev_a, 'register', 'a1')['result'])
        self.assertEqual('ok', fenced.pr(dev_b, 'register', 'b2')['result'])
        self.assertEqual('ok', fenced.pr(dev_a, 'reserve', 'a1')['result'])

        volume_id = uuidutils.generate_uuid()
        guest_a, guest_b = self.start_guests(
            ('appender', volume_id, 'from-a',
             {'offset': 1 << 20, 'interval_ms': 20}),
            ('appender', volume_id, 'from-b',
             {'offset': 2 << 20, 'interval_ms': 20}))
        attachments = []
        for name, dev, guest in (('host-a', dev_a, guest_a),
                                 ('host-b', dev_b, guest_b)):
            volumes = local_volumes.LocalVolumes()
            volumes.add_volume(volume_id, dev, multiattach=True)
            attacher = attach.VolumeAttacher(
                self.conn, volumes, host=name, my_ip='127.0.0.1',
                detach_timeout=30)
            attacher.attach(guest.uuid, volume_id)
            attachments.append((attacher, guest))

        # A holds the reservation: A's writes land, B's are refused.
        guest_a.wait_for_console(OK, 60)
        match = guest_b.wait_for_console(FAIL, 60)
        self.assertEqual(errno.EIO, int(match.group(2)))
        self.assertNotRegex(guest_b.console(), OK)

        # B takes over.
        mark_a = len(guest_a.console())
        mark_b = len(guest_b.console())
        self.assertEqual('ok', fenced.pr(dev_b, 'preempt', 'b2', 'a1',
                                         'WRITE_EXCLUSIVE', '--abort')[
                                             'result'])
        guest_b.wait_for_console(OK, 30)
        guest_a.wait_for_console(FAIL, 30)
        # Give both a few more writes, then compare what each saw since.
        after_b = guest_b.console()[mark_b:]
        first_ok_b = int(re.search(OK, after_b).group(1))
        guest_b.wait_for_console(r'EBS-GUEST-WRITE-OK %d\b' % (
            first_ok_b + 5), 30)
        after_a = guest_a.console()[mark_a:]
        results_a = re.findall(r'EBS-GUEST-WRITE-(OK|FAIL) (\d+)', after_a)
        first_fail_a = next(int(seq) for kind, seq in results_a
                            if kind == 'FAIL')
        accepted_after_fence = [int(seq) for kind, seq in results_a
                                if kind == 'OK' and int(seq) > first_fail_a]
        self.assertEqual([], accepted_after_fence)
        self.assertEqual(
            {str(errno.EIO)},
            set(re.findall(r'EBS-GUEST-WRITE-FAIL \d+ (\d+)', after_a)))

        # On the disk: B's record is current, A's stopped at the fence.
        record_b = self.api.read(disk_id, inst_b, 2 << 20, 64)
        self.assertTrue(record_b.startswith(b'from-b seq='), record_b)
        record_a = self.api.read(disk_id, inst_b, 1 << 20, 64)
        seq_a = int(record_a.split(b'seq=')[1].split(b'\n')[0])
        self.assertLess(seq_a, first_fail_a)

        report = self.emu.admin('GET', 'reservations')['disks'][disk_id]
        self.assertEqual((inst_b, 'WRITE_EXCLUSIVE'),
                         (report['holder'], report['type']))
        self.assertGreater(report['counters'][inst_a]['writes_refused'], 0)

        for attacher, guest in attachments:
            attacher.detach(guest.uuid, volume_id)
            guest.wait_for_console(r'EBS-GUEST-DISK-GONE vd', 30)
