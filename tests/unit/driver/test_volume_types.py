"""Extra spec parsing and validation."""

from unittest import mock

from cinder import exception
from cinder.tests.unit import test
import ddt

from cinder_ebs_driver import volume_types


def conf(category='cloud_essd', level='PL1'):
    return mock.Mock(ebs_default_category=category,
                     ebs_default_performance_level=level)


@ddt.ddt
class TestParseExtraSpecs(test.TestCase):

    @ddt.unpack
    @ddt.data(
        ({}, False, ('cloud_essd', 'PL1', False)),
        ({}, True, ('cloud_essd', 'PL1', True)),
        ({'ebs:category': 'cloud_essd'}, True, ('cloud_essd', 'PL1', True)),
        ({'ebs:performance_level': 'PL3'}, False,
         ('cloud_essd', 'PL3', False)),
        ({'ebs:performance_level': ' pl2 '}, False,
         ('cloud_essd', 'PL2', False)),
        ({'ebs:category': 'CLOUD_AUTO'}, True, ('cloud_auto', None, True)),
        ({'ebs:category': 'cloud_regional_disk_auto'}, True,
         ('cloud_regional_disk_auto', None, True)),
        # Other scopes are not ours.
        ({'capabilities:foo': 'x', 'multiattach': '<is> True',
          'volume_backend_name': 'ebs'}, True, ('cloud_essd', 'PL1', True)),
    )
    def test_valid(self, specs, multiattach, expected):
        spec = volume_types.parse_extra_specs(specs, conf(), multiattach)
        # No QoS specs: no provisioned IOPS.
        self.assertEqual(expected + (None,), tuple(spec))

    @ddt.unpack
    @ddt.data(
        ({'ebs:category': 'cloud_ssd'}, 'unknown disk category'),
        ({'ebs:category': 'fast'}, 'unknown disk category'),
        ({'ebs:category': ''}, 'is empty'),
        ({'ebs:performance_level': 'PL9'}, 'unknown performance level'),
        ({'ebs:performance_level': 'high'}, 'unknown performance level'),
        ({'ebs:performance_level': '  '}, 'is empty'),
        ({'ebs:category': 'cloud_auto', 'ebs:performance_level': 'PL1'},
         'ESSD (cloud_essd) disks only'),
        ({'ebs:categroy': 'cloud_essd'}, 'unknown extra spec'),
    )
    def test_invalid(self, specs, text):
        err = self.assertRaises(exception.InvalidVolumeType,
                                volume_types.parse_extra_specs, specs,
                                conf(), True)
        self.assertIn(text, str(err))

    def test_default_category_without_level(self):
        spec = volume_types.parse_extra_specs({}, conf('cloud_auto'))
        self.assertEqual(('cloud_auto', None, False, None), tuple(spec))

    @ddt.data(('<is> True', True), ('<is> true', True), ('True', True),
              ('<is> False', False), (None, False), ('nonsense', False))
    @ddt.unpack
    def test_parse_bool_spec(self, value, expected):
        self.assertEqual(expected, volume_types.parse_bool_spec(value))

    def test_multiattach_type(self):
        self.assertTrue(volume_types.is_multiattach_type(
            {'extra_specs': {'multiattach': '<is> True'}}))
        self.assertFalse(volume_types.is_multiattach_type(
            {'extra_specs': {}}))
        self.assertFalse(volume_types.is_multiattach_type(None))

    @ddt.unpack
    @ddt.data(('cloud_essd', 'PL0', 1, True),
              ('cloud_essd', 'PL1', 19, False),
              ('cloud_essd', 'PL1', 20, True),
              ('cloud_essd', 'PL2', 460, False),
              ('cloud_auto', None, 1, True),
              ('cloud_regional_disk_auto', None, 9, False))
    def test_check_size(self, category, level, size, ok):
        spec = volume_types.DiskSpec(category, level, False)
        if ok:
            volume_types.check_size(spec, size)
        else:
            err = self.assertRaises(exception.InvalidInput,
                                    volume_types.check_size, spec, size)
            self.assertIn('at least', str(err))

    def test_encrypted_multiattach_refused(self):
        volume = mock.Mock(id='v1', multiattach=True,
                           encryption_key_id='key', migration_status=None)
        err = self.assertRaises(
            exception.InvalidVolume,
            volume_types.check_not_encrypted_multiattach, volume)
        self.assertIn('cannot be encrypted', str(err))
        volume.multiattach = False
        volume_types.check_not_encrypted_multiattach(volume)
        volume.multiattach = True
        volume.encryption_key_id = None
        volume_types.check_not_encrypted_multiattach(volume)

    @ddt.unpack
    @ddt.data(('cloud_essd', 'cloud_essd', True),
              ('cloud_essd', 'cloud_auto', True),
              ('cloud_auto', 'cloud_essd', True),
              ('cloud_essd', 'cloud_regional_disk_auto', False),
              ('cloud_regional_disk_auto', 'cloud_auto', False))
    def test_category_change_in_place(self, old, new, expected):
        self.assertEqual(expected,
                         volume_types.category_change_in_place(old, new))
