"""Multi-attach rules: counting attachments per host, attach / detach."""

from unittest import mock

from cinder import exception
import ddt
import fixtures

from cinder_ebs_driver import attachments
from cinder_ebs_driver import exception as ebs_exc
from tests.unit.driver import fakes


@ddt.ddt
class TestTerminateCounting(fakes.DriverTestCase):
    """terminate_connection keeps a host another attachment still needs.

    Rows: attachment records as (host, status, has connector), the host
    being detached, and what the records say of it while one attachment
    there is being terminated (None: nothing needs the disk there).
    """

    @ddt.unpack
    @ddt.data(
        # Only the attachment being deleted: detach.
        ([('h1', 'attached', True)], 'h1', None),
        # A second attachment on the same host keeps the connection.
        ([('h1', 'attached', True), ('h1', 'attached', True)], 'h1', 'kept'),
        # ... also when it is still attaching.
        ([('h1', 'attached', True), ('h1', 'attaching', True)], 'h1',
         'kept'),
        # ... or one whose detach failed.
        ([('h1', 'attached', True), ('h1', 'error_detaching', True)], 'h1',
         'kept'),
        # Attachments on other hosts do not count.
        ([('h1', 'attached', True), ('h2', 'attached', True),
          ('h3', 'attaching', True)], 'h1', None),
        # Detached attachments do not.
        ([('h1', 'attached', True), ('h1', 'detached', True)], 'h1', None),
        # A reservation without a host may be an attach to this one.
        ([('h1', 'attached', True), (None, 'reserved', False)], 'h1',
         'in-flight'),
        # The host is taken from attached_host when there is no connector.
        ([('h1', 'attached', True), ('h1', 'attached', False)], 'h1',
         'kept'),
        # No attachment at all (e.g. an image copy on the volume host).
        ([], 'h1', None),
    )
    def test_host_needed(self, rows, host, verdict):
        volume = self.volume(attachments=[
            self.attachment(h, status, with_connector=conn,
                            attachment_id=fakes.uuid(i))
            for i, (h, status, conn) in enumerate(rows)])
        self.assertEqual(verdict, self.driver._releaser.host_needed(
            volume.id, host, terminating=1))

    @ddt.unpack
    @ddt.data(
        ([('h1', 'attached'), ('h1', 'attached')], True, 0),
        ([('h1', 'attached'), ('h2', 'attached')], False, 1),
        ([('h1', 'attaching')], False, 1),
    )
    def test_terminate_connection(self, rows, expected, detaches):
        volume = self.volume(attachments=[
            self.attachment(h, status, attachment_id=fakes.uuid(i))
            for i, (h, status) in enumerate(rows)])
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1', 'h2': 'i-2'})
        self.client.get_disk.return_value = fakes.disk(
            instances=['i-1', 'i-2'])
        result = self.driver.terminate_connection(volume, {'host': 'h1'})
        self.assertIs(expected, result)
        self.assertEqual(detaches, self.client.detach_disk.call_count)
        if detaches:
            self.client.detach_disk.assert_called_once_with(fakes.DISK_ID,
                                                            'i-1')
            self.client.wait_for_attachment.assert_called_once_with(
                fakes.DISK_ID, 'i-1', attached=False)

    def test_terminate_connection_force_all_hosts(self):
        volume = self.volume(attachments=[self.attachment('h1')])
        self.client.get_disk.return_value = fakes.disk(
            instances=['i-1', 'i-2', 'i-3'])
        self.assertFalse(self.driver.terminate_connection(volume, None))
        self.assertEqual([mock.call(fakes.DISK_ID, i)
                          for i in ('i-1', 'i-2', 'i-3')],
                         self.client.detach_disk.call_args_list)

    def test_terminate_connection_not_attached_on_backend(self):
        volume = self.volume(attachments=[self.attachment('h1')])
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1'})
        self.client.detach_disk.side_effect = ebs_exc.EBSBackendError(
            code='DependencyViolation')
        self.client.get_disk.return_value = fakes.disk(instances=['i-2'])
        self.assertFalse(self.driver.terminate_connection(volume,
                                                          {'host': 'h1'}))
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')
        self.client.wait_for_attachment.assert_not_called()

    def test_terminate_connection_disk_gone(self):
        volume = self.volume()
        self.flags_backend(ebs_host_instance_map={'h1': 'i-1'})
        self.client.detach_disk.side_effect = ebs_exc.EBSNotFound(code='x')
        self.assertFalse(self.driver.terminate_connection(volume,
                                                          {'host': 'h1'}))
        self.client.wait_for_attachment.assert_not_called()
        self.client.detach_disk.reset_mock()
        # Detaching from every host reads the disk to know them.
        self.client.get_disk.side_effect = ebs_exc.EBSNotFound(code='x')
        self.assertFalse(self.driver.terminate_connection(volume, None))
        self.client.detach_disk.assert_not_called()


class TestAttacher(fakes.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.attacher = attachments.Attacher(self.client, self.configuration)
        self.vol = self.volume()

    def test_attach_sends_attach_disk_without_reading_first(self):
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-1')
        self.client.get_disk.assert_not_called()
        self.client.attach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')
        self.client.wait_for_attachment.assert_called_once_with(
            fakes.DISK_ID, 'i-1', attached=True)

    def test_already_attached_host_not_attached_twice(self):
        self.client.attach_disk.side_effect = ebs_exc.EBSIncorrectStatus(
            code='IncorrectDiskStatus')
        self.client.get_disk.return_value = fakes.disk(
            instances=['i-%d' % n for n in range(16)])
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-3')
        self.client.attach_disk.assert_called_once_with(fakes.DISK_ID, 'i-3')
        self.client.wait_for_attachment.assert_not_called()
        self.client.detach_disk.assert_not_called()

    def test_host_limit(self):
        # ECS's code says why: no read needed.
        self.client.attach_disk.side_effect = ebs_exc.EBSBackendError(
            code='DiskAttachedNumberExceeded')
        err = self.assertRaises(exception.InvalidVolume,
                                self.attacher.attach, self.vol,
                                fakes.DISK_ID, 'i-16')
        self.assertIn('16 hosts', str(err))
        self.assertIn('ebs_max_attach_hosts', str(err))
        self.client.get_disk.assert_not_called()
        self.client.wait_for_attachment.assert_not_called()
        self.client.detach_disk.assert_not_called()

    def test_repeated_attach_reads_once(self):
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-1')
        self.client.attach_disk.reset_mock()
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-1')
        self.client.get_disk.assert_called_once_with(fakes.DISK_ID)
        self.client.attach_disk.assert_not_called()

    def test_repeated_attach_after_a_detach_elsewhere_attaches(self):
        # What the attacher remembers is only where to look first.
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-1')
        self.client.get_disk.return_value = fakes.disk(instances=[])
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-1')
        self.assertEqual(2, self.client.attach_disk.call_count)
        self.assertEqual(2, self.client.wait_for_attachment.call_count)

    def test_attach_after_detach_sends_attach_disk_first(self):
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-1')
        self.attacher.detach(fakes.DISK_ID, 'i-1')
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-1')
        self.client.get_disk.assert_not_called()
        self.assertEqual(2, self.client.attach_disk.call_count)

    def test_maybe_attached_reads_first(self):
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-1',
                             maybe_attached=True)
        self.client.attach_disk.assert_not_called()

    def test_remembers_a_bounded_number(self):
        self.useFixture(fixtures.MockPatchObject(
            attachments, 'REMEMBERED_ATTACHMENTS', 2))
        for n in range(3):
            self.attacher.attach(self.vol, 'd-%d' % n, 'i-1')
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        self.client.attach_disk.reset_mock()
        self.attacher.attach(self.vol, 'd-0', 'i-1')
        # Forgotten: attached straight away again.
        self.client.attach_disk.assert_called_once_with('d-0', 'i-1')
        self.attacher.attach(self.vol, 'd-2', 'i-1')
        self.assertEqual(1, self.client.attach_disk.call_count)

    def test_refusal_for_another_reason_propagates(self):
        self.client.attach_disk.side_effect = ebs_exc.EBSBackendError(
            code='InstanceDiskLimitExceeded')
        self.client.get_disk.return_value = fakes.disk(instances=['i-0'])
        err = self.assertRaises(ebs_exc.EBSBackendError,
                                self.attacher.attach, self.vol,
                                fakes.DISK_ID, 'i-1')
        self.assertEqual('InstanceDiskLimitExceeded', err.code)
        self.client.detach_disk.assert_not_called()

    def test_host_limit_option(self):
        # Below ECS's own limit the count decides whether to send the
        # call: the disk is read first.
        self.flags_backend(ebs_max_attach_hosts=2)
        self.client.get_disk.return_value = fakes.disk(
            instances=['i-0', 'i-1'])
        self.assertRaises(exception.InvalidVolume, self.attacher.attach,
                          self.vol, fakes.DISK_ID, 'i-2')
        self.client.attach_disk.assert_not_called()
        self.client.get_disk.return_value = fakes.disk(instances=['i-0'])
        self.attacher.attach(self.vol, fakes.DISK_ID, 'i-2')
        self.client.attach_disk.assert_called_once_with(fakes.DISK_ID, 'i-2')

    def test_single_attach_disk_attached_elsewhere(self):
        self.client.attach_disk.side_effect = ebs_exc.EBSIncorrectStatus(
            code='IncorrectDiskStatus')
        self.client.get_disk.return_value = fakes.disk(
            instances=['i-0'], multiattach=False)
        err = self.assertRaises(exception.InvalidVolume,
                                self.attacher.attach, self.vol,
                                fakes.DISK_ID, 'i-1')
        self.assertIn('not a multi-attach disk', str(err))
        self.client.wait_for_attachment.assert_not_called()

    def test_instance_of_another_zone(self):
        self.client.attach_disk.side_effect = ebs_exc.EBSBackendError(
            code='ResourcesNotInSameZone', request_id='req-9',
            http_status=403)
        self.client.get_disk.return_value = fakes.disk(zone='zone-a')
        err = self.assertRaises(exception.InvalidVolume,
                                self.attacher.attach, self.vol,
                                fakes.DISK_ID, 'i-1')
        self.assertIn('is in zone zone-a', str(err))
        self.assertIn('request req-9', str(err))
        self.client.wait_for_attachment.assert_not_called()
        self.client.detach_disk.assert_not_called()

    def test_attach_timeout_detaches_again(self):
        self.client.get_disk.return_value = fakes.disk()
        self.client.wait_for_attachment.side_effect = [
            ebs_exc.EBSTimeout('attached', 'Attaching', 1), None]
        self.assertRaises(ebs_exc.EBSTimeout, self.attacher.attach,
                          self.vol, fakes.DISK_ID, 'i-1')
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')

    def test_attach_error_rollback_failure_keeps_first_error(self):
        # A call that got no answer in the end may have worked: rolled
        # back.
        self.client.attach_disk.side_effect = ebs_exc.EBSServerError(
            code='InternalError')
        self.client.detach_disk.side_effect = ebs_exc.EBSBackendError(
            code='Other')
        err = self.assertRaises(ebs_exc.EBSBackendError,
                                self.attacher.attach, self.vol,
                                fakes.DISK_ID, 'i-1')
        self.assertEqual('InternalError', err.code)
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')

    def test_detach_sends_detach_disk_without_reading_first(self):
        self.attacher.detach(fakes.DISK_ID, 'i-1')
        self.client.get_disk.assert_not_called()
        self.client.detach_disk.assert_called_once_with(fakes.DISK_ID, 'i-1')
        self.client.wait_for_attachment.assert_called_once_with(
            fakes.DISK_ID, 'i-1', attached=False)

    def test_detach_not_attached_is_noop(self):
        self.client.detach_disk.side_effect = ebs_exc.EBSBackendError(
            code='DependencyViolation')
        self.client.get_disk.return_value = fakes.disk(instances=['i-2'])
        self.attacher.detach(fakes.DISK_ID, 'i-1')
        self.client.wait_for_attachment.assert_not_called()

    def test_detach_refused_while_attached_propagates(self):
        self.client.detach_disk.side_effect = ebs_exc.EBSIncorrectStatus(
            code='IncorrectDiskStatus')
        self.client.get_disk.return_value = fakes.disk(instances=['i-1'])
        err = self.assertRaises(ebs_exc.EBSIncorrectStatus,
                                self.attacher.detach, fakes.DISK_ID, 'i-1')
        self.assertEqual('IncorrectDiskStatus', err.code)

    def test_detach_all(self):
        self.client.get_disk.return_value = fakes.disk(
            instances=['i-1', 'i-2'])
        self.assertEqual(['i-1', 'i-2'],
                         self.attacher.detach_all(fakes.DISK_ID))
        self.assertEqual(2, self.client.detach_disk.call_count)
