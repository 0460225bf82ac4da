"""Persistent reservations enforced by the emulator's FUSE data path.

Real processes (``tests.pr_tool``) issue the real ``<linux/pr.h>`` ioctls
and O_DIRECT I/O on two instances' device paths of one multi-attach disk
served by a real emulator process; the emulator's FUSE daemon applies the
reservations per instance. Needs root and FUSE; skipped otherwise.
"""

import json
import os
import subprocess
import sys

import testtools

from ebs_emulator import datapath
from tests.unit.emulator import base

REASON = datapath.unavailable_reason()
KEY_A, KEY_B = 'a1a1', 'b2b2'


def pr(device, *args):
    """Run one call of tests.pr_tool in its own process."""
    out = subprocess.run(
        [sys.executable, '-m', 'tests.pr_tool', device] + list(args),
        capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


@testtools.skipIf(REASON, REASON)
class FencedDataPathTestCase(base.OwnEmulatorTestCase):

    fuse_views = 'yes'

    def setUp(self):
        super().setUp()
        self.inst_a, self.inst_b = [
            i['InstanceId'] for i in self.emu.instances[:2]]
        disk = self.api.create_disk(size=1, multi_attach=True)
        self.disk_id = disk
        self.api.attach(self.disk_id, self.inst_a)
        self.api.attach(self.disk_id, self.inst_b)
        self.dev_a = self.api.device(self.disk_id, self.inst_a)
        self.dev_b = self.api.device(self.disk_id, self.inst_b)

    def report(self):
        answer = self.emu.admin('GET', 'reservations')
        self.assertTrue(answer['enforced'])
        return answer['disks'][self.disk_id]

    def fence_a(self):
        """a registers and reserves; b registers and preempts a."""
        self.assertEqual('ok', pr(self.dev_a, 'register', KEY_A)['result'])
        self.assertEqual('ok', pr(self.dev_b, 'register', KEY_B)['result'])
        self.assertEqual('ok', pr(self.dev_a, 'reserve', KEY_A)['result'])
        self.assertEqual('ok', pr(self.dev_a, 'write', '0',
                                  'from a')['result'])
        self.assertEqual({'result': 'conflict'},
                         pr(self.dev_b, 'write', '0', 'from b'))
        self.assertEqual('ok', pr(self.dev_b, 'preempt', KEY_B, KEY_A,
                                  'WRITE_EXCLUSIVE', '--abort')['result'])

    def test_views_share_data_and_point_into_the_fuse_mount(self):
        for device, instance in ((self.dev_a, self.inst_a),
                                 (self.dev_b, self.inst_b)):
            target = os.path.realpath(device)
            self.assertEqual(
                os.path.join(self.emu.state_dir, 'views', instance),
                os.path.dirname(target))
        self.assertEqual('ok', pr(self.dev_a, 'write', '4096',
                                  'shared')['result'])
        self.assertEqual({'result': 'ok', 'data': 'shared'},
                         pr(self.dev_b, 'read', '4096', '6'))

    def test_write_exclusive_fences_writes_not_reads(self):
        self.fence_a()
        self.assertEqual({'result': 'conflict'},
                         pr(self.dev_a, 'write', '0', 'late a'))
        # The fenced host still reads under write exclusive.
        self.assertEqual({'result': 'ok', 'data': 'from a'},
                         pr(self.dev_a, 'read', '0', '6'))
        self.assertEqual('ok', pr(self.dev_b, 'write', '0',
                                  'from b')['result'])
        # The old holder's reservation calls are refused too.
        self.assertEqual({'result': 'conflict'},
                         pr(self.dev_a, 'reserve', KEY_A))
        report = self.report()
        self.assertEqual(('WRITE_EXCLUSIVE', self.inst_b),
                         (report['type'], report['holder']))
        self.assertEqual([self.inst_b],
                         [r['host'] for r in report['registrants']])
        counts = report['counters'][self.inst_a]
        self.assertEqual(1, counts['writes_refused'])
        self.assertGreaterEqual(counts['pr_refused'], 1)

    def test_exclusive_access_fences_reads(self):
        self.assertEqual('ok', pr(self.dev_a, 'register', KEY_A)['result'])
        self.assertEqual('ok', pr(self.dev_a, 'reserve', KEY_A,
                                  'EXCLUSIVE_ACCESS')['result'])
        self.assertEqual({'result': 'conflict'},
                         pr(self.dev_b, 'read', '0', '4'))
        self.assertEqual('ok', pr(self.dev_a, 'read', '0', '4')['result'])

    def test_state_survives_an_emulator_restart(self):
        self.fence_a()
        before = self.report()
        self.emu.restart()
        after = self.report()
        for field in ('generation', 'type', 'holder', 'registrants'):
            self.assertEqual(before[field], after[field], field)
        self.assertEqual({'result': 'conflict'},
                         pr(self.dev_a, 'write', '0', 'after restart'))
        self.assertEqual('ok', pr(self.dev_b, 'write', '0',
                                  'b again')['result'])

    def test_detach_drops_the_registration(self):
        self.fence_a()
        self.api.detach(self.disk_id, self.inst_b)
        report = self.report()
        self.assertEqual(([], None),
                         (report['registrants'], report['type']))
        self.api.attach(self.disk_id, self.inst_b)
        self.assertEqual('ok', pr(self.dev_a, 'write', '0',
                                  'a is free')['result'])

    def test_delete_drops_everything(self):
        self.fence_a()
        self.api.detach(self.disk_id, self.inst_a)
        self.api.detach(self.disk_id, self.inst_b)
        self.api.delete_disk(self.disk_id)
        self.assertNotIn(self.disk_id,
                         self.emu.admin('GET', 'reservations')['disks'])

    def test_resv_report_command(self):
        self.fence_a()
        out = subprocess.run(
            [sys.executable, '-m', 'ebs_emulator.cmd', 'resv-report',
             '--url', 'http://%s' % self.emu.endpoint,
             '--disk', self.disk_id],
            capture_output=True, text=True, check=True, timeout=60)
        self.assertIn('disk %s' % self.disk_id, out.stdout)
        self.assertIn('rtype     : 1 (WRITE_EXCLUSIVE)', out.stdout)
        self.assertIn('regctl    : 1', out.stdout)
        self.assertIn('  host    : %s' % self.inst_b, out.stdout)
        self.assertIn('  rkey    : 0x000000000000b2b2', out.stdout)


class NotEnforcedTestCase(base.OwnEmulatorTestCase):
    """Without the FUSE data path the emulator says so."""

    fuse_views = 'no'

    def test_state_and_report_say_not_enforced(self):
        self.assertFalse(
            self.emu.get_state()['service']['reservations_enforced'])
        self.assertEqual({'enforced': False, 'disks': {}},
                         self.emu.admin('GET', 'reservations'))
        out = subprocess.run(
            [sys.executable, '-m', 'ebs_emulator.cmd', 'resv-report',
             '--url', 'http://%s' % self.emu.endpoint],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(3, out.returncode)
        self.assertIn('does not enforce', out.stderr)
        self.assertIn('persistent reservations are NOT enforced',
                      self.emu._read_log().decode())
