"""Scheduler statistics, and when the driver lists the disks for them."""

import threading
from unittest import mock

from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import naming
from tests.unit.driver import fakes


class TestStats(fakes.DriverTestCase):

    def test_stats_one_listing(self):
        self.client.list_disks.return_value = [
            fakes.disk('d-1', size=10), fakes.disk('d-2', size=5),
            fakes.disk('d-3', size=100, zone='elsewhere')]
        stats = self.driver.get_volume_stats(refresh=True)
        # Only the disks Cinder manages (they carry the volume id tag).
        self.client.list_disks.assert_called_once_with(
            tags={naming.VOLUME_TAG: None})
        self.assertEqual('ebs', stats['volume_backend_name'])
        self.assertTrue(stats['multiattach'])
        pool = stats['pools'][0]
        self.assertEqual(fakes.ZONE, pool['pool_name'])
        self.assertEqual('infinite', pool['total_capacity_gb'])
        self.assertEqual('infinite', pool['free_capacity_gb'])
        self.assertEqual(15, pool['provisioned_capacity_gb'])
        for key in ('multiattach', 'thin_provisioning_support',
                    'online_extend_support', 'QoS_support'):
            self.assertTrue(pool[key], key)
        # What back-end QoS specs may ask of one disk: a PL3's.
        self.assertEqual((1000000, 4000, 50000), (
            pool['max_iops_per_volume'],
            pool['max_throughput_mbps_per_volume'],
            pool['max_provisioned_iops_per_volume']))
        self.assertTrue(stats['sparse_copy_volume'])
        self.driver.get_volume_stats()
        self.client.list_disks.assert_called_once_with(
            tags={naming.VOLUME_TAG: None})
        self.assertEqual(fakes.ZONE, self.driver.get_pool(self.volume()))

    @mock.patch('time.monotonic')
    def test_refreshes_within_the_min_interval_reuse_the_figures(
            self, monotonic):
        self.flags_backend(ebs_stats_min_interval=30)
        monotonic.return_value = 1000.0
        self.client.list_disks.return_value = [fakes.disk(size=10)]
        first = self.driver.get_volume_stats(refresh=True)
        # cinder-volume's start: init_capabilities, init_host_with_rpc and
        # the first periodic report, each asking for a refresh.
        self.client.list_disks.return_value = [fakes.disk(size=20)]
        monotonic.return_value = 1029.0
        self.assertIs(first, self.driver.get_volume_stats(refresh=True))
        self.assertEqual(1, self.client.list_disks.call_count)
        monotonic.return_value = 1030.0
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(20, pool['provisioned_capacity_gb'])
        self.assertEqual(2, self.client.list_disks.call_count)

    def test_a_refresh_during_a_listing_waits_for_its_figures(self):
        self.flags_backend(ebs_stats_min_interval=30)
        listing = threading.Event()
        second_asked = threading.Event()
        real_lock = self.driver._stats_lock
        asked = []

        class CountingLock(object):
            def __enter__(self):
                asked.append(None)
                if len(asked) == 2:
                    second_asked.set()
                return real_lock.__enter__()

            def __exit__(self, *exc_info):
                return real_lock.__exit__(*exc_info)

        self.driver._stats_lock = CountingLock()

        def slow_listing(**kwargs):
            listing.set()
            # Answer once the second refresh has been asked for.
            second_asked.wait(5)
            return [fakes.disk(size=10)]

        self.client.list_disks.side_effect = slow_listing
        first = threading.Thread(
            target=self.driver.get_volume_stats, kwargs={'refresh': True})
        first.start()
        self.assertTrue(listing.wait(5))
        results = []
        second = threading.Thread(target=lambda: results.append(
            self.driver.get_volume_stats(refresh=True)))
        second.start()
        first.join(10)
        second.join(10)
        self.assertTrue(second_asked.is_set())
        self.assertEqual(1, self.client.list_disks.call_count)
        self.assertEqual(10, results[0]['pools'][0]['provisioned_capacity_gb'])

    def test_own_volume_changes_are_counted_without_listing(self):
        self.flags_backend(ebs_stats_min_interval=30,
                           ebs_pool_capacity_gb=1000)
        self.client.list_disks.return_value = [fakes.disk(size=100)]
        self.driver.get_volume_stats(refresh=True)
        self.client.create_disk.return_value = 'd-new'
        self.client.get_disk.return_value = fakes.disk('d-new', size=40)
        self.client.wait_for_disk_status.return_value = fakes.disk(
            'd-new', size=60)
        self.driver.create_volume(self.volume(size=40, provider_id=None))
        self.driver.extend_volume(self.volume(size=40, provider_id='d-new'),
                                  60)
        # cinder-volume refreshes after each deletion.
        self.driver.delete_volume(self.volume(size=100))
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(1, self.client.list_disks.call_count)
        self.assertEqual(60, pool['provisioned_capacity_gb'])
        self.assertEqual(940, pool['free_capacity_gb'])

    def _stats_listings(self):
        return [c for c in self.client.list_disks.call_args_list
                if c == mock.call(tags={naming.VOLUME_TAG: None})]

    def test_failed_or_unmeasured_changes_make_the_next_refresh_list(self):
        self.flags_backend(ebs_stats_min_interval=30)
        self.client.list_disks.return_value = []
        self.driver.get_volume_stats(refresh=True)
        self.client.create_disk.side_effect = ebs_exc.EBSServerError(
            code='InternalError')
        self.assertRaises(ebs_exc.EBSServerError, self.driver.create_volume,
                          self.volume(provider_id=None))
        self.driver.get_volume_stats(refresh=True)
        self.assertEqual(2, len(self._stats_listings()))
        # A volume without provider_id may have had no disk.
        self.driver.delete_volume(self.volume(provider_id=None))
        self.driver.get_volume_stats(refresh=True)
        self.assertEqual(3, len(self._stats_listings()))
        self.driver.get_volume_stats(refresh=True)
        self.assertEqual(3, len(self._stats_listings()))

    def test_min_interval_zero_lists_on_every_refresh(self):
        self.flags_backend(ebs_stats_min_interval=0)
        for _ in range(3):
            self.driver.get_volume_stats(refresh=True)
        self.assertEqual(3, self.client.list_disks.call_count)

    def test_stats_capacity_option(self):
        self.flags_backend(ebs_pool_capacity_gb=100)
        self.client.list_disks.return_value = [fakes.disk(size=30)]
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(100, pool['total_capacity_gb'])
        self.assertEqual(70, pool['free_capacity_gb'])

    def test_stats_name_the_default_disk(self):
        self.client.list_disks.return_value = []
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.flags_backend(ebs_stats_min_interval=0,
                           ebs_default_performance_level='PL2')
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(('cloud_essd', 'PL2'), (
            pool['ebs_default_category'],
            pool['ebs_default_performance_level']))
        self.flags_backend(ebs_default_category='cloud_auto')
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual('cloud_auto', pool['ebs_default_category'])
