"""Real guests sharing a volume through nova_shim."""

import libvirt
from lxml import etree
from oslo_utils import uuidutils

from nova_shim import attach
from nova_shim import disk
from nova_shim import domain_disks
from nova_shim import exception
from nova_shim.volume_api import local as local_volumes
from tests.libvirt import base
from tests.libvirt import guests

QOS_SPECS = {'total_iops_sec': 20000, 'total_bytes_sec': 500 * 1024 * 1024}


def _live_disk(guest, volume_id):
    found = domain_disks.find_volume_disk(guest.domain.XMLDesc(0), volume_id)
    if found is None:
        return None
    return etree.fromstring(found['xml'])


class SharedVolumeTest(base.LibvirtTestCase):

    def setUp(self):
        super().setUp()
        self.volumes = local_volumes.LocalVolumes()

    def attacher(self, host_name):
        return attach.VolumeAttacher(self.conn, self.volumes, host=host_name,
                                     my_ip='127.0.0.1', detach_timeout=30)

    def test_two_guests_share_a_volume(self):
        volume_id = uuidutils.generate_uuid()
        record = 'EBS-RECORD-' + uuidutils.generate_uuid(dashed=False)
        vol = self.loop_volume('shared')
        # Front-end QoS limits far above what the guests do: QEMU must
        # accept the <iotune> live.
        self.volumes.add_volume(volume_id, vol.path, multiattach=True,
                                qos_specs=QOS_SPECS)
        writer, reader = self.start_guests(('writer', volume_id, record),
                                           ('reader', volume_id, record))

        host_a = self.attacher('host-a')
        host_b = self.attacher('host-b')
        att_r = host_b.attach(reader.uuid, volume_id)
        att_w = host_a.attach(writer.uuid, volume_id)
        self.assertEqual('vdb', att_r['target_dev'])
        self.assertEqual('vdb', att_w['target_dev'])

        for guest in (writer, reader):
            node = _live_disk(guest, volume_id)
            self.assertIsNotNone(node, 'disk missing in %s' % guest.name)
            self.assertIsNotNone(node.find('shareable'))
            self.assertEqual('none', node.find('driver').get('cache'))
            # QEMU's default I/O mode, as Nova's 'local' volume driver.
            self.assertIsNone(node.find('driver').get('io'))
            self.assertEqual(vol.path, node.find('source').get('dev'))
            self.assertEqual(volume_id, node.findtext('serial'))
            self.assertEqual('ua-' + volume_id, node.find('alias').get('name'))
            self.assertEqual(
                {key: str(value) for key, value in QOS_SPECS.items()},
                {child.tag: child.text for child in node.find('iotune')})
            # CONFIG as well as LIVE: the persistent definition has it too.
            self.assertIsNotNone(domain_disks.find_volume_disk(
                guest.domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
                volume_id))
            guest.wait_for_console(r'EBS-GUEST-DISK vd', 30)

        writer.wait_for_console(r'EBS-GUEST-WROTE ' + record, 30)
        match = reader.wait_for_console(r'EBS-GUEST-READ (\S+)', 60)
        self.assertEqual(record, match.group(1))
        # And the bytes are on the volume itself.
        self.assertEqual(record.encode(), vol.read()[:len(record)])
        self.assertEqual(2, len(self.volumes.list_attachments(volume_id)))
        self.assertEqual('in-use',
                         self.volumes.get_volume(volume_id)['status'])

        # The reader's host still uses the device: keep its connection.
        # (Both "hosts" are this machine, the device path is the same.)
        res_w = host_a.detach(writer.uuid, volume_id)
        self.assertEqual(att_w['attachment_id'], res_w['attachment_id'])
        self.assertFalse(res_w['disconnected'])
        writer.wait_for_console(r'EBS-GUEST-DISK-GONE vd', 30)
        self.assertIsNone(_live_disk(writer, volume_id))
        self.assertIsNotNone(_live_disk(reader, volume_id))

        res_r = host_b.detach(reader.uuid, volume_id)
        self.assertEqual(att_r['attachment_id'], res_r['attachment_id'])
        self.assertTrue(res_r['disconnected'])
        reader.wait_for_console(r'EBS-GUEST-DISK-GONE vd', 30)
        self.assertIsNone(_live_disk(reader, volume_id))
        self.assertEqual([], self.volumes.list_attachments(volume_id))
        self.assertEqual({}, attach.guest_mod.Guest(
            reader.domain).volume_records())

    def test_qemu_refuses_unshared_file_disk_in_second_guest(self):
        volume_id = uuidutils.generate_uuid()
        vol = self.file_volume('private')
        first, second = self.start_guests(('idle', volume_id, ''),
                                          ('idle', volume_id, ''))
        info = {'driver_volume_type': 'local', 'serial': volume_id,
                'data': {'device_path': vol.path, 'volume_id': volume_id,
                         'access_mode': 'rw', 'multiattach': False}}
        xml = disk.build_disk_xml(info, 'vdb')
        self.assertNotIn('shareable', xml)
        flags = (libvirt.VIR_DOMAIN_AFFECT_LIVE |
                 libvirt.VIR_DOMAIN_AFFECT_CONFIG)

        first.domain.attachDeviceFlags(xml, flags)
        first.wait_for_console(r'EBS-GUEST-DISK vd', 30)
        error = self.assertRaises(libvirt.libvirtError,
                                  second.domain.attachDeviceFlags, xml, flags)
        # QEMU's image locking: "Failed to get "write" lock" on hot-plug
        # ("Failed to get shared "write" lock" on some versions).
        self.assertRegex(str(error), r'Failed to get (shared )?"write" lock')
        self.assertIsNone(_live_disk(second, volume_id))

    def test_shim_refuses_second_guest_for_single_attach_volume(self):
        volume_id = uuidutils.generate_uuid()
        vol = self.loop_volume('single')
        self.volumes.add_volume(volume_id, vol.path, multiattach=False)
        first, second = self.start_guests(('idle', volume_id, ''),
                                          ('idle', volume_id, ''))
        shim = self.attacher('host-a')

        shim.attach(first.uuid, volume_id)
        error = self.assertRaises(exception.VolumeNotShareable,
                                  shim.attach, second.uuid, volume_id)
        self.assertIn('not multi-attach', str(error))
        self.assertIn(first.uuid, str(error))
        # Nothing reached the second guest or the volume service.
        self.assertIsNone(_live_disk(second, volume_id))
        self.assertEqual(1, len(self.volumes.list_attachments(volume_id)))
        node = _live_disk(first, volume_id)
        self.assertIsNone(node.find('shareable'))

        self.assertTrue(shim.detach(first.uuid, volume_id)['disconnected'])
        self.assertEqual([], self.volumes.list_attachments(volume_id))

    def test_attach_to_shut_off_guest_changes_only_the_config(self):
        volume_id = uuidutils.generate_uuid()
        vol = self.loop_volume('offline')
        self.volumes.add_volume(volume_id, vol.path, multiattach=True)
        dom = self.useFixture(guests.GuestFixture(
            self.conn, self.libvirtd, self.workdir, start=False))
        shim = self.attacher('host-a')

        result = shim.attach(dom.name, volume_id)
        self.assertEqual('vdb', result['target_dev'])
        self.assertFalse(dom.domain.isActive())
        config = dom.domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        found = domain_disks.find_volume_disk(config, volume_id)
        self.assertTrue(found['shareable'])
        self.assertEqual(vol.path, found['source'])

        self.assertTrue(shim.detach(dom.name, volume_id)['disconnected'])
        config = dom.domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        self.assertIsNone(domain_disks.find_volume_disk(config, volume_id))
        self.assertEqual([], self.volumes.list_attachments(volume_id))
