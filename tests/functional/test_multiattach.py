"""Multi-attach through Cinder's attachments API, checked on the backend."""

from concurrent import futures
import time

from tests.functional import cinder_harness
from tests.functional import cpu_load

MAX_HOSTS = 16


class TestMultiAttach(cinder_harness.EBSFunctionalTestBase):

    def setUp(self):
        super().setUp()
        self.vtype = self.create_type(multiattach=True)

    def _volume(self):
        volume = self.create_volume(volume_type=self.vtype['id'])
        self.assertTrue(volume['multiattach'])
        disk = self.backend_disk(volume['id'] and self._disk_id(volume))
        self.assertEqual('Enabled', disk['MultiAttach'])
        return volume

    def _disk_id(self, volume):
        disks = [d for d in self.backend_disks()
                 if d.get('DiskName') == 'volume-%s' % volume['id']]
        self.assertEqual(1, len(disks))
        return disks[0]['DiskId']

    def test_create_attach_two_hosts_detach_delete(self):
        volume = self._volume()
        disk_id = self._disk_id(volume)
        a0 = self.create_attachment(volume['id'], self.connector(0))
        a1 = self.create_attachment(volume['id'], self.connector(1))
        info = a1['connection_info']
        self.assertEqual('local', info['driver_volume_type'])
        self.assertTrue(info['multiattach'])
        self.assertEqual(disk_id, info['disk_id'])
        self.assertEqual(self.emulator.device_path('i-emu0001', disk_id),
                         info['device_path'])
        self.assertEqual(['i-emu0000', 'i-emu0001'],
                         self.disk_instances(self.backend_disk(disk_id)))
        volume = self.wait_volume(volume['id'], 'in-use')
        self.assertEqual(2, len(volume['attachments']))

        self.delete_attachment(a0['id'])
        self.assertEqual(['i-emu0001'],
                         self.disk_instances(self.backend_disk(disk_id)))
        self.delete_attachment(a1['id'])
        self.assertEqual([], self.disk_instances(self.backend_disk(disk_id)))
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])
        self.assertIsNone(self.backend_disk(disk_id))

    def test_sixteen_hosts_and_the_seventeenth_refused(self):
        volume = self._volume()
        disk_id = self._disk_id(volume)
        attachments = [self.create_attachment(volume['id'], self.connector(n))
                       for n in range(MAX_HOSTS)]
        expected = sorted(self.instance(n)['InstanceId']
                          for n in range(MAX_HOSTS))
        disk = self.backend_disk(disk_id)
        self.assertEqual(expected, self.disk_instances(disk))
        # Each host got its own device path.
        paths = {a['connection_info']['device_path'] for a in attachments}
        self.assertEqual(MAX_HOSTS, len(paths))

        status, body = self.create_attachment(
            volume['id'], self.connector(MAX_HOSTS), expect=None)
        self.assertGreaterEqual(status, 400, body)
        self.assertEqual(expected,
                         self.disk_instances(self.backend_disk(disk_id)))
        # Cinder keeps the refused attachment (not connected); the caller
        # deletes it, as Nova does, and the 16 hosts keep the disk.
        attachments = self.get_attachments(volume['id'])
        failed = [a for a in attachments if a['status'] != 'attached']
        self.assertEqual(1, len(failed), attachments)
        self.assertEqual(MAX_HOSTS, len(attachments) - 1)
        self.delete_attachment(failed[0]['id'])
        self.wait_volume(volume['id'], 'in-use')
        self.assertEqual(expected,
                         self.disk_instances(self.backend_disk(disk_id)))
        for attachment in self.get_attachments(volume['id']):
            self.delete_attachment(attachment['id'])
        self.assertEqual([], self.disk_instances(self.backend_disk(disk_id)))
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])

    def test_two_attachments_on_one_host(self):
        volume = self._volume()
        disk_id = self._disk_id(volume)
        first = self.create_attachment(volume['id'], self.connector(0))
        second = self.create_attachment(volume['id'], self.connector(0))
        other = self.create_attachment(volume['id'], self.connector(9))
        self.assertEqual(first['connection_info']['device_path'],
                         second['connection_info']['device_path'])
        self.assertEqual(['i-emu0000', 'i-emu0009'],
                         self.disk_instances(self.backend_disk(disk_id)))

        # Another guest on host-0 still uses the disk: it stays attached.
        self.delete_attachment(first['id'])
        self.assertEqual(['i-emu0000', 'i-emu0009'],
                         self.disk_instances(self.backend_disk(disk_id)))
        # The last one on host-0 goes: the host is detached.
        self.delete_attachment(second['id'])
        self.assertEqual(['i-emu0009'],
                         self.disk_instances(self.backend_disk(disk_id)))
        self.delete_attachment(other['id'])
        self.assertEqual([], self.disk_instances(self.backend_disk(disk_id)))
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])

    def test_two_attachments_on_one_host_deleted_at_once(self):
        """The host is detached once neither attachment needs it.

        Cinder removes an attachment's record only after the driver has
        terminated its connection, so each termination may still see the
        other attachment and keep the host's connection.
        """
        self._delete_pairs_at_once(rounds=3)

    def test_two_attachments_deleted_at_once_on_a_saturated_cpu(self):
        """The same with every CPU kept busy by other processes."""
        self.useFixture(cpu_load.SaturatedCPU())
        self._delete_pairs_at_once(rounds=2)

    def _delete_pairs_at_once(self, rounds):
        volume = self._volume()
        disk_id = self._disk_id(volume)
        for _round in range(rounds):
            pair = [self.create_attachment(volume['id'], self.connector(0))
                    for _ in range(2)]
            with futures.ThreadPoolExecutor(len(pair)) as pool:
                list(pool.map(self.delete_attachment,
                              [a['id'] for a in pair]))
            self.assertEqual([], self.get_attachments(volume['id']))
            started = time.monotonic()
            self.wait_for(
                lambda: not self.disk_instances(self.backend_disk(disk_id)),
                what='disk %s to be detached from host-0' % disk_id)
            print('host-0 released %.1f s after both attachments were '
                  'deleted' % (time.monotonic() - started))
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])

    def test_attaching_attachment_counts(self):
        """An attachment not yet completed still holds its host."""
        volume = self._volume()
        disk_id = self._disk_id(volume)
        done = self.create_attachment(volume['id'], self.connector(3))
        pending = self.create_attachment(volume['id'], self.connector(3),
                                         complete=False)
        self.assertEqual('attaching', [
            a for a in self.get_attachments(volume['id'])
            if a['id'] == pending['id']][0]['status'])
        self.delete_attachment(done['id'])
        self.assertEqual(['i-emu0003'],
                         self.disk_instances(self.backend_disk(disk_id)))
        self.delete_attachment(pending['id'])
        self.assertEqual([], self.disk_instances(self.backend_disk(disk_id)))
        self.delete_volume(volume['id'])

    def test_force_detach_all_hosts(self):
        volume = self._volume()
        disk_id = self._disk_id(volume)
        for n in (1, 2, 12):
            self.create_attachment(volume['id'], self.connector(n))
        # Force detach (no connector) detaches every host at once.
        attachments = self.get_attachments(volume['id'])
        self.volume_action(volume['id'], 'os-force_detach',
                           {'attachment_id': attachments[0]['id']})
        self.assertEqual([], self.disk_instances(self.backend_disk(disk_id)))
        for attachment in attachments[1:]:
            self.volume_action(volume['id'], 'os-force_detach',
                               {'attachment_id': attachment['id']})
        self.wait_volume(volume['id'], 'available')
        self.assertEqual([], self.disk_instances(self.backend_disk(disk_id)))
        self.delete_volume(volume['id'])
