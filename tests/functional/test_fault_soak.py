"""A fault soak: randomized workflows through Cinder, 10 % transient faults.

Every ECS call the driver makes may be answered by an injected fault:
an HTTP 500 before the action runs, a throttling answer, or a lost answer
after the action ran (the driver's retry must then be idempotent: a
ClientToken, or a check of the disk's state). The driver retries them,
so every workflow must complete, Cinder and the backend must agree after
each one, and nothing may be left on the backend at the end. The
workflows are drawn from a fixed seed (``EBS_SOAK_SEED``); their number is
``EBS_SOAK_WORKFLOWS`` (default 16). ``tox -e strict`` runs it under the
strict reading of every disputed ECS rule.
"""

import contextlib
import os
import random

from tests.functional import cinder_harness

MARK = b'soak-data-written-by-an-instance'
OFFSET = 1024 * 1024
FAULT_SEED = 2026


def _faults(seed):
    """About 10 % of the calls get a transient fault."""
    return [
        {'kind': 'error', 'code': 'InternalError', 'rate': 0.03,
         'seed': seed},
        {'kind': 'throttle', 'code': 'Throttling', 'rate': 0.04,
         'seed': seed + 1},
        {'kind': 'lost_response', 'rate': 0.03, 'seed': seed + 2},
    ]


class FaultSoakTest(cinder_harness.EBSFunctionalTestBase):
    """Workflows whose driver calls meet faults.

    The test's own reads and writes of the backend are made with the
    faults off: they are not retried.
    """

    def backend_flags(self):
        flags = super().backend_flags()
        # Three faults in a row on one call stay possible at 10 %; six
        # retries make a failed call a one-in-a-million event.
        flags['ebs_api_retries'] = 6
        flags['ebs_api_retry_interval'] = 0.01
        return flags

    def setUp(self):
        super().setUp()
        self.rng = random.Random(int(os.environ.get('EBS_SOAK_SEED', 7)))
        self.workflows = int(os.environ.get('EBS_SOAK_WORKFLOWS', 16))
        self.shared = self.create_type(multiattach=True)
        self.plain = self.create_type()
        self.fault_rounds = 0
        self.fired = 0

    @contextlib.contextmanager
    def faults(self):
        """Faults on while the body runs (each time with new seeds)."""
        self.fault_rounds += 1
        self.emulator.set_faults(_faults(FAULT_SEED + 10 * self.fault_rounds))
        try:
            yield
        finally:
            self.fired += sum(rule['fired']
                              for rule in self.emulator.get_faults())
            self.emulator.clear_faults()

    def _check_agreement(self, volume_id):
        """Cinder's attachments are the backend's, host for host."""
        volume = self.get_volume(volume_id)
        hosts = sorted({a['host_name'] for a in volume['attachments']})
        instances = sorted(self.instance(int(host.split('-')[1]))[
            'InstanceId'] for host in hosts)
        self.assertEqual(instances, self.disk_instances(
            self.volume_disk(volume_id)), volume)

    def _workflow(self, number):
        shared = self.rng.random() < 0.5
        vtype = self.shared if shared else self.plain
        with self.faults():
            volume = self.create_volume(size=1, volume_type=vtype['id'])
        created = [volume]
        snapshots = []
        if self.rng.random() < 0.5:
            self.write_disk(self.volume_disk(volume['id'])['DiskId'], MARK,
                            OFFSET)
        with self.faults():
            if self.rng.random() < 0.5:
                snapshot = self.create_snapshot(volume['id'])
                snapshots.append(snapshot)
                created.append(self.create_volume(
                    size=2, volume_type=vtype['id'],
                    snapshot_id=snapshot['id']))
            if self.rng.random() < 0.4:
                created.append(self.create_volume(
                    size=1, volume_type=vtype['id'],
                    source_volid=volume['id']))
            hosts = self.rng.sample(range(8), 3 if shared else 1)
            attachments = [self.create_attachment(volume['id'],
                                                  self.connector(host))
                           for host in hosts]
        self._check_agreement(volume['id'])
        with self.faults():
            if self.rng.random() < 0.5 and not shared:
                self.volume_action(volume['id'], 'os-extend',
                                   {'new_size': 2}, version='3.42')
                self.wait_volume(volume['id'], 'in-use',
                                 done=lambda v: v['status'] != 'extending')
            for attachment in attachments:
                self.delete_attachment(attachment['id'])
            self.wait_volume(volume['id'], 'available')
        self._check_agreement(volume['id'])
        with self.faults():
            for snapshot in snapshots:
                self.delete_snapshot(snapshot['id'])
            for vol in reversed(created):
                self.delete_volume(vol['id'])
                self.assertIsNone(self.get_volume(vol['id']),
                                  'workflow %d' % number)

    def test_workflows_under_transient_faults(self):
        for number in range(self.workflows):
            self._workflow(number)
        self.assertEqual([], self.backend_disks())
        self.assertEqual([], self.backend_snapshots())
        # The faults did happen.
        self.assertGreater(self.fired, self.workflows)
