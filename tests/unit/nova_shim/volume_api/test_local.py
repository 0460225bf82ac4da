"""Unit tests of nova_shim.volume_api.local."""

import fixtures
import testtools

from nova_shim import exception
from nova_shim.volume_api import local as local_volumes

VOL = '4c4d6c36-6e38-4a4b-9d3c-1f4f1f9f0a01'
INST_A = '11111111-1111-4111-8111-111111111111'
INST_B = '22222222-2222-4222-8222-222222222222'


class LocalVolumesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).join('state.json')
        self.api = local_volumes.LocalVolumes(self.state)

    def test_connection_info(self):
        self.api.add_volume(VOL, '/dev/loop3', multiattach=True)
        att = self.api.attachment_create(VOL, INST_A, 'ro')
        self.assertEqual({'id': att['id']}, att)
        self.assertIsNone(
            self.api.attachment_get(att['id'])['connection_info'])
        updated = self.api.attachment_update(att['id'], {'host': 'h1'},
                                             mountpoint='/dev/vdb')
        self.assertEqual(
            {'driver_volume_type': 'local',
             'data': {'device_path': '/dev/loop3', 'volume_id': VOL,
                      'access_mode': 'ro', 'multiattach': True,
                      'discard': False}},
            updated['connection_info'])
        self.assertEqual('available', self.api.get_volume(VOL)['status'])
        self.api.attachment_complete(att['id'])
        vol = self.api.get_volume(VOL, shared_targets=True)
        self.assertEqual('in-use', vol['status'])
        self.assertEqual([{'id': att['id'], 'instance_uuid': INST_A,
                           'host': 'h1'}], vol['attachments'])
        self.assertEqual(INST_A,
                         self.api.attachment_get(att['id'])['instance_uuid'])
        self.api.begin_detaching(VOL)
        self.api.roll_detaching(VOL)

    def test_state_is_shared_between_instances(self):
        self.api.add_volume(VOL, '/dev/loop3')
        att = self.api.attachment_create(VOL, INST_A)
        other = local_volumes.LocalVolumes(self.state)
        self.assertEqual([att['id']],
                         other.list_volumes()[VOL]['attachments'])
        other.attachment_delete(att['id'])
        self.assertEqual([], self.api.list_attachments(VOL))

    def test_single_attach_refuses_second_instance(self):
        self.api.add_volume(VOL, '/dev/loop3', multiattach=False)
        self.api.attachment_create(VOL, INST_A)
        error = self.assertRaises(exception.VolumeNotShareable,
                                  self.api.attachment_create, VOL, INST_B)
        self.assertIn(INST_A, str(error))
        # The same instance may get another attachment (retry).
        self.api.attachment_create(VOL, INST_A)

    def test_multiattach_accepts_second_instance(self):
        self.api.add_volume(VOL, '/dev/loop3', multiattach=True)
        self.api.attachment_create(VOL, INST_A)
        self.api.attachment_create(VOL, INST_B)
        self.assertEqual(2, len(self.api.get_volume(VOL)['attachments']))

    def test_errors(self):
        self.assertRaises(exception.ShimError, self.api.get_volume, VOL)
        self.assertRaises(exception.AttachmentNotFound,
                          self.api.attachment_get, 'nope')
        self.assertRaises(exception.AttachmentNotFound,
                          self.api.attachment_update, 'nope', {})
        self.api.add_volume(VOL, '/dev/loop3')
        self.assertRaises(exception.ShimError, self.api.attachment_create,
                          VOL, INST_A, 'wo')
        att = self.api.attachment_create(VOL, INST_A)
        self.assertRaises(exception.ShimError, self.api.remove_volume, VOL)
        self.api.attachment_delete(att['id'])
        self.api.attachment_delete(att['id'])
        self.api.remove_volume(VOL)
        self.assertEqual({}, self.api.list_volumes())

    def test_in_memory(self):
        api = local_volumes.LocalVolumes()
        api.add_volume(VOL, '/dev/loop3')
        self.assertFalse(api.get_volume(VOL)['multiattach'])
