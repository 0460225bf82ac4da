"""Bad input and backend failures: clear errors, nothing left behind.

Every test ends with the harness's check that the emulator holds no disk
and no snapshot.
"""

from tests.functional import cinder_harness


class BadInputTestBase(cinder_harness.EBSFunctionalTestBase):

    def assert_error_with_message(self, volume, status='error'):
        """The volume is in error, with a user message, and has no disk."""
        volume = self.wait_volume(volume['id'], status)
        self.assertIsNone(self.volume_disk(volume['id']))
        self.assertEqual([], self.backend_disks())
        messages = self.user_messages(volume['id'])
        self.assertNotEqual([], messages, 'no user message for %s'
                            % volume['id'])
        self.assertEqual({'ERROR'}, {m['message_level'] for m in messages})
        return ' | '.join(m['user_message'] for m in messages)


class TestBadVolumeTypes(BadInputTestBase):

    def test_encrypted_multiattach_refused(self):
        vtype = self.create_type(multiattach=True)
        self.add_encryption(vtype['id'])
        status, body = self.api_call(
            'POST', '/volumes', {'volume': {'size': 1,
                                            'volume_type': vtype['id']}})
        self.assertEqual(400, status, body)
        self.assertIn('multiattach', str(body).lower().replace('-', ''))
        self.assertEqual([], self.backend_disks())

    def test_malformed_extra_specs(self):
        cases = [
            ({'ebs:performance_level': 'PL9'}, False),
            ({'ebs:category': 'cloud_foo'}, False),
            ({'ebs:category': 'cloud_efficiency'}, True),
            ({'ebs:category': 'cloud_auto',
              'ebs:performance_level': 'PL1'}, False),
            ({'ebs:performance_leve': 'PL1'}, False),
        ]
        for specs, multiattach in cases:
            vtype = self.create_type(extra_specs=specs,
                                     multiattach=multiattach)
            volume = self.create_volume(size=1, volume_type=vtype['id'],
                                        expect_status='error')
            # Cinder records the driver's failure, then (after trying to
            # reschedule on the only backend) the scheduler's.
            message = self.assert_error_with_message(volume)
            self.assertIn('Driver failed to create the volume', message,
                          specs)
            self.delete_volume(volume['id'])

    def test_too_small_for_performance_level(self):
        vtype = self.create_type(extra_specs={'ebs:performance_level': 'PL1'})
        volume = self.create_volume(size=1, volume_type=vtype['id'],
                                    expect_status='error')
        self.assert_error_with_message(volume)
        self.delete_volume(volume['id'])


class TestBadConnectors(BadInputTestBase):

    def _refused(self, volume, connector):
        status, body = self.create_attachment(volume['id'], connector,
                                              expect=None)
        self.assertGreaterEqual(status, 400, body)
        self.assertEqual([], self.disk_instances(
            self.volume_disk(volume['id'])))
        # Cinder keeps the unconnected attachment; delete it as Nova would.
        for attachment in self.get_attachments(volume['id']):
            self.assertNotEqual('attached', attachment['status'])
            self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        return body

    def test_connector_without_host(self):
        volume = self.create_volume(size=1)
        connector = self.connector(0)
        del connector['host']
        self._refused(volume, connector)
        self.delete_volume(volume['id'])

    def test_unmappable_host(self):
        volume = self.create_volume(size=1)
        self._refused(volume, {'host': 'no-such-host',
                               'system uuid': 'not-an-instance-serial',
                               'platform': 'x86_64', 'os_type': 'linux',
                               'multipath': False})
        # A host that is not mapped explicitly is found by its system uuid.
        attachment = self.create_attachment(volume['id'], self.connector(11))
        self.assertEqual(['i-emu0011'], self.disk_instances(
            self.volume_disk(volume['id'])))
        self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])


class TestBackendFaults(BadInputTestBase):

    def test_create_disk_always_fails(self):
        self.emulator.set_faults(kind='error', actions=['CreateDisk'])
        volume = self.create_volume(size=1, expect_status='error')
        self.assert_error_with_message(volume)
        self.emulator.clear_faults()
        self.delete_volume(volume['id'])

    def test_throttled_then_created(self):
        self.emulator.set_faults(kind='throttle',
                                 actions=['CreateDisk', 'DescribeDisks'],
                                 count=2)
        volume = self.create_volume(size=1)
        self.assertEqual(2, self.emulator.get_faults()[0]['fired'])
        self.assertEqual(1, len(self.backend_disks()))
        self.delete_volume(volume['id'])

    def test_lost_create_response_makes_one_disk(self):
        self.emulator.set_faults(kind='lost_response', actions=['CreateDisk'],
                                 count=1)
        volume = self.create_volume(size=1)
        self.assertEqual(1, self.emulator.get_faults()[0]['fired'])
        disks = self.backend_disks()
        self.assertEqual(['volume-%s' % volume['id']],
                         [d['DiskName'] for d in disks])
        self.delete_volume(volume['id'])
        self.assertEqual([], self.backend_disks())

    def test_lost_snapshot_response_makes_one_snapshot(self):
        volume = self.create_volume(size=1)
        self.attach_once(self.volume_disk(volume['id'])['DiskId'])
        self.emulator.set_faults(kind='lost_response',
                                 actions=['CreateSnapshot'], count=1)
        snapshot = self.create_snapshot(volume['id'])
        self.assertEqual(1, len(self.backend_snapshots()))
        self.delete_snapshot(snapshot['id'])
        self.delete_volume(volume['id'])

    def test_attach_fails_on_backend(self):
        volume = self.create_volume(size=1)
        self.emulator.set_faults(kind='error', actions=['AttachDisk'],
                                 code='InvalidOperation.Conflict',
                                 http_status=403)
        status, body = self.create_attachment(volume['id'], self.connector(0),
                                              expect=None)
        self.assertGreaterEqual(status, 400, body)
        self.emulator.clear_faults()
        self.assertEqual([], self.disk_instances(
            self.volume_disk(volume['id'])))
        for attachment in self.get_attachments(volume['id']):
            self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])


class TestFailedPolls(BadInputTestBase):
    """Reads of a change's progress fail after ECS accepted the change.

    Each read below is refused three times in a row (an HTTP 500, a
    throttling answer, a lost answer): more than one call's retries
    (``ebs_api_retries`` is 2 here). The attach or detach was accepted
    and ECS completes it, so the driver keeps reading until the state
    timeout instead of failing an operation that happened.
    """

    def _fail_next_reads(self):
        self.emulator.set_faults([
            {'kind': 'error', 'actions': ['DescribeDisks'], 'count': 1},
            {'kind': 'throttle', 'actions': ['DescribeDisks'], 'count': 1},
            {'kind': 'lost_response', 'actions': ['DescribeDisks'],
             'count': 1}])

    def _fired(self):
        return sum(rule['fired'] for rule in self.emulator.get_faults())

    def test_detach_completes(self):
        volume = self.create_volume(size=1)
        attachment = self.create_attachment(volume['id'], self.connector(0))
        self._fail_next_reads()
        self.delete_attachment(attachment['id'])
        self.assertEqual(3, self._fired())
        self.emulator.clear_faults()
        self.wait_volume(volume['id'], 'available')
        self.assertEqual([], self.get_attachments(volume['id']))
        self.assertEqual([], self.disk_instances(
            self.volume_disk(volume['id'])))
        self.delete_volume(volume['id'])

    def test_attach_completes(self):
        volume = self.create_volume(size=1)
        self._fail_next_reads()
        attachment = self.create_attachment(volume['id'], self.connector(0))
        self.assertEqual(3, self._fired())
        self.emulator.clear_faults()
        self.assertEqual(['attached'], [
            a['status'] for a in self.get_attachments(volume['id'])])
        self.assertEqual(['i-emu0000'], self.disk_instances(
            self.volume_disk(volume['id'])))
        self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])


class TestStateTimeout(BadInputTestBase):
    """The backend is slower than ``ebs_state_timeout``."""

    # Disks stay 'Creating' for 1.5 s; the driver waits 1 s. No reschedule:
    # every attempt would time out the same way.
    EMULATOR_KWARGS = {'transition_delay': 1.5}
    DRIVER_FLAGS = {'ebs_state_timeout': 1, 'scheduler_max_attempts': 1}

    def test_create_times_out_and_rolls_back(self):
        volume = self.create_volume(size=1, expect_status='error')
        # The rollback waited for the disk to leave 'Creating' (ECS refuses
        # to delete it before) and deleted it.
        message = self.assert_error_with_message(volume)
        self.assertIn('Driver failed to create the volume', message)
        self.delete_volume(volume['id'])


class TestRescheduledCreate(BadInputTestBase):
    """A create that failed after CreateDisk is rescheduled by Cinder."""

    def test_second_attempt_gets_a_new_disk(self):
        # DescribeDisks fails for every retry of the first attempt's wait,
        # so the driver deletes the new disk and Cinder reschedules onto
        # the same backend. The volume's ClientToken still answers the
        # deleted disk; the second attempt must create a new one.
        retries = self.backend_flags()['ebs_api_retries']
        self.emulator.set_faults(kind='error', actions=['DescribeDisks'],
                                 count=retries + 1)
        volume = self.create_volume(size=1)
        self.assertEqual(retries + 1, self.emulator.get_faults()[0]['fired'])
        disks = self.backend_disks()
        self.assertEqual(['volume-%s' % volume['id']],
                         [d['DiskName'] for d in disks])
        self.delete_volume(volume['id'])
