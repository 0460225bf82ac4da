"""ebs_allinone.image: Glance's configuration and its server's input."""

import io
import os
from unittest import mock

import fixtures
import testtools

from ebs_allinone.cinder import config as cinder_config
from ebs_allinone.image import glance
from ebs_allinone.image import glance_server
from ebs_allinone.scenarios import serve
from ebs_allinone import stack
from ebs_allinone import zones


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

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'ebs_allinone.zones.connector_host', lambda: 'vm'))
        (self.zone,) = zones.zones(1)

    def test_machine_mapped_to_the_volume_hosts_instance(self):
        mapping = zones.backend_host_map(
            self.zone, {'host-a': 'i-0'}, {'allinone': 'i-2'},
            ('allinone',))
        self.assertEqual({'allinone': 'i-2', 'host-a': 'i-0', 'vm': 'i-2'},
                         mapping)
        conf = cinder_config.cinder_conf(
            self.useFixture(fixtures.TempDir()).path, FakeEmulator(), {},
            backends=[(self.zone, mapping)])
        self.assertEqual('allinone:i-2,host-a:i-0,vm:i-2',
                         conf['ebs']['ebs_host_instance_map'])

    def test_a_mapped_machine_name_stays(self):
        mapping = zones.backend_host_map(
            self.zone, {'vm': 'i-0'}, {'allinone': 'i-2'}, ('allinone',))
        self.assertEqual({'allinone': 'i-2', 'vm': 'i-0'}, mapping)

    def test_the_image_service_needs_keystone(self):
        self.assertRaises(ValueError, stack.AllInOne, image=True)


class FakeEmulator(object):
    endpoint = '127.0.0.1:18123'
    region_id = 'emu-region-1'
    zone_id = 'emu-zone-a'
    access_key_id = 'KEY'
    access_key_secret = 'secret'
    state_dir = '/run/emulator'


class ImageStackTest(testtools.TestCase):
    """serve --auth keystone --image: the volume hosts' instances."""

    def start_emulator(self, **kwargs):
        self.useFixture(fixtures.MonkeyPatch(
            'ebs_allinone.zones.connector_host', lambda: 'vm'))
        self.useFixture(fixtures.MonkeyPatch(
            'ebs_allinone.daemons.process.EmulatorProcess.start',
            lambda emulator, progress=None: None))
        image_stack = stack.AllInOne(
            state_dir=self.useFixture(fixtures.TempDir()).path,
            auth='keystone', image=True, **kwargs)
        image_stack.make_dir()
        image_stack.start_emulator()
        return image_stack

    def block_devices(self, image_stack):
        args = image_stack._emulator_args()
        return [args[i + 1] for i, arg in enumerate(args)
                if arg == '--block-device-instance']

    def test_one_zone(self):
        image_stack = self.start_emulator()
        ((zone, mapping),) = image_stack.backends
        own = image_stack.host_instances[cinder_config.VOLUME_HOST]
        self.assertEqual(own, mapping['vm'])
        self.assertEqual(own, mapping[cinder_config.VOLUME_HOST])
        self.assertEqual([own], self.block_devices(image_stack))

    def test_each_zone_its_volume_instance_a_block_device(self):
        image_stack = self.start_emulator(num_hosts=4, zones=2)
        own = [mapping['vm'] for _zone, mapping in image_stack.backends]
        self.assertEqual(2, len(set(own)))
        self.assertEqual(
            own, [mapping[cinder_config.VOLUME_HOST]
                  for _zone, mapping in image_stack.backends])
        self.assertEqual(own, self.block_devices(image_stack))

    def test_serve_names_the_instance_of_each_zone(self):
        image_stack = self.start_emulator(num_hosts=4, zones=2)
        image_stack.glance = mock.Mock(url='http://127.0.0.1:9292')
        server = serve.Server.__new__(serve.Server)
        server.stack = image_stack
        text = server.image_instructions()
        for (zone, mapping) in image_stack.backends:
            self.assertIn('%s in %s' % (mapping['vm'],
                                        zone.availability_zone), text)
