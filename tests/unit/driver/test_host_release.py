"""Re-checks of hosts whose connection a termination kept."""

import datetime
from unittest import mock

from cinder import exception
from cinder import objects
from oslo_utils import timeutils

from cinder_ebs_driver import attachments
from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver import host_release
from tests.unit.driver import fakes

HOST = 'h1'
INSTANCE = 'i-1'


class TestHostReleaser(fakes.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.records = []
        self.sleeps = []
        self.started = []
        self.attacher = mock.Mock()
        self.releaser = host_release.HostReleaser(
            self.attacher, self.client, self.configuration,
            records=lambda volume_id: self.records,
            sleep=self._sleep, start=self.started.append)
        self.volume_obj = self.volume()
        patcher = mock.patch('cinder.coordination.COORDINATOR.get_lock')
        self.locks = patcher.start()
        self.addCleanup(patcher.stop)

    def _sleep(self, seconds):
        self.sleeps.append(seconds)
        return False

    def _reservation(self, age_seconds):
        record = self.attachment(None, status='reserved',
                                 with_connector=False,
                                 attachment_id=fakes.uuid(9))
        record.created_at = (timeutils.utcnow(with_timezone=True)
                             - datetime.timedelta(seconds=age_seconds))
        return record

    def _run_scheduled(self):
        self.releaser.schedule(self.volume_obj, HOST, fakes.DISK_ID,
                               INSTANCE)
        self.assertEqual(1, len(self.started))
        self.started.pop()()

    def test_kept_while_an_attachment_holds_the_host(self):
        self.records = [self.attachment(HOST)]
        self._run_scheduled()
        self.assertEqual([host_release.FIRST_RECHECK], self.sleeps)
        self.client.get_disk.assert_not_called()
        self.attacher.detach.assert_not_called()
        # Under the lock of this volume on this host, then the volume's.
        self.assertEqual(['ebs-%s-host-%s' % (self.volume_obj.id, HOST),
                          'ebs-%s' % self.volume_obj.id],
                         [c.args[0] for c in self.locks.call_args_list])

    def test_detached_when_no_attachment_is_left(self):
        # Attachments elsewhere and released ones do not hold this host.
        self.records = [self.attachment('h2'),
                        self.attachment(HOST, status='detached')]
        self.client.get_disk.return_value = fakes.disk(
            instances=[INSTANCE, 'i-2'])
        self._run_scheduled()
        self.attacher.detach.assert_called_once_with(fakes.DISK_ID, INSTANCE)

    def test_nothing_sent_when_ecs_no_longer_lists_the_host(self):
        self.client.get_disk.return_value = fakes.disk(instances=['i-2'])
        self.assertEqual('not-attached', self.releaser.release_if_unused(
            self.volume_obj.id, HOST, fakes.DISK_ID, INSTANCE))
        self.client.get_disk.side_effect = ebs_exc.EBSNotFound(
            action='DescribeDisks', code='InvalidDiskId.NotFound')
        self.assertEqual('not-attached', self.releaser.release_if_unused(
            self.volume_obj.id, HOST, fakes.DISK_ID, INSTANCE))
        self.attacher.detach.assert_not_called()

    def test_waits_for_a_recent_reservation_without_a_host(self):
        # It may be an attach to this host whose connector Cinder records
        # only after initialize_connection returned.
        self.records = [self._reservation(age_seconds=5)]
        self.client.get_disk.return_value = fakes.disk(instances=[INSTANCE])
        verdicts = []

        def attach_recorded(seconds):
            self.sleeps.append(seconds)
            if len(self.sleeps) == 3:
                self.records = [self.attachment(HOST)]
            return False

        self.releaser._sleep = attach_recorded
        real = self.releaser.release_if_unused

        def recorded(*args):
            verdicts.append(real(*args))
            return verdicts[-1]

        self.releaser.release_if_unused = recorded
        self._run_scheduled()
        self.assertEqual(['in-flight', 'in-flight', 'kept'], verdicts)
        self.assertEqual([1.0, 2.0, 4.0], self.sleeps)
        self.attacher.detach.assert_not_called()

    def test_an_old_reservation_is_not_an_attach_in_flight(self):
        # Older than any attach may take (ebs_state_timeout and a margin).
        self.records = [self._reservation(age_seconds=3600)]
        self.client.get_disk.return_value = fakes.disk(instances=[INSTANCE])
        self.assertEqual('detached', self.releaser.release_if_unused(
            self.volume_obj.id, HOST, fakes.DISK_ID, INSTANCE))

    def test_gives_up_after_the_longest_attach(self):
        self.records = [self._reservation(age_seconds=0)]
        self.releaser._max_in_flight_age = 100
        self._run_scheduled()
        self.assertEqual([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0],
                         self.sleeps)
        self.attacher.detach.assert_not_called()

    def test_one_recheck_per_volume_and_host(self):
        for host in (HOST, HOST, 'h2'):
            self.releaser.schedule(self.volume_obj, host, fakes.DISK_ID,
                                   INSTANCE)
        self.assertEqual(2, len(self.started))
        self.records = [self.attachment(HOST)]
        self.started.pop(0)()
        # Done: the next termination that keeps the host schedules again.
        self.releaser.schedule(self.volume_obj, HOST, fakes.DISK_ID,
                               INSTANCE)
        self.assertEqual(2, len(self.started))

    def test_stopped_releaser_schedules_nothing_and_ends_waits(self):
        releaser = host_release.HostReleaser(
            self.attacher, self.client, self.configuration,
            records=lambda volume_id: self.records,
            start=self.started.append)
        releaser.schedule(self.volume_obj, HOST, fakes.DISK_ID, INSTANCE)
        host_release.stop_all()
        # The waiting re-check returns at once, without reading anything.
        self.started.pop()()
        self.client.get_disk.assert_not_called()
        releaser.schedule(self.volume_obj, HOST, fakes.DISK_ID, INSTANCE)
        self.assertEqual([], self.started)

    def test_a_stopping_service_is_logged_not_raised(self):
        self.locks.side_effect = exception.LockCreationFailed('down')
        with mock.patch.object(host_release.LOG, 'warning') as warning:
            self._run_scheduled()
        self.assertIn('the service is stopping', warning.call_args.args[0])


class TestTerminateSchedulesARecheck(fakes.DriverTestCase):

    def test_a_kept_connection_is_rechecked(self):
        self.flags_backend(ebs_host_instance_map={HOST: INSTANCE})
        volume = self.volume(attachments=[
            self.attachment(HOST, attachment_id=fakes.uuid(1)),
            self.attachment(HOST, attachment_id=fakes.uuid(2))])
        with mock.patch.object(host_release.HostReleaser,
                               'schedule') as schedule:
            self.assertTrue(self.driver.terminate_connection(
                volume, {'host': HOST}))
            schedule.assert_called_once_with(volume, HOST, fakes.DISK_ID,
                                             INSTANCE)
            # The last attachment on the host detaches it at once.
            volume.volume_attachment.objects.pop()
            self.assertFalse(self.driver.terminate_connection(
                volume, {'host': HOST}))
            self.assertEqual(1, schedule.call_count)
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID,
                                                        INSTANCE)

    def _terminate_with_records(self, records):
        """Terminate the volume object's only attachment on HOST.

        Cinder's records, read afresh, are ``records`` meanwhile.
        """
        self.flags_backend(ebs_host_instance_map={HOST: INSTANCE})
        volume = self.volume(attachments=[
            self.attachment(HOST, attachment_id=fakes.uuid(1))])
        self.driver._releaser._records = lambda volume_id: records
        with mock.patch.object(host_release.HostReleaser,
                               'schedule') as schedule:
            kept = self.driver.terminate_connection(volume, {'host': HOST})
        return kept, schedule

    def test_an_attach_recorded_since_keeps_the_host(self):
        # Another guest's attach to the host ended (no AttachDisk: the host
        # had the disk) after the volume's attachments were read.
        kept, schedule = self._terminate_with_records([
            self.attachment(HOST, attachment_id=fakes.uuid(1)),
            self.attachment(HOST, status='attaching',
                            attachment_id=fakes.uuid(2))])
        self.assertTrue(kept)
        self.assertEqual(1, schedule.call_count)
        self.client.detach_disk.assert_not_called()

    def test_an_attach_in_flight_keeps_the_host_for_now(self):
        # Its initialize_connection returned; Cinder has not recorded its
        # connector yet.
        reservation = self.attachment(None, status='reserved',
                                      with_connector=False,
                                      attachment_id=fakes.uuid(2))
        reservation.created_at = timeutils.utcnow(with_timezone=True)
        kept, schedule = self._terminate_with_records([
            self.attachment(HOST, attachment_id=fakes.uuid(1)), reservation])
        self.assertTrue(kept)
        self.assertEqual(1, schedule.call_count)
        self.client.detach_disk.assert_not_called()

    def test_the_last_attachment_detaches_at_once(self):
        kept, schedule = self._terminate_with_records([
            self.attachment(HOST, attachment_id=fakes.uuid(1)),
            self.attachment('h2', attachment_id=fakes.uuid(2))])
        self.assertFalse(kept)
        schedule.assert_not_called()
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID,
                                                        INSTANCE)


class TestAttachmentRecords(fakes.DriverTestCase):
    """The records read from Cinder's database, as the releaser uses them."""

    def test_records_of_the_volume_with_their_connectors(self):
        volume = objects.Volume(self.ctxt, size=1, status='in-use')
        volume.create()
        other = objects.Volume(self.ctxt, size=1, status='in-use')
        other.create()
        for volume_id, status, host in (
                (volume.id, 'attached', HOST),
                (volume.id, 'reserved', None),
                (volume.id, 'detached', 'h2'),
                (other.id, 'attached', 'h3')):
            objects.VolumeAttachment(
                self.ctxt, volume_id=volume_id, attach_status=status,
                attached_host=host,
                connector={'host': host} if host else None).create()

        records = host_release.attachment_records(volume.id)

        # Detached records are left out; the connector is a dict again.
        self.assertEqual([('attached', HOST), ('reserved', None)],
                         sorted((r['attach_status'],
                                 attachments.attachment_host(r))
                                for r in records))
        self.assertEqual({'host': HOST}, next(
            r['connector'] for r in records if r['connector']))
        self.assertTrue(all(r['created_at'] for r in records))
