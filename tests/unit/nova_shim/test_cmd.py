"""Unit tests of the ebs-nova-shim command line."""

import io
import json
from unittest import mock

import fixtures
import testtools

from nova_shim import cmd

VOL = '4c4d6c36-6e38-4a4b-9d3c-1f4f1f9f0a01'


class CommandTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir())
        self.dev = self.tmp.join('vol.img')
        open(self.dev, 'wb').close()
        self.out = self.useFixture(fixtures.MockPatch(
            'sys.stdout', new_callable=io.StringIO)).mock
        self.err = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=io.StringIO)).mock

    def test_xml(self):
        rc = cmd.main(['xml', '--volume-id', VOL, '--device-path', self.dev,
                       '--multiattach', '--target-dev', 'vdc'])
        self.assertEqual(0, rc, self.err.getvalue())
        xml = self.out.getvalue()
        self.assertIn('<shareable/>', xml)
        self.assertIn("dev=\"vdc\"", xml)
        self.assertIn('ua-' + VOL, xml)

    def test_xml_from_connection_info_file(self):
        path = self.tmp.join('ci.json')
        with open(path, 'w') as f:
            json.dump({'driver_volume_type': 'local', 'serial': VOL,
                       'data': {'device_path': self.dev, 'volume_id': VOL,
                                'access_mode': 'ro'}}, f)
        self.assertEqual(0, cmd.main(['xml', '--connection-info', path]))
        self.assertIn('<readonly/>', self.out.getvalue())
        self.assertNotIn('shareable', self.out.getvalue())

    def test_xml_bad_input_is_a_clear_error(self):
        rc = cmd.main(['xml', '--volume-id', VOL, '--device-path',
                       self.tmp.join('missing')])
        self.assertEqual(1, rc)
        self.assertIn('does not exist', self.err.getvalue())
        self.assertEqual(1, cmd.main(['xml', '--volume-id', VOL]))

    def test_no_volume_service(self):
        self.useFixture(fixtures.EnvironmentVariable('OS_AUTH_URL'))
        self.assertEqual(1, cmd.main(['attach', 'vm', VOL]))
        self.assertIn('no volume service', self.err.getvalue())

    def test_local_volumes(self):
        state = self.tmp.join('s.json')
        self.assertEqual(0, cmd.main(['--local-state', state, 'local', 'add',
                                      VOL, self.dev, '--multiattach']))
        self.assertEqual(0, cmd.main(['--local-state', state, 'local',
                                      'list']))
        listed = json.loads(self.out.getvalue())
        self.assertTrue(listed[VOL]['multiattach'])
        self.assertEqual(0, cmd.main(['--local-state', state, 'local',
                                      'remove', VOL]))

    @mock.patch('nova_shim.cmd._attacher')
    def test_attach_and_detach(self, attacher):
        shim = attacher.return_value
        shim.attach.return_value = {'attachment_id': 'a1',
                                    'target_dev': 'vdb',
                                    'device_path': self.dev,
                                    'disk_xml': '<disk/>'}
        shim.detach.return_value = {'attachment_id': 'a1',
                                    'disconnected': True}
        state = self.tmp.join('s.json')
        self.assertEqual(0, cmd.main(['--local-state', state, 'attach', 'vm',
                                      VOL, '--mode', 'ro']))
        shim.attach.assert_called_once_with('vm', VOL, mode='ro',
                                            target_dev=None)
        self.assertEqual('vdb', json.loads(self.out.getvalue())['target_dev'])
        self.assertEqual(0, cmd.main(['--local-state', state, 'detach', 'vm',
                                      VOL]))
        shim.detach.assert_called_once_with('vm', VOL)
        self.assertEqual(2, shim.conn.close.call_count)

    @mock.patch('nova_shim.cmd._attacher')
    @mock.patch('nova_shim.volume_api.cinder.CinderVolumeAPI.noauth')
    def test_noauth_user_and_project(self, noauth, attacher):
        attacher.return_value.detach.return_value = {'attachment_id': 'a1'}
        endpoint = 'http://127.0.0.1:8776/v3/p1'
        self.assertEqual(0, cmd.main(['--cinder-endpoint', endpoint,
                                      '--project-id', 'p1', '--user-id',
                                      'nova', 'detach', 'vm', VOL]))
        noauth.assert_called_once_with(endpoint, project_id='p1',
                                       user_id='nova', service_token=None)
        self.assertEqual(0, cmd.main(['--cinder-endpoint', endpoint,
                                      '--service-token', 'tok',
                                      'detach', 'vm', VOL]))
        self.assertEqual('admin', noauth.call_args[1]['user_id'])
        self.assertEqual('tok', noauth.call_args[1]['service_token'])
