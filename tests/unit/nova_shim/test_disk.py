"""Tests for nova_shim.disk: the libvirt <disk> element."""

import itertools
import os

from lxml import etree

from nova_shim import disk
from tests.unit.nova_shim import block_fixtures

DOMAIN_RNG = '/usr/share/libvirt/schemas/domain.rng'
VOLUME_ID = '5f3e9d2a-7c41-4e0b-9a57-0d1c2b3a4f60'

_RNG = None


def _schema():
    global _RNG
    if _RNG is None:
        _RNG = etree.RelaxNG(etree.parse(DOMAIN_RNG))
    return _RNG


def connection_info(path, serial=VOLUME_ID, **data):
    info = {'driver_volume_type': 'local',
            'data': {'device_path': path,
                     'disk_id': 'd-0123456789abcdefghij',
                     'volume_id': VOLUME_ID,
                     'access_mode': 'rw',
                     'discard': False,
                     'multiattach': False}}
    info['data'].update(data)
    if serial is not None:
        info['serial'] = serial
    return info


def parse(xml):
    root = etree.fromstring(xml)
    return root


class BuildDiskXmlTestCase(block_fixtures.TestCase):

    def setUp(self):
        super().setUp()
        self.file = self.regular_file()

    def _build(self, path=None, target_dev='vdb', bus='virtio', **kw):
        xml = disk.build_disk_xml(connection_info(path or self.file, **kw),
                                  target_dev, bus)
        self.assertIsInstance(xml, str)
        return parse(xml)

    def test_regular_file(self):
        root = self._build()
        self.assertEqual('disk', root.tag)
        self.assertEqual({'type': 'file', 'device': 'disk'},
                         dict(root.attrib))
        self.assertEqual(['driver', 'source', 'target', 'serial', 'alias'],
                         [c.tag for c in root])
        # Exactly Nova's: no io mode, QEMU's default.
        self.assertEqual({'name': 'qemu', 'type': 'raw', 'cache': 'none'},
                         dict(root.find('driver').attrib))
        self.assertEqual({'file': self.file},
                         dict(root.find('source').attrib))
        self.assertEqual({'dev': 'vdb', 'bus': 'virtio'},
                         dict(root.find('target').attrib))
        self.assertEqual(VOLUME_ID, root.findtext('serial'))
        self.assertEqual('ua-' + VOLUME_ID, root.find('alias').get('name'))

    def test_block_device_node(self):
        node = self.block_node()
        root = self._build(node)
        self.assertEqual('block', root.get('type'))
        self.assertEqual({'dev': node}, dict(root.find('source').attrib))

    def test_real_loop_device(self):
        loop = self.loop_device()
        root = self._build(loop)
        self.assertEqual('block', root.get('type'))
        self.assertEqual(loop, root.find('source').get('dev'))

    def test_symlink_to_block_device_keeps_link_path(self):
        # /dev/disk/by-id/nvme-... is a symlink to the namespace.
        node = self.block_node()
        link = os.path.join(self.tempdir(), 'nvme-Alibaba_Cloud_Elastic')
        os.symlink(node, link)
        root = self._build(link)
        self.assertEqual('block', root.get('type'))
        self.assertEqual(link, root.find('source').get('dev'))

    def test_symlink_to_file(self):
        link = os.path.join(self.tempdir(), 'by-id-link')
        os.symlink(self.file, link)
        root = self._build(link)
        self.assertEqual('file', root.get('type'))
        self.assertEqual(link, root.find('source').get('file'))

    def test_discard(self):
        root = self._build(discard=True)
        self.assertEqual('unmap', root.find('driver').get('discard'))
        for value in (False, None, 'false'):
            root = self._build(discard=value)
            self.assertIsNone(root.find('driver').get('discard'), value)
        root = self._build(discard='true')
        self.assertEqual('unmap', root.find('driver').get('discard'))

    def test_multiattach_in_data(self):
        root = self._build(multiattach=True)
        self.assertIsNotNone(root.find('shareable'))
        self.assertEqual(0, len(root.find('shareable')))

    def test_multiattach_top_level_as_nova_sets_it(self):
        info = connection_info(self.file)
        del info['data']['multiattach']
        info['multiattach'] = True
        root = parse(disk.build_disk_xml(info, 'vdb'))
        self.assertIsNotNone(root.find('shareable'))

    def test_not_multiattach(self):
        for value in (False, None, 'False', 'no'):
            root = self._build(multiattach=value)
            self.assertIsNone(root.find('shareable'), value)
            # Host cache stays off either way.
            self.assertEqual('none', root.find('driver').get('cache'))

    def test_readonly(self):
        root = self._build(access_mode='ro')
        self.assertIsNotNone(root.find('readonly'))
        for mode in ('rw', None):
            root = self._build(access_mode=mode)
            self.assertIsNone(root.find('readonly'), mode)

    def test_all_options_child_order(self):
        root = self._build(access_mode='ro', discard=True, multiattach=True)
        self.assertEqual(['driver', 'source', 'target', 'readonly',
                          'shareable', 'serial', 'alias'],
                         [c.tag for c in root])

    def test_bus(self):
        for bus, dev in (('scsi', 'sdb'), ('sata', 'sdc'), ('virtio', 'vdz'),
                         ('ide', 'hdb'), ('usb', 'sdd')):
            root = self._build(target_dev=dev, bus=bus)
            self.assertEqual({'dev': dev, 'bus': bus},
                             dict(root.find('target').attrib))

    def test_default_bus_is_virtio(self):
        root = parse(disk.build_disk_xml(connection_info(self.file), 'vdc'))
        self.assertEqual('virtio', root.find('target').get('bus'))

    def test_serial_and_alias_sources(self):
        # Nova: serial from connection_info['serial'], alias from
        # data['volume_id'] (falling back to serial).
        info = connection_info(self.file, serial='serial-1',
                               volume_id='vol-2')
        root = parse(disk.build_disk_xml(info, 'vdb'))
        self.assertEqual('serial-1', root.findtext('serial'))
        self.assertEqual('ua-vol-2', root.find('alias').get('name'))

        info = connection_info(self.file, serial=None)
        root = parse(disk.build_disk_xml(info, 'vdb'))
        self.assertEqual(VOLUME_ID, root.findtext('serial'))

        info = connection_info(self.file, serial='vol-3')
        del info['data']['volume_id']
        root = parse(disk.build_disk_xml(info, 'vdb'))
        self.assertEqual('vol-3', root.findtext('serial'))
        self.assertEqual('ua-vol-3', root.find('alias').get('name'))

    def test_helpers(self):
        info = connection_info(self.file, serial='s')
        self.assertEqual(VOLUME_ID, disk.volume_id(info))
        self.assertEqual('s', disk.disk_serial(info))
        self.assertFalse(disk.is_multiattach(info))
        self.assertEqual('file', disk.source_type(self.file))


class ValidationTestCase(block_fixtures.TestCase):

    def setUp(self):
        super().setUp()
        self.file = self.regular_file()

    def assertRejected(self, info, target_dev='vdb', bus='virtio',
                       match=None):
        exc = self.assertRaises(ValueError, disk.build_disk_xml, info,
                                target_dev, bus)
        if match:
            self.assertIn(match, str(exc))
        return exc

    def test_missing_data(self):
        self.assertRejected({'driver_volume_type': 'local'}, match='data')
        self.assertRejected('not a dict', match='dict')

    def test_missing_device_path(self):
        info = connection_info(self.file)
        del info['data']['device_path']
        self.assertRejected(info, match='device_path')
        self.assertRejected(connection_info(''), match='device_path')

    def test_relative_path(self):
        self.assertRejected(connection_info('dev/sdb'), match='absolute')

    def test_path_does_not_exist(self):
        path = os.path.join(self.tempdir(), 'gone')
        self.assertRejected(connection_info(path), match='does not exist')

    def test_path_is_neither_block_nor_file(self):
        self.assertRejected(connection_info(self.tempdir()),
                            match='neither a block device')
        self.assertRejected(connection_info('/dev/null'),
                            match='neither a block device')

    def test_bad_target_dev(self):
        for dev in ('vd!', '', None, 'vda; rm -rf', 'eth0', 'vd', 'vdb\n',
                    'vdb"', 'VDB', 'vda1', 'vdabcde', 7):
            exc = self.assertRejected(connection_info(self.file), dev)
            self.assertIn('target device', str(exc))

    def test_bad_bus(self):
        for bus in ('pci', 'uml', '', None, 'virtio"', ['virtio']):
            exc = self.assertRejected(connection_info(self.file), 'vdb', bus)
            self.assertIn('bus', str(exc))

    def test_no_volume_id(self):
        info = connection_info(self.file, serial=None)
        del info['data']['volume_id']
        self.assertRejected(info, match='volume id')

    def test_bad_access_mode(self):
        self.assertRejected(connection_info(self.file, access_mode='rx'),
                            match='access_mode')

    def test_serial_libvirt_would_refuse(self):
        for serial in ('a<b', 'x"/><shareable/>', 'a&b', 'a\nb', 'a/b'):
            self.assertRejected(connection_info(self.file, serial=serial),
                                match='serial')

    def test_volume_id_not_fit_for_alias(self):
        for vol in ('a b', 'x"/><x', 'a+b'):
            self.assertRejected(
                connection_info(self.file, serial='ok', volume_id=vol),
                match='volume id')

    def test_control_characters_in_path(self):
        for bad in ('/dev/sdb\n', '/dev/sd\rb', '/dev/\x00x', '/dev/\x1bx'):
            self.assertRejected(connection_info(bad), match='control')


class HostileValueTestCase(block_fixtures.TestCase):
    """Values from outside are escaped by the XML library."""

    INJECTION = ('x"/><shareable/><source file="/etc/shadow"/>'
                 "<!-- ' & &amp; ]]> <![CDATA[")

    def _hostile_path(self):
        base = self.tempdir()
        # The injection as directory and file names ('/' splits it).
        path = base + '/' + self.INJECTION + '/vol <&"\'> end'
        os.makedirs(os.path.dirname(path))
        with open(path, 'wb') as f:
            f.truncate(4096)
        return path

    def _check(self, xml, path, source_attr):
        self.assertNotIn('<shareable', xml)
        root = etree.fromstring(xml)
        self.assertEqual('disk', root.tag)
        self.assertEqual(['driver', 'source', 'target', 'serial', 'alias'],
                         [c.tag for c in root])
        self.assertEqual(1, len(root.findall('source')))
        self.assertEqual({source_attr: path},
                         dict(root.find('source').attrib))
        self.assertEqual([], list(root.iter(etree.Comment)))
        # A document wrapper cannot gain a second <disk> either.
        wrapped = etree.fromstring('<devices>' + xml + '</devices>')
        self.assertEqual(1, len(wrapped.findall('disk')))

    def test_hostile_file_path(self):
        path = self._hostile_path()
        xml = disk.build_disk_xml(connection_info(path), 'vdb')
        self._check(xml, path, 'file')

    def test_hostile_block_device_path(self):
        node = self.block_node('dev "<x>" & \'y\'')
        xml = disk.build_disk_xml(connection_info(node), 'vdb')
        self._check(xml, node, 'dev')

    def test_hostile_path_validates_against_schema(self):
        if not os.path.exists(DOMAIN_RNG):
            self.skipTest('libvirt schema %s missing (package libvirt0)'
                          % DOMAIN_RNG)
        path = self._hostile_path()
        xml = disk.build_disk_xml(connection_info(path), 'vdb')
        _assert_valid(self, xml)

    def test_serial_with_spaces_and_plus_is_kept(self):
        # libvirt's serial pattern allows these; they stay verbatim.
        path = self.regular_file()
        info = connection_info(path, serial='A b+c_d.e-f')
        root = etree.fromstring(disk.build_disk_xml(info, 'vdb'))
        self.assertEqual('A b+c_d.e-f', root.findtext('serial'))


def _domain_with(disk_xml):
    domain = etree.fromstring(
        "<domain type='qemu'><name>schema-check</name>"
        "<memory unit='KiB'>131072</memory>"
        "<os><type arch='x86_64'>hvm</type></os><devices/></domain>")
    domain.find('devices').append(etree.fromstring(disk_xml))
    return domain


def _assert_valid(test, disk_xml):
    schema = _schema()
    domain = _domain_with(disk_xml)
    test.assertTrue(schema.validate(domain),
                    '%s\n%s' % (schema.error_log, disk_xml))


class SchemaTestCase(block_fixtures.TestCase):
    """Every output validates against libvirt's own RelaxNG schema."""

    def setUp(self):
        super().setUp()
        if not os.path.exists(DOMAIN_RNG):
            self.skipTest('libvirt schema %s missing (package libvirt0)'
                          % DOMAIN_RNG)

    def test_schema_rejects_a_broken_disk(self):
        # The check is not vacuous.
        bad = ("<disk type='block'><source dev='/dev/x'/>"
               "<target dev='vd!' bus='virtio'/></disk>")
        self.assertFalse(_schema().validate(_domain_with(bad)))

    def test_every_option_combination(self):
        paths = [self.regular_file(), self.block_node()]
        count = 0
        for path, mode, discard, multi, (bus, dev) in itertools.product(
                paths, ('rw', 'ro'), (False, True), (False, True),
                (('virtio', 'vdb'), ('scsi', 'sda'), ('sata', 'sdc'))):
            info = connection_info(path, access_mode=mode, discard=discard,
                                   multiattach=multi)
            _assert_valid(self, disk.build_disk_xml(info, dev, bus))
            count += 1
        self.assertEqual(48, count)

    def test_front_end_qos_validates_against_schema(self):
        info = connection_info(self.block_node(), multiattach=True,
                               qos_specs={'total_iops_sec': '500',
                                          'total_iops_sec_max': '900',
                                          'read_bytes_sec': '1048576'})
        _assert_valid(self, disk.build_disk_xml(info, 'vdb'))


class IotuneTestCase(block_fixtures.TestCase):
    """<iotune> from front-end QoS specs, and what libvirt would refuse."""

    def test_values_in_novas_order(self):
        self.assertEqual(
            [('write_bytes_sec', '10'), ('total_iops_sec', '7'),
             ('size_iops_sec', '4096')],
            disk.iotune_values({'qos_specs': {
                'size_iops_sec': 4096, 'total_iops_sec': ' 7 ',
                'write_bytes_sec': '10', 'consumer': 'front-end',
                'total_iops_sec_per_gb': '3'}}))

    def test_no_specs(self):
        for data in ({}, {'qos_specs': None}, {'qos_specs': {}}):
            self.assertEqual([], disk.iotune_values(data))

    def test_refusals(self):
        cases = [
            ({'total_iops_sec': '-1'}, 'non-negative integer'),
            ({'total_iops_sec': '1.5'}, 'non-negative integer'),
            ({'total_iops_sec': True}, 'non-negative integer'),
            ({'total_iops_sec': '1e3'}, 'non-negative integer'),
            ({'total_iops_sec': '\u00b2'}, 'non-negative integer'),
            ({'total_bytes_sec': '1', 'read_bytes_sec': '1'},
             'cannot be combined with read_bytes_sec'),
            ({'total_iops_sec': '1', 'total_iops_sec_max': '2',
              'write_iops_sec': '1', 'write_iops_sec_max': '2'},
             'cannot be combined'),
            ({'total_iops_sec_max': '2'}, 'needs total_iops_sec'),
        ]
        for specs, message in cases:
            err = self.assertRaises(ValueError, disk.iotune_values,
                                    {'qos_specs': specs})
            self.assertIn(message, str(err), specs)
        self.assertRaises(ValueError, disk.iotune_values,
                          {'qos_specs': ['total_iops_sec']})

    def test_read_and_write_limits_of_different_kinds_combine(self):
        # total bytes with read / write IOPS is fine for libvirt.
        self.assertEqual(3, len(disk.iotune_values({'qos_specs': {
            'total_bytes_sec': '5', 'read_iops_sec': '1',
            'write_iops_sec': '2'}})))
