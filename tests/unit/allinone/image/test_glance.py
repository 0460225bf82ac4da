"""ebs_allinone.image: Glance's configuration and its server's input."""

import io
import os
from unittest import mock

import fixtures
import testtools

from ebs_allinone.cinder import config as cinder_config
from ebs_allinone.image import glance
from ebs_allinone.image import glance_server
from ebs_allinone import stack


class FakeKeystone(object):
    url = 'http://127.0.0.1:5000/v3'
    passwords = {'glance': 'secret'}


class GlanceConfTest(testtools.TestCase):

    def test_private_state_file_store_and_keystone(self):
        self.useFixture(fixtures.MonkeyPatch(
            'ebs_allinone.image.glance.paste_ini', lambda: '/paste.ini'))
        conf = glance.glance_api_conf('/run/glance', FakeKeystone(), 9292)
        self.assertEqual('127.0.0.1', conf['DEFAULT']['bind_host'])
        self.assertEqual('9292', conf['DEFAULT']['bind_port'])
        self.assertEqual('1', conf['DEFAULT']['workers'])
        self.assertEqual('sqlite:////run/glance/glance.sqlite',
                         conf['database']['connection'])
        self.assertEqual('local:file', conf['DEFAULT']['enabled_backends'])
        self.assertEqual('local', conf['glance_store']['default_backend'])
        self.assertEqual('/run/glance/images',
                         conf['local']['filesystem_store_datadir'])
        for reserved in ('os_glance_staging_store', 'os_glance_tasks_store'):
            self.assertTrue(conf[reserved]['filesystem_store_datadir']
                            .startswith('/run/glance/'))
        auth = conf['keystone_authtoken']
        self.assertEqual(('glance', 'secret', 'service'), (
            auth['username'], auth['password'], auth['project_name']))
        self.assertEqual(('keystone', '/paste.ini'), (
            conf['paste_deploy']['flavor'],
            conf['paste_deploy']['config_file']))

    def test_the_glance_user_is_a_service_user(self):
        self.assertEqual({'glance': ('service', 'service')}, glance.ACCOUNT)
        self.assertEqual(('glance', 'image'), glance.IMAGE_SERVICE)

    def test_paste_ini_of_the_environment(self):
        self.useFixture(fixtures.MonkeyPatch('sys.prefix', '/nowhere'))
        error = self.assertRaises(FileNotFoundError, glance.paste_ini)
        self.assertIn(os.path.join('/nowhere', glance.PASTE_INI),
                      str(error))


class ChunkedInputTest(testtools.TestCase):

    BODY = b'5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT'

    def test_read_all(self):
        raw = io.BytesIO(self.BODY)
        self.assertEqual(b'hello, world',
                         glance_server.ChunkedInput(raw).read())
        self.assertEqual(b'NEXT', raw.read())

    def test_read_in_pieces(self):
        body = glance_server.ChunkedInput(io.BytesIO(self.BODY))
        pieces = []
        while True:
            piece = body.read(3)
            if not piece:
                break
            pieces.append(piece)
        self.assertEqual(b'hello, world', b''.join(pieces))
        self.assertTrue(all(len(piece) <= 3 for piece in pieces))

    def test_a_body_cut_short(self):
        body = glance_server.ChunkedInput(io.BytesIO(b'a\r\nshort'))
        self.assertRaises(IOError, body.read)

    def test_middleware_decodes_chunked_requests_only(self):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            return [environ['wsgi.input'].read()]

        wrapped = glance_server.Dechunk(app)
        environ = {'HTTP_TRANSFER_ENCODING': 'chunked',
                   'wsgi.input': io.BytesIO(self.BODY)}
        self.assertEqual([b'hello, world'], wrapped(environ, mock.Mock()))
        self.assertTrue(seen['wsgi.input_terminated'])
        plain = {'CONTENT_LENGTH': '3', 'wsgi.input': io.BytesIO(b'abc')}
        self.assertEqual([b'abc'], wrapped(plain, mock.Mock()))
        self.assertNotIn('wsgi.input_terminated', plain)


class MachineHostTest(testtools.TestCase):
    """The cinder-volume host's connector names the machine."""

    def conf(self, mapping):
        conf = cinder_config.new_parser()
        conf['DEFAULT'] = {'host': 'allinone'}
        conf['ebs'] = {'ebs_host_instance_map': mapping}
        return conf

    def test_machine_mapped_to_the_volume_hosts_instance(self):
        conf = self.conf('allinone:i-2,host-a:i-0')
        stack.map_machine_host(conf, machine='vm')
        self.assertEqual('allinone:i-2,host-a:i-0,vm:i-2',
                         conf['ebs']['ebs_host_instance_map'])

    def test_a_mapped_machine_name_stays(self):
        conf = self.conf('allinone:i-2,vm:i-0')
        stack.map_machine_host(conf, machine='vm')
        self.assertEqual('allinone:i-2,vm:i-0',
                         conf['ebs']['ebs_host_instance_map'])

    def test_the_image_service_needs_keystone(self):
        self.assertRaises(ValueError, stack.AllInOne, image=True)
