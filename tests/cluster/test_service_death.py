"""A volume service killed in the middle of an attach, a detach, an extend.

Cinder's API, scheduler and two volume services of one cluster run as
processes of their own over RabbitMQ, MariaDB and etcd (one stack for
every case of the class: its start is most of the time). In each case
the emulator holds the answer of the ECS action (``AttachDisk``,
``DetachDisk``, ``ResizeDisk``) after doing it, the volume service that
sent it (found in the services' logs) gets SIGKILL while it waits, and
is restarted at once, as its init system would. Then what a caller
would do happens: the attach fails and the caller deletes the
reservation; the detach fails and the caller detaches again; the extend
stays ``extending`` until the operator runs ``ebs-cinder-reconcile
--repair``. The test waits until the backend and Cinder agree, prints
the time from the kill, attaches the volume to another host and reads
there the pattern written to the disk before.

The intervals are shortened for the test (``CONF_OVERRIDES``): the
figures measure the mechanism, not Cinder's defaults.
"""

import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import uuid

from cinderclient import exceptions as cinder_exc
import testtools

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.cinder import config as cinder_config
from ebs_allinone import cluster
from ebs_allinone.daemons import process
from ebs_allinone.scenarios import backend as backend_mod
from tests import cluster as cluster_tests

HOSTS = ('host-a', 'host-b', 'host-c')
SIZE = 20
GIB = 1024 ** 3
MIB = 1024 ** 2
MULTIATTACH = {'multiattach': '<is> True'}
TIMEOUT = 120
# How long the emulator holds the answer of the action the volume
# service is killed in (far longer than the kill takes).
HOLD = 30
# What a caller waits for a volume service's answer over RPC: the dead
# service's caller fails after that (a live service answers an attach
# in about a second).
RPC_RESPONSE_TIMEOUT = 15
# Seconds between two listings of the disks, each followed by a
# reconciliation (Cinder's default: 60).
STATS_INTERVAL = 4
CONF_OVERRIDES = {
    'DEFAULT': {
        'rpc_response_timeout': RPC_RESPONSE_TIMEOUT,
        'periodic_interval': 2,
        'periodic_fuzzy_delay': 0,
        'backend_stats_polling_interval': STATS_INTERVAL,
    },
    cinder_config.BACKEND: {
        'ebs_stats_min_interval': STATS_INTERVAL - 1,
    },
}
# Generous: the caller's RPC timeout, a lock lease of the dead service
# in etcd, a restart and a few listings, on a loaded machine.
REPAIR_BOUND = 150
# Once the restarted service has listed the disks (and reconciled).
READY_AGAIN = 'Driver post RPC initialization completed successfully'


def connector(host):
    return {'host': host, 'ip': '127.0.0.1', 'multipath': False,
            'initiator': 'iqn.2004-10.org.example:%s' % host}


def _read_from(path, offset):
    with open(path, 'rb') as f:
        f.seek(offset)
        return f.read().decode('utf-8', 'replace')


class ServiceDeathTest(testtools.TestCase):

    stack = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if os.geteuid() != 0:
            raise unittest.SkipTest('the all-in-one needs root')
        for binary in cluster_tests.SERVERS:
            if not shutil.which(binary):
                raise unittest.SkipTest('%s is not installed '
                                        '(tools/install-deps.sh)' % binary)
        stack = cluster.ClusterAllInOne(names=HOSTS,
                                        conf_overrides=CONF_OVERRIDES)
        try:
            stack.make_dir()
            stack.start_emulator()
            stack.start_cinder()
            cls.admin = stack.client(cinder_api.MULTIATTACH_VERSION)
            cls.service = stack.client(cinder_api.MULTIATTACH_VERSION,
                                       service=True)
            vtype = cls.admin.volume_types.create('multiattach')
            vtype.set_keys(MULTIATTACH)
            cls.multiattach_type = vtype.id
        except BaseException:
            stack.stop(keep_dir=True)
            raise
        cls.stack = stack
        cls.backend = backend_mod.Backend(stack.emulator)
        cls.hosts_of = {instance: host for host, instance
                        in stack.host_instances.items()}
        cls.figures = []
        cls.failed = False
        # Restarts run beside the test's checks, in this pool's one thread,
        # which lives as long as the class: a child process gets SIGTERM
        # when the thread that started it exits (PR_SET_PDEATHSIG follows
        # the thread), so a service restarted from a test's own pool would
        # stop when that pool shuts down at the end of the test, while the
        # next test's first call is on its way to it.
        cls.restarts = concurrent.futures.ThreadPoolExecutor(1)

    @classmethod
    def tearDownClass(cls):
        try:
            cls._stop_stack()
        finally:
            if getattr(cls, 'restarts', None) is not None:
                cls.restarts.shutdown()
        super().tearDownClass()

    @classmethod
    def _stop_stack(cls):
        stack, cls.stack = cls.stack, None
        if stack is not None:
            state = stack.emulator.state()['service']
            pids = list(stack.pids.values())
            # The services' logs stay after a failure.
            left = stack.stop(keep_dir=cls.failed)
            gone = [pid for pid in pids if not process.wait_gone(pid, 15)]
            if left or gone:
                raise AssertionError('left after the stop: %s %s'
                                     % (left, gone))
            if (state['disks'], state['attachments']) != (0, 0):
                raise AssertionError('left on the backend: %s' % state)

    def setUp(self):
        super().setUp()
        self.addOnException(self.keep_logs)
        self.pool = concurrent.futures.ThreadPoolExecutor(2)
        self.addCleanup(self.pool.shutdown)
        # Cases are independent: both volume services serve at the start.
        for name, service in self.stack.volume_services().items():
            if not service.running():
                self.restart(name)
        self.stack.emulator.admin('DELETE', 'faults')

    def keep_logs(self, exc_info):
        type(self).failed = True
        self.addDetail('run-directory', testtools.content.text_content(
            '%s (kept)' % self.stack.dir))

    # -- volumes and attachments --------------------------------------
    def create(self, multiattach):
        """A volume with a known pattern on its disk; (volume, disk)."""
        kind = 'multi' if multiattach else 'single'
        volume = self.admin.volumes.create(
            SIZE, name='death-%s' % kind,
            volume_type=self.multiattach_type if multiattach else None)
        self.addCleanup(self.remove, volume.id)
        cinder_api.wait_for_status(self.admin.volumes, volume.id,
                                   ('available',), timeout=TIMEOUT)
        disk_id = self.backend.disk_of_volume(volume.id)['DiskId']
        self.write_pattern(disk_id)
        return volume.id, disk_id

    def remove(self, volume_id):
        for attachment in self.admin.attachments.list(
                search_opts={'volume_id': volume_id}):
            self.service.attachments.delete(attachment.id)
        cinder_api.wait_for_status(
            self.admin.volumes, volume_id, ('available', 'error'),
            timeout=TIMEOUT)
        self.admin.volumes.delete(volume_id)
        cinder_api.wait_for_deleted(self.admin.volumes, volume_id,
                                    timeout=TIMEOUT)
        self.assertIsNone(self.backend.disk_of_volume(volume_id))

    def attach(self, volume_id, host):
        """An attachment on ``host``, completed, as Nova makes it.

        Once, a volume service that had just been restarted answered an
        attach with "Coordinator uninitialized" (its lock backend not
        started yet, or stopped): not understood yet. The attach is then
        tried again once, as Nova's caller would, and the answer printed.
        """
        try:
            attachment = self.service.attachments.create(
                volume_id, connector(host), str(uuid.uuid4()))
        except cinder_exc.ClientException as error:
            if 'Coordinator uninitialized' not in str(error):
                raise
            print('attach to %s refused, tried again: %s' % (host, error))
            for leftover in self.service.attachments.list(
                    search_opts={'volume_id': volume_id}):
                if leftover.status != 'attached':
                    self.service.attachments.delete(leftover.id)
            time.sleep(2)
            attachment = self.service.attachments.create(
                volume_id, connector(host), str(uuid.uuid4()))
        self.service.attachments.complete(attachment['id'])
        return attachment

    # -- the disk's data ----------------------------------------------
    def disk_file(self, disk_id):
        return os.path.join(self.stack.emulator.state_dir, 'disks',
                            '%s.img' % disk_id)

    def write_pattern(self, disk_id):
        """1 MiB of random bytes at the start and at the end of the disk."""
        self.pattern = os.urandom(MIB)
        with open(self.disk_file(disk_id), 'r+b') as f:
            for offset in (0, SIZE * GIB - MIB):
                f.seek(offset)
                f.write(self.pattern)
            os.fsync(f.fileno())

    def assert_pattern(self, path):
        with open(path, 'rb') as f:
            for offset in (0, SIZE * GIB - MIB):
                f.seek(offset)
                self.assertTrue(f.read(MIB) == self.pattern,
                                'the data at %d of %s changed'
                                % (offset, path))

    def assert_data_untouched(self, disk_id, attachment):
        """The pattern, in the disk's store and on the host's device."""
        self.assert_pattern(self.disk_file(disk_id))
        self.assert_pattern(attachment['connection_info']['device_path'])

    # -- the backend and Cinder ---------------------------------------
    def backend_hosts(self, disk_id):
        disk = self.backend.client.get_disk(disk_id)
        return sorted(self.hosts_of[instance] for instance
                      in self.backend.attached_instances(disk))

    def agree(self, volume_id, disk_id, held):
        """Whether both show the volume attached to ``held``'s hosts only.

        :param held: {attachment id: host} of the attachments the volume
            must have.
        """
        volume = self.admin.volumes.get(volume_id)
        records = {a.id: a.status for a in self.admin.attachments.list(
            search_opts={'volume_id': volume_id})}
        status = 'in-use' if held else 'available'
        return (volume.status == status and
                records == {a: 'attached' for a in held} and
                self.backend_hosts(disk_id) == sorted(set(held.values())))

    def wait_agree(self, volume_id, disk_id, held, since):
        """Until they agree; the seconds from ``since``."""
        cinder_api.wait_for(
            lambda: self.agree(volume_id, disk_id, held),
            'Cinder and the backend agree on volume %s' % volume_id,
            timeout=REPAIR_BOUND, interval=0.25)
        return time.monotonic() - since

    # -- the operator's command ---------------------------------------
    def reconcile_command(self, *args):
        """``ebs-cinder-reconcile`` as an operator runs it on a node."""
        cluster_dir = self.stack.cluster_path()
        argv = [process.console_script('ebs-cinder-reconcile'),
                '--config-file', os.path.join(cluster_dir, 'cinder.conf'),
                '--config-file', os.path.join(
                    cluster_dir, '%s.conf' % sorted(
                        self.stack.volume_services())[0]),
                '--backend', cinder_config.BACKEND] + list(args)
        return subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT,
                              universal_newlines=True)

    def assert_nothing_to_repair(self):
        found = self.reconcile_command()
        self.assertEqual((0, '0 mismatches, 0 repaired, 0 left\n'),
                         (found.returncode, found.stdout),
                         found.stdout + found.stderr)

    # -- a volume service's death -------------------------------------
    def hold_answer(self, action):
        """The emulator does the next ``action`` but holds its answer."""
        self.stack.emulator.admin('POST', 'faults', {'rules': [{
            'kind': 'latency', 'phase': 'after', 'delay': HOLD,
            'actions': [action], 'count': 1}]})

    def log_offsets(self):
        return {name: process.log_size(service.log_path)
                for name, service in self.stack.volume_services().items()}

    def kill_sender(self, offsets, line):
        """SIGKILL to the volume service that logged ``line``; restart it.

        :returns: (its name, when it was killed).
        """
        pattern = re.compile(line)
        senders = [name for name, service
                   in sorted(self.stack.volume_services().items())
                   if pattern.search(_read_from(service.log_path,
                                                offsets[name]))]
        self.assertEqual(1, len(senders), 'which service sent it')
        victim = senders[0]
        self.stack.services[victim].kill()
        killed = time.monotonic()
        self.stack.emulator.admin('DELETE', 'faults')
        restarted = self.restarts.submit(self.restart, victim)
        self.addCleanup(restarted.result, TIMEOUT)
        return victim, killed, restarted

    def restart(self, name):
        service = self.stack.services[name]
        service.start()
        self.stack.pids.update(service.pids())
        cinder_api.wait_for(
            lambda: READY_AGAIN in _read_from(service.log_path,
                                              service.log_offset),
            '%s initialized again' % name, timeout=TIMEOUT, interval=0.25)

    def reconciled_by(self, disk_id, offsets):
        """The volume services that logged a reconciliation of the disk."""
        return [name for name, service
                in sorted(self.stack.volume_services().items())
                if 'Reconciled: disk %s ' % disk_id in _read_from(
                    service.log_path, offsets[name])]

    def report(self, case, figures):
        line = '%s: %s' % (case, ', '.join(
            '%s %.1f s' % item for item in figures))
        self.figures.append(line)
        self.addDetail('time-to-repair', testtools.content.text_content(
            line))
        sys.stderr.write('\n%s\n' % line)
        for _what, seconds in figures:
            self.assertLess(seconds, REPAIR_BOUND, line)

    def wait_backend(self, disk_id, check, what):
        return cinder_api.wait_for(
            lambda: check(self.backend.client.get_disk(disk_id)), what,
            timeout=TIMEOUT, interval=0.05)

    # -- attach -------------------------------------------------------
    def check_attach(self, multiattach):
        volume_id, disk_id = self.create(multiattach)
        held = {}
        if multiattach:
            first = self.attach(volume_id, 'host-a')
            held[first['id']] = 'host-a'
        target, elsewhere = (('host-b', 'host-c') if multiattach
                             else ('host-a', 'host-b'))
        instance = self.stack.host_instances[target]
        offsets = self.log_offsets()
        self.hold_answer('AttachDisk')
        attaching = self.pool.submit(
            self.service.attachments.create, volume_id, connector(target),
            str(uuid.uuid4()))
        self.wait_backend(
            disk_id, lambda disk: instance in
            self.backend.attached_instances(disk), 'AttachDisk done')
        victim, killed, _restarted = self.kill_sender(
            offsets, r'Attaching disk %s of volume %s to instance %s\.' % (
                disk_id, volume_id, instance))

        # Killed before it answered: Cinder has the reservation only.
        (reserved,) = [a for a in self.admin.attachments.list(
            search_opts={'volume_id': volume_id}) if a.id not in held]
        self.assertEqual('reserved', reserved.status)
        self.assertIsInstance(attaching.exception(TIMEOUT),
                              cinder_exc.ClientException)
        failed = time.monotonic() - killed
        # What Nova does when the attach fails.
        self.service.attachments.delete(reserved.id)
        deleted = time.monotonic()
        repaired = self.wait_agree(volume_id, disk_id, held, killed)
        by = self.reconciled_by(disk_id, offsets)
        self.assertNotEqual([], by)
        self.report(
            'attaching (%s, killed %s, reconciled by %s)' % (
                'multi-attach' if multiattach else 'single-attach', victim,
                ' and '.join(by)),
            [('kill to the caller\'s error', failed),
             ('reservation deleted to repair', time.monotonic() - deleted),
             ('kill to repair', repaired)])

        other = self.attach(volume_id, elsewhere)
        held[other['id']] = elsewhere
        self.assertTrue(self.agree(volume_id, disk_id, held))
        self.assert_data_untouched(disk_id, other)
        self.assert_nothing_to_repair()

    def test_attach_single_attach(self):
        self.check_attach(multiattach=False)

    def test_attach_multi_attach(self):
        self.check_attach(multiattach=True)

    # -- detach -------------------------------------------------------
    def check_detach(self, multiattach):
        volume_id, disk_id = self.create(multiattach)
        held = {}
        for host in ('host-a', 'host-b') if multiattach else ('host-a',):
            attachment = self.attach(volume_id, host)
            held[attachment['id']] = host
        target = attachment['id']
        instance = self.stack.host_instances[held[target]]
        elsewhere = 'host-c' if multiattach else 'host-b'
        offsets = self.log_offsets()
        self.hold_answer('DetachDisk')
        detaching = self.pool.submit(self.service.attachments.delete,
                                     target)
        self.wait_backend(
            disk_id, lambda disk: instance not in
            self.backend.attached_instances(disk), 'DetachDisk done')
        victim, killed, _restarted = self.kill_sender(
            offsets, r'Detaching disk %s from instance %s\.' % (
                disk_id, instance))

        self.assertIsInstance(detaching.exception(TIMEOUT),
                              cinder_exc.ClientException)
        failed = time.monotonic() - killed
        # Cinder still has the attachment the backend no longer has: the
        # operator's check reports it.
        self.assertIn(target, [a.id for a in self.admin.attachments.list(
            search_opts={'volume_id': volume_id})])
        found = self.reconcile_command()
        self.assertEqual(1, found.returncode, found.stdout + found.stderr)
        self.assertRegex(found.stdout, r'found +record-without-attachment +'
                         r'volume %s disk %s: attachment %s ' % (
                             volume_id, disk_id, target))
        # The detach failed: the caller detaches again.
        retried = time.monotonic()
        self.service.attachments.delete(target)
        del held[target]
        repaired = self.wait_agree(volume_id, disk_id, held, killed)
        self.report(
            'detaching (%s, killed %s)' % (
                'multi-attach' if multiattach else 'single-attach', victim),
            [('kill to the caller\'s error', failed),
             ('detach again to repair', time.monotonic() - retried),
             ('kill to repair (a check included)', repaired)])

        other = self.attach(volume_id, elsewhere)
        held[other['id']] = elsewhere
        self.assertTrue(self.agree(volume_id, disk_id, held))
        self.assert_data_untouched(disk_id, other)
        self.assert_nothing_to_repair()

    def test_detach_single_attach(self):
        self.check_detach(multiattach=False)

    def test_detach_multi_attach(self):
        self.check_detach(multiattach=True)

    # -- extend -------------------------------------------------------
    def check_extend(self, multiattach):
        volume_id, disk_id = self.create(multiattach)
        new_size = SIZE + 1
        offsets = self.log_offsets()
        self.hold_answer('ResizeDisk')
        self.admin.volumes.extend(volume_id, new_size)
        self.wait_backend(disk_id, lambda disk: disk['Size'] == new_size,
                          'ResizeDisk done')
        victim, killed, restarted = self.kill_sender(
            offsets, r'Extending volume %s \(disk %s\) to %d GiB' % (
                volume_id, disk_id, new_size))

        # Neither the survivor nor the restarted service finishes it.
        restarted.result(TIMEOUT)
        volume = self.admin.volumes.get(volume_id)
        self.assertEqual(('extending', SIZE), (volume.status, volume.size))
        started = time.monotonic()
        found = self.reconcile_command()
        self.assertEqual(1, found.returncode, found.stdout + found.stderr)
        self.assertRegex(found.stdout, r'found +stuck-extending +volume %s '
                         % volume_id)
        repair = self.reconcile_command('--repair')
        self.assertEqual(0, repair.returncode, repair.stdout + repair.stderr)
        self.assertRegex(repair.stdout, r'repaired +stuck-extending +volume '
                         r'%s disk %s: ECS reports %d GiB, Cinder %d GiB' % (
                             volume_id, disk_id, new_size, SIZE))
        repaired = self.wait_agree(volume_id, disk_id, {}, killed)
        self.report(
            'extending (%s, killed %s)' % (
                'multi-attach' if multiattach else 'single-attach', victim),
            [('the check and the repair', time.monotonic() - started),
             ('kill (restart included) to repair', repaired)])
        self.assertEqual(new_size, self.admin.volumes.get(volume_id).size)
        # The project's usage counts the size the volume has now.
        usage = self.admin.quotas.get(cinder_config.PROJECT_ID, usage=True)
        self.assertEqual(new_size, usage.gigabytes['in_use'])
        self.assertEqual(new_size * GIB,
                         os.path.getsize(self.disk_file(disk_id)))

        other = self.attach(volume_id, 'host-b')
        self.assertTrue(self.agree(volume_id, disk_id,
                                   {other['id']: 'host-b'}))
        self.assert_data_untouched(disk_id, other)
        self.assert_nothing_to_repair()

    def test_extend_single_attach(self):
        self.check_extend(multiattach=False)

    def test_extend_multi_attach(self):
        self.check_extend(multiattach=True)
