"""Back-end QoS specs onto ESSD performance: the mapping, row by row."""

from cinder import exception
import ddt
import fixtures
import testtools

from cinder_ebs_driver import qos
from cinder_ebs_driver import volume_types
from ebs_emulator import performance
from ebs_emulator import rules
from tests.unit.driver import fakes
from tests.unit.driver import test_volume_types

MIB = 1024 * 1024
conf = test_volume_types.conf


def choose(specs, size, multiattach=False, extra_specs=None):
    return tuple(volume_types.parse_extra_specs(
        extra_specs or {}, conf(), multiattach, qos_specs=specs,
        size=size))


@ddt.ddt
class TestMapping(testtools.TestCase):

    @ddt.unpack
    @ddt.data(
        # PL0 first: 1,800 + 12 x 40 = 2,280 IOPS.
        ({'total_iops_sec': '2000'}, 40, False, {},
         ('cloud_essd', 'PL0', False, None)),
        # PL0's 180 MB/s cap is not enough: PL1 (120 + 0.5 x 400 = 320).
        ({'total_bytes_sec': str(300 * MIB)}, 400, False, {},
         ('cloud_essd', 'PL1', False, None)),
        # Beyond a PL1 of 100 GiB (6,800 IOPS): AutoPL with the rest
        # provisioned (PL2 needs 461 GiB).
        ({'total_iops_sec': '20000'}, 100, False, {},
         ('cloud_auto', None, False, 13200)),
        # Throughput bought as provisioned IOPS: 16 KB/s each.
        ({'total_bytes_sec': str(300 * MIB)}, 100, False, {},
         ('cloud_auto', None, False, 8320)),
        # Per-GiB specs times the size, with Cinder's floor and cap.
        ({'total_iops_sec_per_gb': '31'}, 100, False, {},
         ('cloud_essd', 'PL1', False, None)),
        ({'total_iops_sec_per_gb': '30',
          'total_iops_sec_per_gb_min': '9000'}, 100, False, {},
         ('cloud_auto', None, False, 2200)),
        ({'total_iops_sec_per_gb': '300', 'total_iops_sec_max': '2000'},
         100, False, {}, ('cloud_essd', 'PL0', False, None)),
        # A large disk: AutoPL up to its 50,000 provisioned IOPS on a
        # 50,000 baseline, then PL2 (100,000 at most), then PL3.
        ({'total_iops_sec': '100000'}, 2000, False, {},
         ('cloud_auto', None, False, 50000)),
        ({'total_iops_sec': '100001'}, 2000, False, {},
         ('cloud_essd', 'PL3', False, None)),
        # An AutoPL disk reaches 350 + 781 MB/s, a PL2 750: PL2 comes only
        # when the type names it.
        ({'total_bytes_sec': str(700 * MIB)}, 3000, False, {},
         ('cloud_auto', None, False, 22400)),
        ({'total_bytes_sec': str(1200 * MIB)}, 3000, False, {},
         ('cloud_essd', 'PL3', False, None)),
        ({'total_bytes_sec': str(700 * MIB)}, 3000, False,
         {'ebs:performance_level': 'PL2'},
         ('cloud_essd', 'PL2', False, None)),
        # Multi-attach: ESSD levels before AutoPL.
        ({'total_iops_sec': '30000'}, 600, True, {},
         ('cloud_essd', 'PL1', True, None)),
        ({'total_iops_sec': '60000'}, 600, True, {},
         ('cloud_auto', None, True, 28200)),
        ({'total_iops_sec': '60000'}, 1200, True, {},
         ('cloud_essd', 'PL2', True, None)),
        # The extra specs narrow the choice.
        ({'total_iops_sec': '2000'}, 40, False,
         {'ebs:category': 'cloud_auto'}, ('cloud_auto', None, False, 0)),
        ({'total_iops_sec': '2000'}, 40, False,
         {'ebs:performance_level': 'PL1'},
         ('cloud_essd', 'PL1', False, None)),
        ({'total_iops_sec': '20000'}, 1000, False,
         {'ebs:category': 'cloud_essd'},
         ('cloud_essd', 'PL1', False, None)),
        # Front-end keys are not the back-end's business.
        ({'size_iops_sec': '4096'}, 40, False, {},
         ('cloud_essd', 'PL1', False, None)),
    )
    def test_choice(self, specs, size, multiattach, extra_specs, expected):
        self.assertEqual(expected, choose(specs, size, multiattach,
                                          extra_specs))

    @ddt.unpack
    @ddt.data(
        ({'read_iops_sec': '100'}, 40, {}, 'read_iops_sec cannot be '
         'honoured'),
        ({'write_bytes_sec_per_gb': '1'}, 40, {}, 'write_bytes_sec_per_gb'),
        ({'total_iops_sec': 'fast'}, 40, {}, 'non-negative number'),
        ({'total_iops_sec': '-5'}, 40, {}, 'non-negative number'),
        ({'total_iops_sec': 'nan'}, 40, {}, 'non-negative number'),
        # 1,000 IOPS per GiB at most; nothing provisioned up to 3 GiB.
        ({'total_iops_sec': '2000'}, 1, {}, 'is 1850 IOPS'),
        ({'total_iops_sec': '200000'}, 2000, {}, 'is 101800 IOPS'),
        ({'total_iops_sec': '20000'}, 100,
         {'ebs:performance_level': 'PL1'}, '(cloud_essd PL1) is 6800 IOPS'),
        ({'total_bytes_sec': str(200 * MIB)}, 100,
         {'ebs:category': 'cloud_regional_disk_auto'}, 'and 170 MB/s'),
    )
    def test_refused(self, specs, size, extra_specs, text):
        err = self.assertRaises(exception.InvalidQoSSpecs, choose, specs,
                                size, False, extra_specs)
        self.assertIn(text, str(err))

    def test_nothing_asked(self):
        self.assertIsNone(qos.requirement({}, 10))
        self.assertIsNone(qos.requirement({'size_iops_sec': '1'}, 10))
        self.assertEqual(qos.Requirement(3, 2),
                         qos.requirement({'total_iops_sec': '2.5',
                                          'total_bytes_sec': MIB + 1}, 10))

    def test_every_choice_meets_the_specs_under_both_autopl_pages(self):
        # Checked against the emulator's own formulas, under each reading
        # of the AutoPL pages (with and without the baseline's floor).
        readings = [rules.default_readings(), rules.strict_readings()]
        self.assertEqual({'current-guide', 'older-guide'},
                         {r['autopl-baseline'] for r in readings})
        checked = 0
        for size in (4, 20, 40, 100, 461, 1000, 2000):
            for iops in (1000, 5000, 20000, 50000, 90000):
                for mbps in (None, 300):
                    try:
                        choice = qos.choose(
                            qos.Requirement(iops, mbps), size,
                            min_sizes=volume_types.ESSD_MIN_SIZE)
                    except exception.InvalidQoSSpecs:
                        continue
                    for reading in readings:
                        got_iops, got_mbps = performance.limits(
                            choice.category, choice.performance_level, size,
                            choice.provisioned_iops, reading)
                        self.assertGreaterEqual(got_iops, iops, choice)
                        self.assertGreaterEqual(got_mbps, mbps or 0, choice)
                        if choice.category == qos.AUTOPL:
                            self.assertLessEqual(
                                choice.provisioned_iops,
                                performance.max_provisioned_iops(size,
                                                                 reading))
                    checked += 1
        self.assertGreater(checked, 40)


@ddt.ddt
class TestExtend(fakes.DriverTestCase):
    """An extend keeps meeting the type's back-end QoS specs."""

    def extend(self, specs, disk, new_size):
        self.useFixture(fixtures.MockPatchObject(
            qos, 'backend_specs', return_value=specs))
        self.client.get_disk.return_value = disk
        self.client.wait_for_disk_status.return_value = dict(disk,
                                                             Size=new_size)
        self.driver.extend_volume(self.volume(multiattach=False), new_size)

    def autopl(self, provisioned, multiattach=False, size=100):
        disk = fakes.disk(category='cloud_auto', size=size,
                          multiattach=multiattach)
        disk['ProvisionedIops'] = provisioned
        return disk

    @ddt.unpack
    @ddt.data(
        # A fixed 20,000 IOPS is still met: nothing changes (ECS allows
        # one change of provisioned IOPS an hour; a saving waits).
        ({'total_iops_sec': '20000'}, 13200, 200, None),
        # 100 IOPS per GiB: more are needed.
        ({'total_iops_sec_per_gb': '100'}, 3200, 200,
         {'provisioned_iops': 8200}),
        ({'total_iops_sec': '6000'}, 0, 200, None),
    )
    def test_autopl_provisioned_again(self, specs, provisioned, new_size,
                                      change):
        self.extend(specs, self.autopl(provisioned), new_size)
        self.client.resize_disk.assert_called_once_with(
            fakes.DISK_ID, new_size, online=False)
        if change:
            self.client.modify_disk_spec.assert_called_once_with(
                fakes.DISK_ID, **change)
        else:
            self.client.modify_disk_spec.assert_not_called()

    def test_level_kept_while_it_meets_the_specs(self):
        self.extend({'total_iops_sec_per_gb': '30'},
                    fakes.disk(level='PL0', size=50, multiattach=False), 100)
        self.client.modify_disk_spec.assert_not_called()

    def test_level_raised_when_it_no_longer_does(self):
        self.extend({'total_iops_sec_per_gb': '30'},
                    fakes.disk(level='PL0', size=50, multiattach=False), 200)
        self.client.modify_disk_spec.assert_called_once_with(
            fakes.DISK_ID, performance_level='PL1')

    def test_multiattach_disk_that_would_fall_short_is_not_extended(self):
        disk = self.autopl(3200, multiattach=True)
        err = self.assertRaises(
            exception.InvalidVolume, self.extend,
            {'total_iops_sec_per_gb': '100'}, disk, 200)
        self.assertIn('20000 IOPS', str(err))
        self.client.resize_disk.assert_not_called()

    def test_multiattach_disk_keeps_what_it_bought(self):
        self.extend({'total_iops_sec': '20000'},
                    self.autopl(13200, multiattach=True), 200)
        self.client.resize_disk.assert_called_once()
        self.client.modify_disk_spec.assert_not_called()

    def test_no_specs_no_change(self):
        self.extend({}, self.autopl(100), 200)
        self.client.modify_disk_spec.assert_not_called()

    def test_specs_from_before_the_checks_do_not_hold_the_extend(self):
        self.extend({'read_iops_sec': '100'}, self.autopl(100), 200)
        self.client.resize_disk.assert_called_once()
        self.client.modify_disk_spec.assert_not_called()

    def test_multiattach_disk_still_meeting_the_specs_is_extended(self):
        self.extend({'total_iops_sec_per_gb': '100'},
                    self.autopl(20000, multiattach=True), 200)
        self.client.resize_disk.assert_called_once()
        self.client.modify_disk_spec.assert_not_called()


class TestRetype(fakes.DriverTestCase):

    def retype(self, disk, qos_specs, extra_specs):
        self.useFixture(fixtures.MockPatchObject(
            qos, 'backend_specs', return_value=qos_specs))
        self.client.get_disk.return_value = disk
        new_type = {'id': 'type-2', 'name': 'new', 'qos_specs_id': None,
                    'extra_specs': extra_specs}
        return self.driver.retype(self.ctxt, self.volume(multiattach=False,
                                                         size=100),
                                  new_type, {}, 'host')

    def test_autopl_type_without_specs_buys_no_iops(self):
        disk = fakes.disk(category='cloud_auto', multiattach=False,
                          size=100)
        disk['ProvisionedIops'] = 13200
        self.assertTrue(self.retype(disk, {}, {'ebs:category': 'cloud_auto'}))
        self.client.modify_disk_spec.assert_called_once_with(
            fakes.DISK_ID, performance_level=None, category=None,
            provisioned_iops=0)

    def test_more_iops_bought_in_place(self):
        disk = fakes.disk(category='cloud_auto', multiattach=False,
                          size=100)
        disk['ProvisionedIops'] = 0
        self.assertTrue(self.retype(disk, {'total_iops_sec': '20000'}, {}))
        self.client.modify_disk_spec.assert_called_once_with(
            fakes.DISK_ID, performance_level=None, category=None,
            provisioned_iops=13200)

    def test_regional_default_stays_regional(self):
        self.flags_backend(ebs_default_category='cloud_regional_disk_auto')
        spec = volume_types.parse_extra_specs(
            {}, self.configuration, qos_specs={'total_iops_sec': '5000'},
            size=100)
        self.assertEqual('cloud_regional_disk_auto', spec.category)
