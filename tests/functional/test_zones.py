"""A disk attaches only to instances of its zone.

One emulated instance is in another zone of the region. ECS refuses to
attach a zonal disk there (``ResourcesNotInSameZone``, rule
``attach-same-zone`` of the rule book); the driver turns that into a
clear error and nothing changes on the backend.
"""

import logging

import fixtures

from ebs_emulator import config
from tests.functional import cinder_harness

OTHER_ZONE = 'emu-zone-b'
OTHER_ZONE_INDEX = 5


def instances():
    listed = config.default_instances(20)
    listed[OTHER_ZONE_INDEX]['ZoneId'] = OTHER_ZONE
    return listed


class TestZones(cinder_harness.EBSFunctionalTestBase):

    EMULATOR_KWARGS = {'instances': instances()}

    def test_attach_to_another_zone_refused_clearly(self):
        errors = self.useFixture(fixtures.FakeLogger(
            name='cinder_ebs_driver.attachments', level=logging.ERROR))
        volume = self.create_volume(size=1)
        disk_id = self.volume_disk(volume['id'])['DiskId']
        status, body = self.create_attachment(
            volume['id'], self.connector(OTHER_ZONE_INDEX), expect=None)
        self.assertGreaterEqual(status, 400, body)
        self.assertEqual([], self.disk_instances(self.backend_disk(disk_id)))
        self.assertIn('is in zone %s; ECS attaches it only to instances of '
                      'that zone' % self.emulator.zone_id, errors.output)
        self.assertIn('ResourcesNotInSameZone', errors.output)
        # The same volume attaches in its own zone.
        for attachment in self.get_attachments(volume['id']):
            self.delete_attachment(attachment['id'])
        attachment = self.create_attachment(volume['id'], self.connector(0))
        self.assertEqual([self.instance(0)['InstanceId']],
                         self.disk_instances(self.backend_disk(disk_id)))
        self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])
