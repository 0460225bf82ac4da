"""Unit tests of nova_shim.attach: attach, detach and the rollback."""

import time
from unittest import mock

import fixtures
import libvirt
from lxml import etree
import testtools

from nova_shim import attach
from nova_shim import exception
from nova_shim import guest
from nova_shim import host as host_mod
from nova_shim import timing
from nova_shim.volume_api import local as local_volumes
from tests.unit.nova_shim import test_domain_disks

VOL = '4c4d6c36-6e38-4a4b-9d3c-1f4f1f9f0a01'


class FakeDomain(object):
    """Just enough of virDomain for the attacher's bookkeeping."""

    def __init__(self, name, uuid, active=True, persistent=True):
        self._name = name
        self._uuid = uuid
        self.active = active
        self.persistent = persistent
        self.disks = []
        self.attach_error = None
        self.calls = []
        self.meta = {}

    def name(self):
        return self._name

    def UUIDString(self):
        return self._uuid

    def isActive(self):
        return self.active

    def isPersistent(self):
        return self.persistent

    def XMLDesc(self, flags=0):
        return test_domain_disks.domain_xml(*self.disks)

    def attachDeviceFlags(self, xml, flags):
        self.calls.append(('attach', flags))
        if self.attach_error:
            raise self.attach_error
        self.disks.append(xml)

    def detachDeviceFlags(self, xml, flags):
        self.calls.append(('detach', flags))
        alias = etree.fromstring(xml).find('alias').get('name')
        self.disks = [d for d in self.disks if alias not in d]

    def metadata(self, kind, uri, flags):
        if uri not in self.meta:
            error = libvirt.libvirtError('metadata not found')
            error.err = (libvirt.VIR_ERR_NO_DOMAIN_METADATA, 0, '', 0, '',
                         None, None, 0, 0)
            raise error
        return self.meta[uri]

    def setMetadata(self, kind, xml, key, uri, flags):
        if xml is None:
            self.meta.pop(uri, None)
        else:
            self.meta[uri] = xml


class AttacherTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.volumes = local_volumes.LocalVolumes()
        self.dev = self.useFixture(fixtures.TempDir()).join('vol.img')
        with open(self.dev, 'wb') as f:
            f.truncate(1024 * 1024)
        self.dom_a = FakeDomain('a', '11111111-1111-4111-8111-111111111111')
        self.dom_b = FakeDomain('b', '22222222-2222-4222-8222-222222222222')
        self.conn = mock.Mock()
        self.conn.lookupByName.side_effect = (
            lambda n: {'a': self.dom_a, 'b': self.dom_b}[n])
        self.conn.listAllDomains.return_value = [self.dom_a, self.dom_b]
        self.conn.getLibVersion.return_value = 9000000
        self.conn.getVersion.return_value = 7002000
        self.useFixture(fixtures.MockPatch(
            'nova_shim.host.get_host_connector',
            return_value={'host': 'h1'}))
        self.shim = attach.VolumeAttacher(self.conn, self.volumes,
                                          detach_timeout=1)

    def test_flags_for_running_and_shut_off_guests(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.dom_b.active = False
        self.shim.attach('a', VOL)
        self.shim.attach('b', VOL)
        live_config = (libvirt.VIR_DOMAIN_AFFECT_LIVE |
                       libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        self.assertIn(('attach', live_config), self.dom_a.calls)
        self.assertIn(('attach', libvirt.VIR_DOMAIN_AFFECT_CONFIG),
                      self.dom_b.calls)
        self.assertIn('<shareable/>', self.dom_a.disks[0])

    def test_second_guest_refused_for_single_attach_volume(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=False)
        self.shim.attach('a', VOL)
        self.assertRaises(exception.VolumeNotShareable,
                          self.shim.attach, 'b', VOL)
        self.assertEqual([], self.dom_b.disks)
        self.assertEqual(1, len(self.volumes.list_attachments(VOL)))

    def test_same_guest_twice_refused(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.shim.attach('a', VOL)
        self.assertRaises(exception.VolumeAlreadyAttached,
                          self.shim.attach, 'a', VOL)

    def test_old_hypervisor_refused_for_multiattach(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.conn.getVersion.return_value = 6001000
        error = self.assertRaises(exception.HypervisorCannotShare,
                                  self.shim.attach, 'a', VOL)
        self.assertIn('QEMU 6.1.0 < 6.2.0', str(error))
        self.assertEqual([], self.volumes.list_attachments(VOL))

    def test_hypervisor_versions_checked_once_per_connection(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.shim.attach('a', VOL)
        self.shim.attach('b', VOL)
        self.shim.detach('a', VOL)
        self.shim.attach('a', VOL)
        self.assertEqual(1, self.conn.getVersion.call_count)
        self.assertEqual(1, self.conn.getLibVersion.call_count)
        other = attach.VolumeAttacher(self.conn, self.volumes)
        other.detach('b', VOL)
        other.attach('b', VOL)
        self.assertEqual(2, self.conn.getVersion.call_count)

    def test_a_new_connection_is_checked_again(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.shim.attach('a', VOL)
        new_conn = mock.Mock(wraps=self.conn)
        new_conn.getVersion.return_value = 6001000
        new_conn.getLibVersion.return_value = 9000000
        self.shim.conn = new_conn
        self.assertRaises(exception.HypervisorCannotShare,
                          self.shim.attach, 'b', VOL)
        self.assertEqual(1, new_conn.getVersion.call_count)

    def test_single_attach_volume_needs_no_version_check(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=False)
        self.shim.attach('a', VOL)
        self.assertEqual(0, self.conn.getVersion.call_count)

    def test_old_hypervisor_is_checked_again_on_the_next_attach(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.conn.getVersion.return_value = 6001000
        self.assertRaises(exception.HypervisorCannotShare,
                          self.shim.attach, 'a', VOL)
        self.conn.getVersion.return_value = 7002000
        self.shim.attach('a', VOL)
        self.assertEqual(2, self.conn.getVersion.call_count)
        self.assertEqual(1, len(self.volumes.list_attachments(VOL)))

    def test_connector_built_once_per_attacher(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.shim.attach('a', VOL)
        self.shim.attach('b', VOL)
        self.assertEqual(1, host_mod.get_host_connector.call_count)

    def test_phases_of_each_attach(self):
        timers = []

        def make_timer():
            timers.append(timing.PhaseTimer())
            return timers[-1]

        shim = attach.VolumeAttacher(self.conn, self.volumes,
                                     timer_factory=make_timer)
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        start = time.perf_counter()
        shim.attach('a', VOL)
        took = time.perf_counter() - start
        shim.attach('b', VOL)
        self.assertEqual(2, len(timers))
        self.assertEqual(
            {'libvirt checks', 'lock', 'connector', 'os-brick connect',
             'XML build', 'attachDeviceFlags', 'metadata record'},
            set(timers[0].seconds))
        self.assertLessEqual(timers[0].total(), took)
        self.assertTrue(all(v >= 0 for v in timers[0].seconds.values()))
        # Detaching is not timed, and the attacher keeps no timer.
        shim.detach('a', VOL)
        self.assertEqual(2, len(timers))

    def test_failed_attach_rolls_back_the_attachment(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.dom_a.attach_error = libvirt.libvirtError('boom')
        self.assertRaises(libvirt.libvirtError, self.shim.attach, 'a', VOL)
        self.assertEqual([], self.volumes.list_attachments(VOL))

    def test_detach_keeps_connection_while_another_guest_uses_it(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.shim.attach('a', VOL)
        self.shim.attach('b', VOL)
        self.assertFalse(self.shim.detach('a', VOL)['disconnected'])
        self.assertTrue(self.shim.detach('b', VOL)['disconnected'])
        self.assertEqual([], self.volumes.list_attachments(VOL))

    def test_detach_finds_the_attachment_in_the_metadata(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        att = self.shim.attach('a', VOL)['attachment_id']
        self.assertIn(att, self.dom_a.meta[guest.METADATA_URI])
        self.assertEqual(att, self.shim.detach('a', VOL)['attachment_id'])
        self.assertEqual({}, self.dom_a.meta)

    def test_detach_of_unattached_volume(self):
        self.assertRaises(exception.VolumeNotAttached,
                          self.shim.detach, 'a', VOL)

    def test_detach_keeps_connection_of_a_server_cinder_lists_here(self):
        # Another server of this host that only Cinder knows of (its guest
        # is on another libvirt connection): Nova's libvirt driver would
        # keep the host connection too.
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        self.shim.attach('a', VOL)
        other = self.volumes.attachment_create(
            VOL, '33333333-3333-4333-8333-333333333333')['id']
        self.volumes.attachment_update(other, {'host': 'h1'})
        self.assertFalse(self.shim.detach('a', VOL)['disconnected'])
        self.assertEqual([other], [a['id'] for a in
                                   self.volumes.list_attachments(VOL)])

    def test_failed_detach_rolls_back_the_detaching(self):
        self.volumes.add_volume(VOL, self.dev, multiattach=True)
        att = self.shim.attach('a', VOL)['attachment_id']
        self.dom_a.detachDeviceFlags = mock.Mock(
            side_effect=libvirt.libvirtError('busy'))
        calls = []
        for name in ('begin_detaching', 'roll_detaching',
                     'attachment_delete'):
            self.useFixture(fixtures.MockPatchObject(
                self.volumes, name,
                side_effect=lambda *a, name=name: calls.append(name)))
        self.assertRaises(libvirt.libvirtError, self.shim.detach, 'a', VOL)
        self.assertEqual(['begin_detaching', 'roll_detaching'], calls)
        self.assertEqual([att], [a['id'] for a in
                                 self.volumes.list_attachments(VOL)])
