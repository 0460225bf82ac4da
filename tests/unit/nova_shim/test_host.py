"""Unit tests of nova_shim.host."""

import ast
import importlib.util
import os
from unittest import mock

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

    @mock.patch('os_brick.initiator.connector.get_connector_properties')
    def test_host_name_override(self, get_props):
        get_props.return_value = {'host': 'host-7'}
        props = host.get_host_connector(host='host-7', my_ip='192.0.2.1',
                                        root_helper='sudo x')
        self.assertEqual({'host': 'host-7'}, props)
        get_props.assert_called_once_with('sudo x', '192.0.2.1', False,
                                          False, host='host-7')

    def test_local_connector(self):
        brick = host.get_volume_connector('local', root_helper='sudo')
        self.assertEqual({'type': 'local', 'path': '/dev/sdx'},
                         brick.connect_volume({'device_path': '/dev/sdx'}))
