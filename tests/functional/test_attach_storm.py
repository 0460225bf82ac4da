"""Concurrent initialize_connection calls on one multi-attach volume.

Cinder itself refuses a second attachment create while a multi-attach
volume is ``attaching``, so the storm is sent to the volume service's
driver directly, the way its manager calls it, from green threads of the
volume service's process (with its real file-based coordination locks).
"""

from concurrent import futures

from cinder import context
from cinder import exception
from cinder import objects
from cinder.objects import fields

from tests.functional import cinder_harness

MAX_HOSTS = 16


class AttachStormBase(cinder_harness.EBSFunctionalTestBase):

    # Long enough for the attachments to overlap.
    EMULATOR_KWARGS = {'transition_delay': 0.2}

    def setUp(self):
        super().setUp()
        self.vtype = self.create_type(multiattach=True)
        self.ctxt = context.get_admin_context()

    @property
    def driver(self):
        return self.volume.manager.driver

    def _volume(self):
        volume = self.create_volume(volume_type=self.vtype['id'])
        return objects.Volume.get_by_id(self.ctxt, volume['id'])

    def _at_once(self, calls):
        """Run the calls at the same time; answer (result, error) pairs."""
        def run(call):
            try:
                return call(), None
            except Exception as error:
                return None, error
        with futures.ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(run, calls))

    def _attached(self, volume):
        return self.disk_instances(self.backend_disk(volume.provider_id))


class TestAttachStorm(AttachStormBase):

    def test_seventeen_hosts_at_once(self):
        volume = self._volume()
        hosts = range(MAX_HOSTS + 1)
        results = self._at_once([
            lambda n=n: self.driver.initialize_connection(
                volume, self.connector(n)) for n in hosts])
        refused = [n for n, (_, error) in zip(hosts, results) if error]
        self.assertEqual(1, len(refused), results)
        error = results[refused[0]][1]
        self.assertIsInstance(error, exception.InvalidVolume)
        self.assertIn('%d hosts' % MAX_HOSTS, str(error))
        winners = [n for n in hosts if n not in refused]
        expected = sorted(self.instance(n)['InstanceId'] for n in winners)
        self.assertEqual(expected, self._attached(volume))
        # Each accepted host got its own device, which exists.
        paths = {info['data']['device_path'] for info, _ in results if info}
        self.assertEqual(MAX_HOSTS, len(paths))

        results = self._at_once([
            lambda n=n: self.driver.terminate_connection(
                volume, self.connector(n)) for n in winners])
        self.assertEqual([(False, None)] * MAX_HOSTS, results)
        self.assertEqual([], self._attached(volume))
        self.delete_volume(volume.id)

    def test_two_attachments_on_one_host_at_once(self):
        volume = self._volume()
        host = self.connector(0)
        # What Cinder has recorded and passes: both attachments, in its
        # database and in the volume's list.
        attachments = [
            objects.VolumeAttachment(
                self.ctxt, volume_id=volume.id,
                attach_status=fields.VolumeAttachStatus.ATTACHING,
                attached_host=host['host'], connector=host)
            for _ in range(2)]
        for attachment in attachments:
            attachment.create()
        volume.volume_attachment = objects.VolumeAttachmentList(
            objects=attachments)
        attach_calls = self.emulator.call_counts()['AttachDisk']

        results = self._at_once([
            lambda: self.driver.initialize_connection(volume, host)] * 2)
        self.assertEqual([None, None], [error for _, error in results])
        paths = {info['data']['device_path'] for info, _ in results}
        self.assertEqual(1, len(paths))
        self.assertEqual([self.instance(0)['InstanceId']],
                         self._attached(volume))
        # One AttachDisk: the second attachment found the disk there.
        self.assertEqual(
            1, self.emulator.call_counts()['AttachDisk'] - attach_calls)

        # The first detach keeps the host; the last one detaches it.
        self.assertTrue(self.driver.terminate_connection(volume, host))
        self.assertEqual([self.instance(0)['InstanceId']],
                         self._attached(volume))
        # Cinder destroys the first record once its termination returned.
        attachments[0].destroy()
        volume.volume_attachment = objects.VolumeAttachmentList(
            objects=attachments[1:])
        self.assertFalse(self.driver.terminate_connection(volume, host))
        self.assertEqual([], self._attached(volume))
        self.delete_volume(volume.id)


class TestAttachStormLowerLimit(AttachStormBase):
    """Below ECS's limit the driver's own count must stay exact."""

    DRIVER_FLAGS = {'ebs_max_attach_hosts': 3}

    def test_five_hosts_at_once_three_allowed(self):
        volume = self._volume()
        hosts = range(5)
        results = self._at_once([
            lambda n=n: self.driver.initialize_connection(
                volume, self.connector(n)) for n in hosts])
        refused = [n for n, (_, error) in zip(hosts, results) if error]
        self.assertEqual(2, len(refused), results)
        for n in refused:
            self.assertIsInstance(results[n][1], exception.InvalidVolume)
            self.assertIn('ebs_max_attach_hosts=3', str(results[n][1]))
        winners = [n for n in hosts if n not in refused]
        self.assertEqual(
            sorted(self.instance(n)['InstanceId'] for n in winners),
            self._attached(volume))
        for n in winners:
            self.assertFalse(self.driver.terminate_connection(
                volume, self.connector(n)))
        self.assertEqual([], self._attached(volume))
        self.delete_volume(volume.id)
