"""The per-disk record of mutating calls and its overlap rule."""

import io
import json
from unittest import mock

from alibabacloud_ecs20140526 import models as ecs_models
import testtools

from ebs_emulator import overlap_report
from ebs_emulator import overlaps
from tests.unit.emulator import base


class Clock(object):

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class RecorderTest(testtools.TestCase):
    """Intervals given by hand: which pairs are reported."""

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.recorder = overlaps.OverlapRecorder(clock=self.clock)

    def run_calls(self, *calls):
        """(action, disk, instance, start, end) each, in time order."""
        events = []
        for action, disk, instance, start, end in calls:
            events.append((start, 0, action, disk, instance))
            events.append((end, 1, action, disk, instance))
        ops = {}
        for moment, kind, action, disk, instance in sorted(events):
            self.clock.now = 1000.0 + moment
            key = (action, disk, instance)
            if kind == 0:
                ops[key] = self.recorder.begin(action, disk, instance)
            else:
                self.recorder.end(ops.pop(key))
        return self.recorder.report()

    def pairs(self, report):
        return [(pair['disk_id'], pair['first']['action'],
                 pair['second']['action']) for pair in report['overlaps']]

    def test_same_instance_attach_and_detach_overlap(self):
        report = self.run_calls(
            ('AttachDisk', 'd-1', 'i-1', 0, 2),
            ('DetachDisk', 'd-1', 'i-1', 1, 3))
        self.assertEqual(1, report['conflicts'])
        self.assertEqual([('d-1', 'AttachDisk', 'DetachDisk')],
                         self.pairs(report))
        self.assertEqual((1001.0, 1003.0), (
            report['overlaps'][0]['second']['started'],
            report['overlaps'][0]['second']['ended']))

    def test_attachments_to_different_instances_may_overlap(self):
        report = self.run_calls(
            ('AttachDisk', 'd-1', 'i-1', 0, 2),
            ('AttachDisk', 'd-1', 'i-2', 1, 3),
            ('DetachDisk', 'd-1', 'i-3', 1.5, 2.5))
        self.assertEqual((0, []), (report['conflicts'], self.pairs(report)))
        self.assertEqual({'AttachDisk': 2, 'DetachDisk': 1},
                         report['recorded'])

    def test_whole_disk_calls_conflict_with_anything(self):
        report = self.run_calls(
            ('AttachDisk', 'd-1', 'i-1', 0, 2),
            ('ResizeDisk', 'd-1', None, 1, 1.5),
            ('CreateSnapshot', 'd-2', None, 0, 2),
            ('DeleteDisk', 'd-2', None, 1, 1.2),
            ('TagResources', 'd-3', None, 0, 1),
            ('ResetDisk', 'd-3', None, 0.5, 2))
        self.assertEqual(3, report['conflicts'])
        self.assertEqual(sorted([('d-1', 'AttachDisk', 'ResizeDisk'),
                                 ('d-2', 'CreateSnapshot', 'DeleteDisk'),
                                 ('d-3', 'TagResources', 'ResetDisk')]),
                         sorted(self.pairs(report)))

    def test_back_to_back_and_other_disks_do_not_overlap(self):
        report = self.run_calls(
            ('AttachDisk', 'd-1', 'i-1', 0, 2),
            ('DetachDisk', 'd-1', 'i-1', 2, 3),
            ('DeleteDisk', 'd-1', None, 3, 3.1),
            ('DeleteDisk', 'd-2', None, 1, 1.1),
            ('CreateSnapshot', 'd-3', None, 0, 2),
            ('AttachDisk', 'd-3', 'i-1', 0.5, 1),
            ('ModifyDiskAttribute', 'd-3', None, 1, 1.1))
        self.assertEqual((0, []), (report['conflicts'], self.pairs(report)))
        self.assertEqual([], report['in_flight'])

    def test_long_call_is_compared_with_every_call_in_its_time(self):
        # Many finished calls on the disk while one stays in flight: none
        # of them is forgotten before the long one ends.
        calls = [('DetachDisk', 'd-1', 'i-1', 0, 50)]
        calls += [('AttachDisk', 'd-1', 'i-%d' % (n + 2), n, n + 0.5)
                  for n in range(40)]
        calls.append(('AttachDisk', 'd-1', 'i-1', 49, 49.5))
        report = self.run_calls(*calls)
        self.assertEqual([('d-1', 'DetachDisk', 'AttachDisk')],
                         self.pairs(report))

    def test_in_flight_and_reset(self):
        self.recorder.begin('AttachDisk', 'd-1', 'i-1')
        self.assertEqual(['d-1'], [op['disk_id'] for op in
                                   self.recorder.report()['in_flight']])
        self.recorder.reset()
        self.assertEqual(({}, []), (self.recorder.report()['recorded'],
                                    self.recorder.report()['in_flight']))


class EmulatorOverlapTest(base.SharedEmulatorTestCase):
    """Calls over the ECS API; the record from ``/_emulator/overlaps``."""

    transition_delay = 1.0
    use_loop_devices = 'no'

    def overlaps_of(self, disk_id):
        report = self.emu.admin('GET', 'overlaps')
        return [(pair['first']['action'], pair['first']['instance_id'],
                 pair['second']['action'], pair['second']['instance_id'],
                 pair['second']['error'])
                for pair in report['overlaps'] if pair['disk_id'] == disk_id]

    def test_refused_calls_in_flight_together_are_reported(self):
        disk_id = self.api.create_disk(multi_attach=True)
        self.api.attach(disk_id, 'i-emu0000', wait=False)
        # Another instance meanwhile: allowed.
        self.api.attach(disk_id, 'i-emu0001', wait=False)
        # The same instance while its attach is in flight: a conflict,
        # refused by the emulator too.
        self.assertEcsError('IncorrectDiskStatus', 403,
                            self.api.sdk.detach_disk,
                            ecs_models.DetachDiskRequest(
                                disk_id=disk_id, instance_id='i-emu0000'))
        self.api.wait_disk(disk_id, 'In_use')
        self.assertEqual([('AttachDisk', 'i-emu0000', 'DetachDisk',
                           'i-emu0000', 'IncorrectDiskStatus')],
                         self.overlaps_of(disk_id))
        self.api.detach(disk_id, 'i-emu0000')
        self.api.detach(disk_id, 'i-emu0001')
        self.api.delete_disk(disk_id)
        self.assertEqual(1, len(self.overlaps_of(disk_id)))

    def test_serialized_calls_are_not_reported(self):
        disk_id = self.api.create_disk(multi_attach=True)
        for instance in ('i-emu0000', 'i-emu0001'):
            self.api.attach(disk_id, instance)
        snapshot = self.api.create_snapshot(disk_id)
        for instance in ('i-emu0000', 'i-emu0001'):
            self.api.detach(disk_id, instance)
        self.api.sdk.resize_disk(ecs_models.ResizeDiskRequest(
            disk_id=disk_id, new_size=2))
        self.api.sdk.reset_disk(ecs_models.ResetDiskRequest(
            disk_id=disk_id, snapshot_id=snapshot))
        self.api.wait_disk(disk_id, 'Available')
        self.api.delete_disk(disk_id)
        self.assertEqual([], self.overlaps_of(disk_id))
        report = self.emu.admin('GET', 'overlaps')
        self.assertEqual([], [op for op in report['in_flight']
                              if op['disk_id'] == disk_id])
        for action in ('CreateDisk', 'AttachDisk', 'CreateSnapshot',
                       'ResizeDisk', 'DetachDisk', 'ResetDisk',
                       'DeleteDisk'):
            self.assertIn(action, report['recorded'])

    def test_cli_report(self):
        disk_id = self.api.create_disk(wait=False)
        self.assertEcsError('IncorrectDiskStatus', 403,
                            self.api.delete_disk, disk_id)
        self.api.wait_disk(disk_id, 'Available')
        self.api.delete_disk(disk_id)
        out = io.StringIO()
        with mock.patch('sys.stdout', out):
            code = overlap_report.main(['--url', self.emu.url,
                                        '--disk', disk_id])
        self.assertEqual(overlap_report.FOUND_OVERLAPS, code)
        self.assertRegex(out.getvalue(), r'disk %s: CreateDisk \S+ \.\. '
                         r'\S+  overlaps  DeleteDisk \S+ \.\. \S+ refused: '
                         r'IncorrectDiskStatus' % disk_id)
        out = io.StringIO()
        with mock.patch('sys.stdout', out):
            code = overlap_report.main(['--url', self.emu.url, '--disk',
                                        'd-none', '--json'])
        self.assertEqual(0, code)
        self.assertIn('rule', json.loads(out.getvalue()))
