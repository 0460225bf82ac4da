"""Unit tests of nova_shim.host."""

import ast
import importlib.util
import os
from unittest import mock

import fixtures
import testtools

from nova_shim import exception
from nova_shim import host


class VersionTest(testtools.TestCase):

    def test_minimums_are_novas(self):
        # Read from Nova's source: importing Nova's driver here would
        # register Nova's options next to Cinder's.
        spec = importlib.util.find_spec('nova')
        path = os.path.join(os.path.dirname(spec.origin), 'virt', 'libvirt',
                            'driver.py')
        with open(path) as f:
            tree = ast.parse(f.read())
        constants = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                name = getattr(node.targets[0], 'id', None)
                if name in ('MIN_LIBVIRT_VERSION', 'MIN_QEMU_VERSION'):
                    constants[name] = ast.literal_eval(node.value)
        self.assertEqual(constants['MIN_LIBVIRT_VERSION'],
                         host.MIN_LIBVIRT_VERSION)
        self.assertEqual(constants['MIN_QEMU_VERSION'],
                         host.MIN_QEMU_VERSION)

    def test_version_tuple(self):
        self.assertEqual((9, 0, 0), host.version_tuple(9000000))
        self.assertEqual((7, 2, 22), host.version_tuple(7002022))
        self.assertEqual((10, 10, 1), host.version_tuple(10010001))

    @staticmethod
    def _conn(libvirt_version, qemu_version):
        conn = mock.Mock()
        conn.getLibVersion.return_value = libvirt_version
        conn.getVersion.return_value = qemu_version
        return conn

    def test_new_enough(self):
        host.check_can_share_disks(self._conn(9000000, 7002022))
        host.check_can_share_disks(self._conn(8000000, 6002000))

    def test_old_libvirt(self):
        error = self.assertRaises(exception.HypervisorCannotShare,
                                  host.check_can_share_disks,
                                  self._conn(7010000, 7002000))
        self.assertIn('libvirt 7.10.0 < 8.0.0', str(error))

    def test_old_both(self):
        error = self.assertRaises(exception.HypervisorCannotShare,
                                  host.check_can_share_disks,
                                  self._conn(6000000, 5002000))
        self.assertIn('libvirt 6.0.0 < 8.0.0', str(error))
        self.assertIn('QEMU 5.2.0 < 6.2.0', str(error))


class ConnectorTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        host._probed_connector.cache_clear()
        self.addCleanup(host._probed_connector.cache_clear)
        self.get_props = self.useFixture(fixtures.MockPatch(
            'os_brick.initiator.connector.get_connector_properties')).mock
        self.get_props.side_effect = lambda *a: {
            'host': 'system-name', 'ip': a[1], 'system uuid': 'u-1',
            'multipath': a[2]}

    def test_host_name_override(self):
        props = host.get_host_connector(host='host-7', my_ip='192.0.2.1',
                                        root_helper='sudo x')
        self.assertEqual({'host': 'host-7', 'ip': '192.0.2.1',
                          'system uuid': 'u-1', 'multipath': False}, props)
        self.get_props.assert_called_once_with('sudo x', '192.0.2.1', False,
                                               False)

    def test_system_host_name_without_override(self):
        props = host.get_host_connector(my_ip='192.0.2.1')
        self.assertEqual('system-name', props['host'])

    def test_probed_once_per_process_for_every_host_name(self):
        first = host.get_host_connector(host='host-a', my_ip='192.0.2.1',
                                        root_helper='sudo')
        second = host.get_host_connector(host='host-b', my_ip='192.0.2.1',
                                         root_helper='sudo')
        self.assertEqual(1, self.get_props.call_count)
        self.assertEqual(('host-a', 'host-b'),
                         (first['host'], second['host']))
        self.assertEqual(first['system uuid'], second['system uuid'])

    def test_callers_get_their_own_copy(self):
        first = host.get_host_connector(host='host-a', my_ip='192.0.2.1')
        first['system uuid'] = 'changed'
        second = host.get_host_connector(host='host-a', my_ip='192.0.2.1')
        self.assertEqual('u-1', second['system uuid'])

    def test_other_arguments_are_probed_again(self):
        host.get_host_connector(my_ip='192.0.2.1', root_helper='sudo')
        host.get_host_connector(my_ip='192.0.2.2', root_helper='sudo')
        props = host.get_host_connector(my_ip='192.0.2.2',
                                        root_helper='sudo', multipath=True)
        self.assertEqual(3, self.get_props.call_count)
        self.assertEqual(('192.0.2.2', True), (props['ip'],
                                               props['multipath']))

    def test_a_failed_probe_is_not_kept(self):
        self.get_props.side_effect = [OSError('no blkid'),
                                      {'host': 'x', 'ip': '192.0.2.1'}]
        self.assertRaises(OSError, host.get_host_connector,
                          my_ip='192.0.2.1')
        self.assertEqual('192.0.2.1',
                         host.get_host_connector(my_ip='192.0.2.1')['ip'])

    def test_local_connector(self):
        brick = host.get_volume_connector('local', root_helper='sudo')
        self.assertEqual({'type': 'local', 'path': '/dev/sdx'},
                         brick.connect_volume({'device_path': '/dev/sdx'}))
