"""Unit tests of nova_shim.volume_api."""

from unittest import mock

import fixtures
import testtools

from nova_shim import exception
from nova_shim import volume_api

VOL = '4c4d6c36-6e38-4a4b-9d3c-1f4f1f9f0a01'
INST_A = '11111111-1111-4111-8111-111111111111'
INST_B = '22222222-2222-4222-8222-222222222222'


class LocalVolumesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).join('state.json')
        self.api = volume_api.LocalVolumes(self.state)

    def test_connection_info(self):
        self.api.add_volume(VOL, '/dev/loop3', multiattach=True)
        att = self.api.attachment_create(VOL, {'host': 'h1'}, INST_A, 'ro')
        self.assertEqual(
            {'driver_volume_type': 'local',
             'data': {'device_path': '/dev/loop3', 'volume_id': VOL,
                      'access_mode': 'ro', 'multiattach': True,
                      'discard': False}},
            att['connection_info'])
        self.assertEqual('available', self.api.get_volume(VOL)['status'])
        self.api.attachment_complete(att['id'])
        vol = self.api.get_volume(VOL)
        self.assertEqual('in-use', vol['status'])
        self.assertEqual([{'id': att['id'], 'instance_uuid': INST_A,
                           'host': 'h1'}], vol['attachments'])
        self.assertEqual(INST_A,
                         self.api.attachment_get(att['id'])['instance_uuid'])

    def test_state_is_shared_between_instances(self):
        self.api.add_volume(VOL, '/dev/loop3')
        att = self.api.attachment_create(VOL, {'host': 'h1'}, INST_A)
        other = volume_api.LocalVolumes(self.state)
        self.assertEqual([att['id']],
                         other.list_volumes()[VOL]['attachments'])
        other.attachment_delete(att['id'])
        self.assertEqual([], self.api.list_attachments(VOL))

    def test_single_attach_refuses_second_instance(self):
        self.api.add_volume(VOL, '/dev/loop3', multiattach=False)
        self.api.attachment_create(VOL, {'host': 'h1'}, INST_A)
        error = self.assertRaises(exception.VolumeNotShareable,
                                  self.api.attachment_create, VOL,
                                  {'host': 'h2'}, INST_B)
        self.assertIn(INST_A, str(error))
        # The same instance may get another attachment (retry).
        self.api.attachment_create(VOL, {'host': 'h1'}, INST_A)

    def test_multiattach_accepts_second_instance(self):
        self.api.add_volume(VOL, '/dev/loop3', multiattach=True)
        self.api.attachment_create(VOL, {'host': 'h1'}, INST_A)
        self.api.attachment_create(VOL, {'host': 'h2'}, INST_B)
        self.assertEqual(2, len(self.api.get_volume(VOL)['attachments']))

    def test_errors(self):
        self.assertRaises(exception.ShimError, self.api.get_volume, VOL)
        self.assertRaises(exception.AttachmentNotFound,
                          self.api.attachment_get, 'nope')
        self.api.add_volume(VOL, '/dev/loop3')
        self.assertRaises(exception.ShimError, self.api.attachment_create,
                          VOL, {}, INST_A, 'wo')
        att = self.api.attachment_create(VOL, {}, INST_A)
        self.assertRaises(exception.ShimError, self.api.remove_volume, VOL)
        self.api.attachment_delete(att['id'])
        self.api.attachment_delete(att['id'])
        self.api.remove_volume(VOL)
        self.assertEqual({}, self.api.list_volumes())

    def test_in_memory(self):
        api = volume_api.LocalVolumes()
        api.add_volume(VOL, '/dev/loop3')
        self.assertFalse(api.get_volume(VOL)['multiattach'])


class CinderVolumeAPITest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.client = mock.Mock()
        self.useFixture(fixtures.MockPatch('cinderclient.client.Client',
                                           return_value=self.client))
        self.api = volume_api.CinderVolumeAPI.noauth(
            'http://127.0.0.1:8776/v3/{project_id}', project_id='p1')

    def test_microversion_floor(self):
        self.assertRaises(ValueError, volume_api.CinderVolumeAPI,
                          mock.Mock(), microversion='3.44')

    def test_noauth_token(self):
        from cinderclient import client

        session = client.Client.call_args[1]['session']
        self.assertEqual('admin:p1', session.auth.get_token(session))
        self.assertEqual('http://127.0.0.1:8776/v3/p1',
                         client.Client.call_args[1]['endpoint_override'])

    def test_get_volume(self):
        vol = mock.Mock(id=VOL, multiattach=True, status='in-use',
                        attachments=[{'attachment_id': 'a1',
                                      'server_id': INST_A,
                                      'host_name': 'h1'}])
        self.client.volumes.get.return_value = vol
        self.assertEqual({'id': VOL, 'multiattach': True, 'status': 'in-use',
                          'attachments': [{'id': 'a1',
                                           'instance_uuid': INST_A,
                                           'host': 'h1'}]},
                         self.api.get_volume(VOL))

    def test_attachment_calls(self):
        # python-cinderclient's attachments.create() returns a plain dict,
        # and Cinder answers the connection info flat.
        self.client.attachments.create.return_value = {
            'id': 'a1', 'volume_id': VOL, 'instance': INST_A,
            'connection_info': {'driver_volume_type': 'local',
                                'device_path': '/dev/sdx',
                                'attachment_id': 'a1'}}
        result = self.api.attachment_create(VOL, {'host': 'h1'}, INST_A,
                                            'rw')
        self.client.attachments.create.assert_called_once_with(
            VOL, {'host': 'h1'}, INST_A, 'rw')
        self.assertEqual('a1', result['id'])
        self.assertEqual({'driver_volume_type': 'local',
                          'data': {'device_path': '/dev/sdx'}},
                         result['connection_info'])
        self.api.attachment_complete('a1')
        self.client.attachments.complete.assert_called_once_with('a1')
        self.api.attachment_delete('a1')
        self.client.attachments.delete.assert_called_once_with('a1')

    def test_attachment_get_reads_a_resource(self):
        # ... while attachments.show() returns a Resource.
        att = mock.Mock()
        att.to_dict.return_value = {
            'id': 'a1', 'volume_id': VOL, 'instance': INST_A,
            'connection_info': {'driver_volume_type': 'local',
                                'data': {'device_path': '/dev/sdx'}}}
        self.client.attachments.show.return_value = att
        result = self.api.attachment_get('a1')
        self.assertEqual(INST_A, result['instance_uuid'])
        self.assertEqual('local',
                         result['connection_info']['driver_volume_type'])

    def test_missing_attachment(self):
        from cinderclient import exceptions as cinder_exc

        self.client.attachments.show.side_effect = cinder_exc.NotFound(404)
        self.assertRaises(exception.AttachmentNotFound,
                          self.api.attachment_get, 'a1')
        self.client.attachments.delete.side_effect = cinder_exc.NotFound(404)
        self.api.attachment_delete('a1')
