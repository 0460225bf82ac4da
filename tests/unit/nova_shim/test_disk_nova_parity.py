"""The shim's <disk> agrees with what Nova's libvirt driver builds.

The same connection info goes to ``nova_shim.disk.build_disk_xml`` and to
Nova 34's own code (``nova_volume_config``, in a separate interpreter) and
the two elements are compared on type, source, target, driver, serial,
alias, shareable and readonly.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from lxml import etree
import testtools

from nova_shim import disk
from tests.unit.nova_shim import test_disk

_TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# name -> (device kind, connection_info changes, top-level multiattach,
#          target dev, bus)
CASES = {
    'plain': ('block', {}, False, 'vdb', 'virtio'),
    'multiattach': ('block', {'multiattach': True}, True, 'vdb', 'virtio'),
    'discard_ro': ('block', {'discard': True, 'access_mode': 'ro'}, False,
                   'vdc', 'virtio'),
    'everything_scsi': ('block', {'discard': True, 'access_mode': 'ro',
                                  'multiattach': True}, True, 'sdb', 'scsi'),
    'other_serial': ('block', {'serial': 'other-serial'}, True, 'vdd',
                     'virtio'),
    'no_volume_id': ('block', {'volume_id': None}, False, 'vde', 'virtio'),
    'file': ('file', {}, True, 'vdf', 'virtio'),
    # Front-end QoS specs as Cinder passes them (strings), with a key Nova
    # does not copy.
    'qos_total': ('block', {'qos_specs': {
        'total_iops_sec': '2000', 'total_bytes_sec': '104857600',
        'total_iops_sec_max': '4000', 'size_iops_sec': '4096',
        'consumer': 'front-end'}}, True, 'vdg', 'virtio'),
    'qos_split': ('block', {'qos_specs': {
        'write_bytes_sec': 52428800, 'read_iops_sec': 800,
        'write_iops_sec': 300, 'read_bytes_sec': 73400320,
        'read_bytes_sec_max': 146800640}}, False, 'vdh', 'virtio'),
}


class NovaParityTestCase(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix='nova-shim-parity-')
        cls.paths = {'file': os.path.join(cls.tmp, 'volume.img'),
                     'block': os.path.join(cls.tmp, 'blockdev')}
        with open(cls.paths['file'], 'wb') as f:
            f.truncate(1 << 20)
        cls.setup_error = None
        try:
            os.mknod(cls.paths['block'], 0o600 | stat.S_IFBLK,
                     os.makedev(7, 250))
        except OSError as exc:
            cls.setup_error = 'cannot create a block device node: %s' % exc
            return
        cls.infos = {name: cls._info(*case) for name, case in CASES.items()}
        request = [{'connection_info': cls.infos[name],
                    'disk_info': {'dev': CASES[name][3],
                                  'bus': CASES[name][4], 'type': 'disk'}}
                   for name in CASES]
        proc = subprocess.run(
            [sys.executable, '-m', 'tests.unit.nova_shim.nova_volume_config'],
            input=json.dumps(request), capture_output=True, text=True,
            cwd=_TOP, timeout=120)
        if proc.returncode:
            if 'No module named \'nova' in proc.stderr:
                cls.setup_error = 'nova is not installed'
                return
            raise RuntimeError('Nova config helper failed:\n' + proc.stderr)
        out = json.loads(proc.stdout)
        cls.local_driver = out['local_driver']
        cls.nova = dict(zip(CASES, (etree.fromstring(x)
                                    for x in out['disks'])))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    @classmethod
    def _info(cls, kind, changes, top_multiattach, dev, bus):
        changes = dict(changes)
        serial = changes.pop('serial', test_disk.VOLUME_ID)
        info = test_disk.connection_info(cls.paths[kind], serial=serial,
                                         **changes)
        if info['data']['volume_id'] is None:
            del info['data']['volume_id']
        # What Nova hands its volume driver: Cinder's connection info plus
        # 'serial' and, for a multi-attach volume, the top-level
        # 'multiattach' flag (nova.virt.block_device).
        if top_multiattach:
            info['multiattach'] = True
        return info

    def setUp(self):
        super().setUp()
        if self.setup_error:
            self.skipTest(self.setup_error)

    def _compare(self, name):
        kind, _changes, _top, dev, bus = CASES[name]
        ours = etree.fromstring(disk.build_disk_xml(self.infos[name], dev,
                                                    bus))
        nova = self.nova[name]
        self.assertEqual(nova.get('type'), ours.get('type'))
        self.assertEqual(nova.get('device'), ours.get('device'))
        self.assertEqual(dict(nova.find('source').attrib),
                         dict(ours.find('source').attrib))
        self.assertEqual(dict(nova.find('target').attrib),
                         dict(ours.find('target').attrib))
        # The whole driver element: name, type, cache, discard, and no io
        # mode on either side.
        self.assertEqual(dict(nova.find('driver').attrib),
                         dict(ours.find('driver').attrib))
        self.assertEqual(nova.findtext('serial'), ours.findtext('serial'))
        self.assertEqual(nova.find('alias').get('name'),
                         ours.find('alias').get('name'))
        for flag in ('shareable', 'readonly'):
            self.assertEqual(nova.find(flag) is not None,
                             ours.find(flag) is not None, flag)
        self.assertIsNone(ours.find('driver').get('io'))
        self.assertEqual(self._iotune(nova), self._iotune(ours))
        return ours, nova

    @staticmethod
    def _iotune(element):
        tune = element.find('iotune')
        if tune is None:
            return None
        return [(child.tag, child.text) for child in tune]

    def test_local_type_is_nova_volume_driver(self):
        self.assertEqual(
            'nova.virt.libvirt.volume.volume.LibvirtVolumeDriver',
            self.local_driver)

    def test_plain_volume(self):
        ours, nova = self._compare('plain')
        self.assertEqual('block', nova.get('type'))
        self.assertEqual('none', nova.find('driver').get('cache'))
        self.assertIsNone(nova.find('shareable'))

    def test_multiattach(self):
        ours, nova = self._compare('multiattach')
        self.assertIsNotNone(nova.find('shareable'))
        self.assertEqual('none', nova.find('driver').get('cache'))

    def test_discard_and_readonly(self):
        ours, nova = self._compare('discard_ro')
        self.assertEqual('unmap', nova.find('driver').get('discard'))
        self.assertIsNotNone(nova.find('readonly'))

    def test_everything_on_scsi(self):
        ours, nova = self._compare('everything_scsi')
        self.assertEqual('scsi', nova.find('target').get('bus'))

    def test_serial_differs_from_volume_id(self):
        ours, nova = self._compare('other_serial')
        self.assertEqual('other-serial', nova.findtext('serial'))
        self.assertEqual('ua-' + test_disk.VOLUME_ID,
                         nova.find('alias').get('name'))

    def test_alias_falls_back_to_serial(self):
        ours, nova = self._compare('no_volume_id')
        self.assertEqual('ua-' + test_disk.VOLUME_ID,
                         nova.find('alias').get('name'))

    def test_front_end_qos(self):
        ours, nova = self._compare('qos_total')
        self.assertEqual(
            [('total_bytes_sec', '104857600'), ('total_iops_sec', '2000'),
             ('total_iops_sec_max', '4000'), ('size_iops_sec', '4096')],
            self._iotune(nova))

    def test_front_end_qos_read_write(self):
        ours, nova = self._compare('qos_split')
        self.assertEqual(5, len(self._iotune(nova)))

    def test_no_qos_no_iotune(self):
        ours, nova = self._compare('plain')
        self.assertIsNone(nova.find('iotune'))

    def test_regular_file_differs_on_purpose(self):
        # Nova's 'local' driver always says type='block' (QEMU would refuse
        # a regular file as a host device); the shim says type='file'.
        nova = self.nova['file']
        ours = etree.fromstring(disk.build_disk_xml(self.infos['file'],
                                                    'vdf'))
        path = self.paths['file']
        self.assertEqual(('block', path),
                         (nova.get('type'), nova.find('source').get('dev')))
        self.assertEqual(('file', path),
                         (ours.get('type'), ours.find('source').get('file')))
        self.assertEqual(nova.findtext('serial'), ours.findtext('serial'))
        self.assertIsNotNone(nova.find('shareable'))
        self.assertIsNotNone(ours.find('shareable'))
