"""nova_shim's Cinder client against Cinder's real API and this driver.

What the compute side does around a live attach, over HTTP, in Nova's
order: a reserved attachment without a connector, the attachment updated
with the host connector (os-brick, host name overridden to one of the
emulator's instances) and answering the connection info, the attachment
completed, the volume's view; then the volume marked detaching and the
attachment deleted. The client has no service token here, so it creates
attachments at 3.50 as the API guard asks of end users.
"""

from tests.functional import cinder_harness  # noqa: I100  isort:skip

from nova_shim import exception
from nova_shim import host
from nova_shim.volume_api import cinder as cinder_volumes


class CinderVolumeAPITest(cinder_harness.EBSFunctionalTestBase):

    def setUp(self):
        super().setUp()
        host.init_privsep()
        auth = self.api._authenticate()
        endpoint = auth['x-server-management-url']
        self.project_id = endpoint.rstrip('/').rsplit('/', 1)[1]
        self.cinder = cinder_volumes.CinderVolumeAPI.noauth(
            endpoint, project_id=self.project_id)

    def _connector(self, index):
        props = host.get_host_connector(host=self.host_name(index),
                                        my_ip='127.0.0.1')
        props['system uuid'] = self.instance(index)['SerialNumber']
        return props

    def test_attachment_cycle_for_two_hosts(self):
        vtype = self.create_type(multiattach=True)
        volume_id = self.create_volume(volume_type=vtype['id'])['id']
        self.assertTrue(self.cinder.get_volume(volume_id)['multiattach'])

        atts = []
        for index, server in ((0, 'a' * 8 + '-0000-4000-8000-' + '0' * 12),
                              (1, 'b' * 8 + '-0000-4000-8000-' + '0' * 12)):
            att = self.cinder.attachment_create(volume_id, server)
            self.assertIsNone(self.cinder.attachment_get(att['id'])[
                'connection_info'] or None)
            att = self.cinder.attachment_update(
                att['id'], self._connector(index), mountpoint='/dev/vdb')
            info = att['connection_info']
            self.assertEqual('local', info['driver_volume_type'])
            self.assertTrue(info['data']['multiattach'])
            self.assertIn(self.instance(index)['InstanceId'],
                          info['data']['device_path'])
            self.cinder.attachment_complete(att['id'])
            got = self.cinder.attachment_get(att['id'])
            self.assertEqual(server, got['instance_uuid'])
            self.assertEqual(info['data']['device_path'],
                             got['connection_info']['data']['device_path'])
            atts.append(att['id'])

        vol = self.cinder.get_volume(volume_id)
        self.assertEqual('in-use', vol['status'])
        self.assertEqual(sorted(atts),
                         sorted(a['id'] for a in vol['attachments']))
        self.assertEqual({self.host_name(0), self.host_name(1)},
                         {a['host'] for a in vol['attachments']})

        for att_id in atts:
            self.cinder.begin_detaching(volume_id)
            self.cinder.attachment_delete(att_id)
        self.assertRaises(exception.AttachmentNotFound,
                          self.cinder.attachment_get, atts[0])
        # Deleting twice is not an error.
        self.cinder.attachment_delete(atts[0])
        self.wait_volume(volume_id, 'available')
        self.delete_volume(volume_id)
