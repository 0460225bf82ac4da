"""The driver satisfies Cinder's driver interfaces and describes itself."""

import inspect

from cinder import interface
from cinder.interface import util
from cinder.interface import volume_driver
from cinder.interface import volume_manageable_driver
from cinder.interface import volume_snapshot_revert
from cinder.interface import volume_snapshotmanagement_driver
from cinder.tests.unit import test

from cinder_ebs_driver import driver
from cinder_ebs_driver import options

INTERFACES = (volume_driver.VolumeDriverCore,
              volume_manageable_driver.VolumeListManageableDriver,
              volume_snapshot_revert.VolumeSnapshotRevertDriver,
              volume_snapshotmanagement_driver.VolumeSnapshotManagementDriver)


class TestCompliance(test.TestCase):

    def test_registered_volume_driver(self):
        self.assertIn(driver.EBSVolumeDriver, interface._volume_register)

    def test_interfaces(self):
        for iface in INTERFACES:
            self.assertTrue(issubclass(driver.EBSVolumeDriver, iface),
                            iface.__name__)

    def test_interface_methods_defined_with_arguments(self):
        # The interface check of Cinder only sees classmethods; compare
        # every public method of each interface with the driver's.
        for iface in INTERFACES:
            for name, method in inspect.getmembers(iface,
                                                   inspect.isfunction):
                if name.startswith('_'):
                    continue
                ours = inspect.getattr_static(driver.EBSVolumeDriver, name,
                                              None)
                self.assertIsNotNone(ours, '%s.%s' % (iface.__name__, name))
                if not inspect.isfunction(ours):
                    continue
                expected = inspect.getfullargspec(method).args
                got = inspect.getfullargspec(ours).args
                self.assertEqual(expected, got[:len(expected)],
                                 '%s.%s' % (iface.__name__, name))

    def test_driver_info(self):
        info = util.DriverInfo(driver.EBSVolumeDriver)
        self.assertEqual('1.0.0', info.version)
        self.assertEqual('Alibaba_Cloud_EBS_CI', info.ci_wiki_name)
        self.assertTrue(info.supported)
        names = {opt.name for opt in info.driver_options}
        self.assertTrue({opt.name for opt in options.ebs_opts} <= names)
        self.assertIn('volume_backend_name', names)
        for opt in info.driver_options:
            self.assertTrue(bool(opt.help), opt.name)

    def test_active_active(self):
        self.assertTrue(driver.EBSVolumeDriver.SUPPORTS_ACTIVE_ACTIVE)
