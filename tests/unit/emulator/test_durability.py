"""State survives a restart of the emulator on the same state dir."""

import os
import uuid

from alibabacloud_ecs20140526 import models as ecs_models

from tests.unit.emulator import base


class RestartTest(base.OwnEmulatorTestCase):

    def test_everything_survives_a_restart(self):
        token = str(uuid.uuid4())
        tags = [ecs_models.CreateDiskRequestTag(key='cinder-volume-id',
                                                value='vol-9')]
        multi = self.api.create_disk(multi_attach=True, client_token=token,
                                     tag=tags, disk_name='kept')
        for n in range(3):
            self.api.attach(multi, 'i-emu%04d' % n)
        data = os.urandom(base.MIB)
        self.api.write(multi, 'i-emu0000', 0, data)
        snapshot_id = self.api.create_snapshot(multi)
        single = self.api.create_disk(size=30, category='cloud_ssd',
                                      level=None)
        before_disks = self.api.disks()['Disks']['Disk']
        before_snaps = self.api.snapshots()['Snapshots']['Snapshot']

        self.emu.restart()
        self.api = base.EmulatorClient(self, self.emu)

        self.assertEqual(before_disks, self.api.disks()['Disks']['Disk'])
        self.assertEqual(before_snaps,
                         self.api.snapshots()['Snapshots']['Snapshot'])
        # The idempotency token is remembered too.
        again = self.api.create_disk(multi_attach=True, client_token=token,
                                     tag=tags, disk_name='kept', wait=False)
        self.assertEqual(multi, again)
        # Attached disks are exposed again, with their data.
        for n in range(3):
            self.assertEqual(data, self.api.read(multi, 'i-emu%04d' % n, 0,
                                                 base.MIB))
        self.api.detach(multi, 'i-emu0001')
        self.assertFalse(os.path.lexists(self.api.device(multi,
                                                         'i-emu0001')))
        copy = self.api.create_disk(snapshot_id=snapshot_id, size=1,
                                    category='cloud_auto', level=None)
        self.api.attach(copy, 'i-emu0005')
        self.assertEqual(data, self.api.read(copy, 'i-emu0005', 0, base.MIB))
        self.api.delete_disk(single)


class InFlightRestartTest(base.OwnEmulatorTestCase):
    # Long enough for the restart to happen mid-transition.
    transition_delay = 3.0

    def test_transitions_finish_after_a_restart(self):
        attached = self.api.create_disk(multi_attach=True)
        detached = self.api.create_disk()
        self.api.attach(detached, 'i-emu0002')
        creating = self.api.create_disk(wait=False)
        self.api.attach(attached, 'i-emu0001', wait=False)
        self.api.detach(detached, 'i-emu0002', wait=False)
        snapshot_id = self.api.create_snapshot(detached, wait=False,
                                               attach_first=False)
        self.assertEqual('Creating', self.api.disk(creating)['Status'])
        self.assertEqual('Attaching', self.api.disk(attached)['Status'])
        self.assertEqual('Detaching', self.api.disk(detached)['Status'])
        self.assertEqual('progressing',
                         self.api.snapshot(snapshot_id)['Status'])

        self.emu.restart()
        self.api = base.EmulatorClient(self, self.emu)

        self.api.wait_disk(creating, 'Available')
        self.api.wait_disk(attached, 'In_use')
        self.api.wait_disk(detached, 'Available')
        self.assertEqual(['i-emu0001'], self.api.attached_instances(attached))
        self.assertTrue(os.path.islink(self.api.device(attached,
                                                       'i-emu0001')))
        self.assertFalse(os.path.lexists(self.api.device(detached,
                                                         'i-emu0002')))
        self.api.wait_for(lambda: self.api.snapshot(snapshot_id),
                          lambda snap: snap['Status'] == 'accomplished',
                          'snapshot after restart')
