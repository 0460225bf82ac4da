"""Unit tests of nova_shim.volume_api.cinder."""

from unittest import mock

import fixtures
import testtools

from nova_shim import exception
from nova_shim.volume_api import cinder as cinder_volumes

VOL = '4c4d6c36-6e38-4a4b-9d3c-1f4f1f9f0a01'
INST_A = '11111111-1111-4111-8111-111111111111'


class CinderVolumeAPITest(testtools.TestCase):
    """One cinderclient per microversion; which call uses which."""

    def setUp(self):
        super().setUp()
        self.clients = {}
        self.useFixture(fixtures.MockPatch('cinderclient.client.Client',
                                           side_effect=self._client))
        self.api = cinder_volumes.CinderVolumeAPI.noauth(
            'http://127.0.0.1:8776/v3/{project_id}', project_id='p1',
            service_token='compute-token')

    def _client(self, version, **kwargs):
        client = mock.Mock(kwargs=kwargs)
        self.clients[version.get_string()] = client
        return client

    def test_noauth_token_and_service_token(self):
        client = self.api.client('3.44')
        session = client.kwargs['session']
        self.assertEqual('admin:p1', session.auth.get_token(session))
        self.assertEqual({'X-Auth-Token': 'admin:p1',
                          'X-Service-Token': 'compute-token'},
                         session.auth.get_headers(session))
        self.assertEqual('http://127.0.0.1:8776/v3/p1',
                         client.kwargs['endpoint_override'])
        # One client per microversion.
        self.assertIs(client, self.api.client('3.44'))

    def test_without_service_token(self):
        api = cinder_volumes.CinderVolumeAPI.noauth(
            'http://127.0.0.1:8776/v3/p1')
        session = api.client('3.0').kwargs['session']
        self.assertNotIn('X-Service-Token', session.auth.get_headers(session))
        self.assertEqual('3.50', api.attachment_create_version())
        self.assertEqual('3.44', self.api.attachment_create_version())
        self.assertEqual('3.54', self.api.attachment_create_version('ro'))
        self.assertEqual('3.54', api.attachment_create_version('ro'))

    def test_get_volume(self):
        vol = mock.Mock(id=VOL, multiattach=True, status='in-use',
                        attachments=[{'attachment_id': 'a1',
                                      'server_id': INST_A,
                                      'host_name': 'h1'}])
        self.api.client('3.0').volumes.get.return_value = vol
        self.assertEqual({'id': VOL, 'multiattach': True, 'status': 'in-use',
                          'attachments': [{'id': 'a1',
                                           'instance_uuid': INST_A,
                                           'host': 'h1'}]},
                         self.api.get_volume(VOL))

    def test_reads(self):
        vol = mock.Mock(id=VOL, multiattach=False, status='available',
                        attachments=[])
        self.api.client('3.0').volumes.get.return_value = vol
        self.api.client('3.69').volumes.get.return_value = vol
        self.api.get_volume(VOL)
        self.clients['3.0'].volumes.get.assert_called_once_with(VOL)
        self.api.get_volume(VOL, shared_targets=True)
        self.clients['3.69'].volumes.get.assert_called_once_with(VOL)

    def test_attachment_calls(self):
        att_client = self.api.client('3.44')
        att_client.attachments.create.return_value = {'id': 'a1'}
        self.assertEqual({'id': 'a1'},
                         self.api.attachment_create(VOL, INST_A, 'rw'))
        # Reserved: no connector, no mode, as Nova's API creates it.
        att_client.attachments.create.assert_called_once_with(
            VOL, None, INST_A, 'null')
        updated = mock.Mock()
        # Cinder answers the connection info flat.
        updated.to_dict.return_value = {
            'id': 'a1', 'volume_id': VOL, 'instance': INST_A,
            'connection_info': {'driver_volume_type': 'local',
                                'device_path': '/dev/sdx',
                                'attachment_id': 'a1'}}
        att_client.attachments.update.return_value = updated
        connector = {'host': 'h1'}
        result = self.api.attachment_update('a1', connector,
                                            mountpoint='/dev/vdb')
        att_client.attachments.update.assert_called_once_with(
            'a1', {'host': 'h1', 'mountpoint': '/dev/vdb'})
        self.assertEqual({'host': 'h1'}, connector)
        self.assertEqual({'driver_volume_type': 'local',
                          'data': {'device_path': '/dev/sdx'}},
                         result['connection_info'])
        self.api.attachment_complete('a1')
        att_client.attachments.complete.assert_called_once_with('a1')
        self.api.attachment_delete('a1')
        att_client.attachments.delete.assert_called_once_with('a1')
        self.api.begin_detaching(VOL)
        self.clients['3.0'].volumes.begin_detaching.assert_called_once_with(
            VOL)
        self.api.roll_detaching(VOL)
        self.clients['3.0'].volumes.roll_detaching.assert_called_once_with(
            VOL)

    def test_read_only_attachment_names_its_mode(self):
        self.api.client('3.54').attachments.create.return_value = {
            'id': 'a1'}
        self.api.attachment_create(VOL, INST_A, 'ro')
        self.clients['3.54'].attachments.create.assert_called_once_with(
            VOL, None, INST_A, 'ro')

    def test_update_and_delete_retried_on_server_errors(self):
        from cinderclient import exceptions as cinder_exc

        manager = self.api.client('3.44').attachments
        manager.delete.side_effect = [cinder_exc.ClientException(500),
                                      cinder_exc.ClientException(504), None]
        self.api.attachment_delete('a1')
        self.assertEqual(3, manager.delete.call_count)
        manager.update.side_effect = cinder_exc.ClientException(500)
        self.assertRaises(cinder_exc.ClientException,
                          self.api.attachment_update, 'a1', {})
        self.assertEqual(cinder_volumes.RETRY_ATTEMPTS,
                         manager.update.call_count)
        manager.update.reset_mock()
        manager.update.side_effect = cinder_exc.BadRequest(400)
        self.assertRaises(cinder_exc.BadRequest,
                          self.api.attachment_update, 'a1', {})
        self.assertEqual(1, manager.update.call_count)

    def test_attachment_get_reads_a_resource(self):
        # ... while attachments.show() returns a Resource.
        att = mock.Mock()
        att.to_dict.return_value = {
            'id': 'a1', 'volume_id': VOL, 'instance': INST_A,
            'connection_info': {'driver_volume_type': 'local',
                                'data': {'device_path': '/dev/sdx'}}}
        self.api.client('3.44').attachments.show.return_value = att
        result = self.api.attachment_get('a1')
        self.assertEqual(INST_A, result['instance_uuid'])
        self.assertEqual('local',
                         result['connection_info']['driver_volume_type'])

    def test_missing_attachment(self):
        from cinderclient import exceptions as cinder_exc

        manager = self.api.client('3.44').attachments
        manager.show.side_effect = cinder_exc.NotFound(404)
        self.assertRaises(exception.AttachmentNotFound,
                          self.api.attachment_get, 'a1')
        manager.delete.side_effect = cinder_exc.NotFound(404)
        self.api.attachment_delete('a1')
