"""Back-end QoS specs through real Cinder, checked on the backend.

A QoS spec is created and associated with a volume type through Cinder's
API, as an operator would; each volume's disk is then read from the
emulator, which reports the IOPS and throughput ECS's formulas give.
"""

import uuid

from tests.functional import cinder_harness

MIB = 1024 * 1024


class TestBackEndQoS(cinder_harness.EBSFunctionalTestBase):

    def qos_type(self, consumer='back-end', extra_specs=None, **specs):
        body = {'qos_specs': dict(
            name='qos-%s' % uuid.uuid4().hex[:12],
            consumer=consumer, **{key: str(value)
                                  for key, value in specs.items()})}
        _, data = self.api_call('POST', '/qos-specs', body, expect=200)
        qos_id = data['qos_specs']['id']
        vtype = self.create_type(extra_specs=extra_specs)
        self.api_call('GET', '/qos-specs/%s/associate?vol_type_id=%s' % (
            qos_id, vtype['id']), expect=202)
        return vtype

    def disk_of(self, volume):
        return self.volume_disk(volume['id'])

    def test_provisioned_iops_bought_for_what_the_spec_asks(self):
        vtype = self.qos_type(total_iops_sec=20000)
        volume = self.create_volume(size=100, volume_type=vtype['id'])
        disk = self.disk_of(volume)
        # A PL1's 6,800 IOPS at 100 GiB, the rest provisioned.
        self.assertEqual(('cloud_auto', 13200, 20000),
                         (disk['Category'], disk['ProvisionedIops'],
                          disk['IOPS']))
        # Still met at 200 GiB: what was bought stays (ECS allows one
        # change of provisioned IOPS an hour).
        self.volume_action(volume['id'], 'os-extend', {'new_size': 200})
        self.wait_volume(volume['id'], 'available')
        disk = self.disk_of(volume)
        self.assertEqual((200, 13200, 25000),
                         (disk['Size'], disk['ProvisionedIops'],
                          disk['IOPS']))
        # A type asking more: ModifyDiskSpec in place.
        faster = self.qos_type(total_iops_sec=40000,
                               total_bytes_sec=300 * MIB)
        volume = self.retype(volume['id'], faster)
        self.assertEqual(faster['name'], volume['volume_type'])
        disk = self.disk_of(volume)
        self.assertEqual((28200, 40000), (disk['ProvisionedIops'],
                                          disk['IOPS']))
        self.assertGreaterEqual(disk['Throughput'], 300)
        # Per-GiB specs ask more of a larger disk: the level goes up.
        per_gb = self.qos_type(total_iops_sec_per_gb=30)
        small = self.create_volume(size=50, volume_type=per_gb['id'])
        self.assertEqual('PL0', self.disk_of(small)['PerformanceLevel'])
        self.volume_action(small['id'], 'os-extend', {'new_size': 200})
        self.wait_volume(small['id'], 'available')
        disk = self.disk_of(small)
        self.assertEqual(('cloud_essd', 'PL1', 11800),
                         (disk['Category'], disk['PerformanceLevel'],
                          disk['IOPS']))
        self.delete_volume(small['id'])
        self.delete_volume(volume['id'])

    def test_a_level_that_meets_the_spec_is_chosen(self):
        vtype = self.qos_type(consumer='both',
                              total_bytes_sec_per_gb=int(0.4 * MIB))
        volume = self.create_volume(size=400, volume_type=vtype['id'])
        disk = self.disk_of(volume)
        # 160 MB/s: a PL0 of 400 GiB gives 180.
        self.assertEqual(('cloud_essd', 'PL0', 180),
                         (disk['Category'], disk['PerformanceLevel'],
                          disk['Throughput']))
        self.delete_volume(volume['id'])

    def test_front_end_specs_leave_the_disk_alone(self):
        vtype = self.qos_type(consumer='front-end', total_iops_sec=90000)
        volume = self.create_volume(size=20, volume_type=vtype['id'])
        self.assertEqual('cloud_essd', self.disk_of(volume)['Category'])
        self.delete_volume(volume['id'])

    def test_specs_no_disk_meets_refused_without_a_disk(self):
        vtype = self.qos_type(total_iops_sec=20000)
        volume = self.create_volume(size=10, volume_type=vtype['id'],
                                    expect_status='error')
        self.assertIsNone(self.disk_of(volume))
        self.delete_volume(volume['id'])

    def test_read_write_split_refused(self):
        vtype = self.qos_type(read_iops_sec=1000)
        volume = self.create_volume(size=20, volume_type=vtype['id'],
                                    expect_status='error')
        self.assertIsNone(self.disk_of(volume))
        self.delete_volume(volume['id'])
