"""Unit tests of nova_shim.domain_disks: the decisions from domain XML."""

import testtools

from nova_shim import domain_disks
from nova_shim import exception

VOL = '4c4d6c36-6e38-4a4b-9d3c-1f4f1f9f0a01'
OTHER = '9d1d6c36-6e38-4a4b-9d3c-1f4f1f9f0a02'


def domain_xml(*disks):
    return '<domain type="qemu"><name>g</name><devices>%s</devices>' \
        '</domain>' % ''.join(disks)


def disk(target, source='/dev/loop0', serial=None, alias=None,
         shareable=False, kind='block'):
    parts = ["<disk type='%s' device='disk'>" % kind,
             "<driver name='qemu' type='raw' cache='none'/>",
             "<source %s='%s'/>" % (
                 'dev' if kind == 'block' else 'file', source),
             "<target dev='%s' bus='virtio'/>" % target]
    if shareable:
        parts.append('<shareable/>')
    if serial:
        parts.append('<serial>%s</serial>' % serial)
    if alias:
        parts.append("<alias name='%s'/>" % alias)
    parts.append('</disk>')
    return ''.join(parts)


class TargetDevTest(testtools.TestCase):

    def test_names(self):
        self.assertEqual('vda', domain_disks.target_dev_name('vd', 0))
        self.assertEqual('vdz', domain_disks.target_dev_name('vd', 25))
        self.assertEqual('vdaa', domain_disks.target_dev_name('vd', 26))
        self.assertEqual('vdaz', domain_disks.target_dev_name('vd', 51))
        self.assertEqual('vdba', domain_disks.target_dev_name('vd', 52))
        self.assertEqual('sdzz', domain_disks.target_dev_name('sd', 701))

    def test_empty_domain_gets_vdb(self):
        self.assertEqual('vdb', domain_disks.choose_target_dev(domain_xml()))

    def test_skips_used_names_in_every_document(self):
        live = domain_xml(disk('vda'), disk('vdb'))
        config = domain_xml(disk('vda'), disk('vdc'))
        self.assertEqual('vdd', domain_disks.choose_target_dev([live, config]))

    def test_fills_holes(self):
        xml = domain_xml(disk('vda'), disk('vdc'))
        self.assertEqual('vdb', domain_disks.choose_target_dev(xml))

    def test_bus_prefix(self):
        xml = domain_xml(disk('sda'), disk('sdb'))
        self.assertEqual('sdc',
                         domain_disks.choose_target_dev(xml, bus='scsi'))
        self.assertEqual('hdb', domain_disks.choose_target_dev(xml, bus='ide'))

    def test_beyond_z(self):
        names = [domain_disks.target_dev_name('vd', i) for i in range(27)]
        xml = domain_xml(*[disk(n) for n in names])
        self.assertEqual('vdab', domain_disks.choose_target_dev(xml))

    def test_no_free_name(self):
        xml = domain_xml(disk('vdb'), disk('vdc'))
        self.assertRaises(exception.NoFreeTargetDevice,
                          domain_disks.choose_target_dev, xml, limit=3)


class FindVolumeDiskTest(testtools.TestCase):

    def test_by_alias(self):
        xml = domain_xml(disk('vdb', serial='x', alias='ua-' + OTHER),
                         disk('vdc', serial='y', alias='ua-' + VOL))
        found = domain_disks.find_volume_disk(xml, VOL)
        self.assertEqual('vdc', found['target_dev'])
        self.assertEqual('ua-' + VOL, found['alias'])
        self.assertIn("<alias name=\"ua-%s\"/>" % VOL, found['xml'])

    def test_alias_wins_over_serial(self):
        xml = domain_xml(disk('vdb', serial=VOL),
                         disk('vdc', alias='ua-' + VOL))
        self.assertEqual('vdc', domain_disks.find_volume_disk(xml, VOL)[
            'target_dev'])

    def test_by_serial(self):
        xml = domain_xml(disk('vdb', serial=VOL, source='/dev/loop7',
                              shareable=True))
        found = domain_disks.find_volume_disk(xml, VOL)
        self.assertEqual('/dev/loop7', found['source'])
        self.assertTrue(found['shareable'])

    def test_file_source(self):
        xml = domain_xml(disk('vdb', serial=VOL, source='/srv/v.img',
                              kind='file'))
        self.assertEqual('/srv/v.img',
                         domain_disks.find_volume_disk(xml, VOL)['source'])

    def test_absent(self):
        xml = domain_xml(disk('vdb', serial=OTHER, alias='ua-' + OTHER))
        self.assertIsNone(domain_disks.find_volume_disk(xml, VOL))
        self.assertIsNone(domain_disks.find_volume_disk(domain_xml(), VOL))

    def test_alias_prefix_is_not_enough(self):
        xml = domain_xml(disk('vdb', alias='ua-' + VOL + '-x'))
        self.assertIsNone(domain_disks.find_volume_disk(xml, VOL))


class StillUsedTest(testtools.TestCase):

    @staticmethod
    def _disks(*xmls):
        found = []
        for xml in xmls:
            found.extend(domain_disks.list_disks(xml))
        return found

    def test_other_guest_on_same_device_keeps_connection(self):
        others = {'b': self._disks(domain_xml(disk('vdb', '/dev/loop3')))}
        self.assertEqual(['b'], domain_disks.guests_using_device(
            others, '/dev/loop3', resolve=lambda p: p))

    def test_no_other_guest_drops_connection(self):
        self.assertEqual([], domain_disks.guests_using_device(
            {}, '/dev/loop3', resolve=lambda p: p))
        others = {'b': self._disks(domain_xml(disk('vdb', '/dev/loop4')))}
        self.assertEqual([], domain_disks.guests_using_device(
            others, '/dev/loop3', resolve=lambda p: p))

    def test_same_volume_on_another_hosts_path_does_not_count(self):
        # One machine playing two hosts: each host has its own device path.
        others = {'b': self._disks(domain_xml(disk(
            'vdb', '/state/i-2/dev/disk/by-id/nvme-x', serial=VOL)))}
        self.assertEqual([], domain_disks.guests_using_device(
            others, '/state/i-1/dev/disk/by-id/nvme-x', resolve=lambda p: p))

    def test_symlinks_are_resolved(self):
        links = {'/dev/disk/by-id/nvme-x': '/dev/nvme0n1'}
        others = {'b': self._disks(domain_xml(disk('vdb', '/dev/nvme0n1'))),
                  'c': self._disks(domain_xml(disk('vdc', '/dev/sdz')))}
        self.assertEqual(['b'], domain_disks.guests_using_device(
            others, '/dev/disk/by-id/nvme-x',
            resolve=lambda p: links.get(p, p)))

    def test_sorted_names_and_no_path(self):
        others = {'z': self._disks(domain_xml(disk('vdb', '/dev/loop3'))),
                  'a': self._disks(domain_xml(disk('vdb', '/dev/loop3')))}
        self.assertEqual(['a', 'z'], domain_disks.guests_using_device(
            others, '/dev/loop3', resolve=lambda p: p))
        self.assertEqual([], domain_disks.guests_using_device(others, None))

    def test_guests_with_volume(self):
        others = {'b': self._disks(domain_xml(disk('vdb', serial=VOL))),
                  'c': self._disks(domain_xml(disk('vdb',
                                                   alias='ua-' + VOL))),
                  'd': self._disks(domain_xml(disk('vdb', serial=OTHER)))}
        self.assertEqual(['b', 'c'],
                         domain_disks.guests_with_volume(others, VOL))
