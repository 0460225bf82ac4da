"""The transition worker is woken by the requests that start a transition."""

import shutil
import tempfile
from unittest import mock

import testtools

from ebs_emulator import config
from ebs_emulator import exception
from ebs_emulator import service as service_mod


class WorkerWakeTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        state_dir = tempfile.mkdtemp(prefix='ebs-wake-')
        self.addCleanup(shutil.rmtree, state_dir, ignore_errors=True)
        self.service = service_mod.EmulatorService(
            state_dir, config.default_instances(1, config.DEFAULT_ZONE),
            zone_id=config.DEFAULT_ZONE, transition_delay=3600,
            use_loop_devices=False, use_fuse=False)
        self.addCleanup(self.service.close)
        patcher = mock.patch.object(self.service._worker, 'wake')
        self.wake = patcher.start()
        self.addCleanup(patcher.stop)

    def _call(self, action, **params):
        params.setdefault('RegionId', self.service.region_id)
        return self.service.call(action, params)

    def test_a_create_wakes_the_worker_and_reads_do_not(self):
        disk_id = self._call('CreateDisk', ZoneId=config.DEFAULT_ZONE,
                             Size='20', DiskCategory='cloud_essd')['DiskId']
        self.assertEqual(1, self.wake.call_count)
        self._call('DescribeDisks', DiskIds='["%s"]' % disk_id)
        self._call('DescribeInstances')
        self.assertEqual(1, self.wake.call_count)

    def test_a_refused_request_does_not_wake_it(self):
        self.assertRaises(exception.EcsError, self._call, 'AttachDisk',
                          DiskId='d-missing', InstanceId='i-missing')
        self.wake.assert_not_called()
