"""AttachDisk / DetachDisk and the device paths of attached disks."""

import concurrent.futures
import os

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import exceptions as sdk_exceptions

from tests.unit.emulator import base


def instance(n):
    return 'i-emu%04d' % n


class AttachTest(base.SharedEmulatorTestCase):

    def _attach(self, disk_id, instance_id, **kw):
        return self.api.sdk.attach_disk(ecs_models.AttachDiskRequest(
            disk_id=disk_id, instance_id=instance_id, **kw))

    def _detach(self, disk_id, instance_id):
        return self.api.sdk.detach_disk(ecs_models.DetachDiskRequest(
            disk_id=disk_id, instance_id=instance_id))

    def test_attach_and_detach(self):
        disk_id = self.api.create_disk()
        path = self.api.device(disk_id, instance(1))
        self.assertFalse(os.path.lexists(path))
        self.api.attach(disk_id, instance(1))
        disk = self.api.wait_disk(disk_id, 'In_use')
        self.assertEqual(instance(1), disk['InstanceId'])
        attachment, = disk['Attachments']['Attachment']
        self.assertEqual(instance(1), attachment['InstanceId'])
        self.assertTrue(attachment['Device'].startswith('/dev/'))
        self.assertTrue(attachment['AttachedTime'])
        self.assertEqual([disk_id], [d['DiskId'] for d in self.api.disks(
            instance_id=instance(1))['Disks']['Disk']])
        # The disk appears on that instance, nowhere else.
        self.assertTrue(os.path.islink(path))
        target = os.path.realpath(path)
        if target.startswith('/dev/loop'):
            self.assertEqual(base.GIB, _block_size(target))
        else:
            self.assertEqual(os.path.realpath(self.api.disk_file(disk_id)),
                             target)
        self.assertFalse(os.path.lexists(self.api.device(disk_id,
                                                         instance(2))))
        self.api.detach(disk_id, instance(1))
        self.api.wait_disk(disk_id, 'Available')
        self.assertFalse(os.path.lexists(path))
        self.assertNotIn(os.path.realpath(self.api.disk_file(disk_id)),
                         _loop_backing_files().values())

    def test_data_written_on_one_instance_is_seen_on_another(self):
        disk_id = self.api.create_disk(multi_attach=True)
        self.api.attach(disk_id, instance(3))
        self.api.attach(disk_id, instance(4))
        self.api.write(disk_id, instance(3), 4096, b'shared record')
        self.assertEqual(b'shared record',
                         self.api.read(disk_id, instance(4), 4096, 13))

    def test_single_attach_rules(self):
        disk_id = self.api.create_disk()
        self.api.attach(disk_id, instance(5))
        self.assertEcsError('IncorrectDiskStatus', 403, self._attach,
                            disk_id, instance(6))
        self.assertEcsError('IncorrectDiskStatus', 403, self._attach,
                            disk_id, instance(5))
        self.assertEcsError('DependencyViolation', 403, self._detach,
                            disk_id, instance(6))
        self.assertEcsError('IncorrectDiskStatus', 403,
                            self.api.delete_disk, disk_id)
        self.assertEcsError('InvalidInstanceId.NotFound', 404, self._attach,
                            disk_id, 'i-nothere')
        self.assertEcsError('InvalidDiskId.NotFound', 404, self._attach,
                            'd-nothere', instance(5))
        self.assertEcsError('MissingParameter', 400, self._attach,
                            disk_id, None)
        self.api.detach(disk_id, instance(5))
        self.api.wait_disk(disk_id, 'Available')
        self.api.delete_disk(disk_id)

    def test_multi_attach_rules(self):
        disk_id = self.api.create_disk(multi_attach=True)
        self.assertEcsError('DeleteWithInstance.Conflict', 403, self._attach,
                            disk_id, instance(1), delete_with_instance=True)
        self.api.attach(disk_id, instance(1))
        self.assertEcsError('IncorrectDiskStatus', 403, self._attach,
                            disk_id, instance(1))
        self.api.attach(disk_id, instance(2))
        self.assertEqual([instance(1), instance(2)],
                         self.api.attached_instances(disk_id))
        disk = self.api.disk(disk_id)
        self.assertEqual(('In_use', ''),
                         (disk['Status'], disk['InstanceId']))
        # The disk stays In_use until the last instance leaves.
        self.api.detach(disk_id, instance(1))
        self.assertEqual('In_use', self.api.disk(disk_id)['Status'])
        self.assertTrue(os.path.islink(self.api.device(disk_id,
                                                       instance(2))))
        self.api.detach(disk_id, instance(2))
        self.api.wait_disk(disk_id, 'Available')

    def test_sixteen_parallel_attaches_then_the_seventeenth_fails(self):
        disk_id = self.api.create_disk(multi_attach=True)
        clients = [self.emu.sdk_client() for _ in range(17)]

        def attach(n):
            try:
                clients[n].attach_disk(ecs_models.AttachDiskRequest(
                    disk_id=disk_id, instance_id=instance(n)))
                return instance(n), None
            except sdk_exceptions.ClientException as e:
                return instance(n), (e.code, e.status_code)

        with concurrent.futures.ThreadPoolExecutor(17) as pool:
            results = list(pool.map(attach, range(17)))
        failures = [(inst, err) for inst, err in results if err]
        self.assertEqual(1, len(failures), results)
        self.assertEqual(('DiskAttachedNumberExceeded', 403), failures[0][1])
        winners = sorted(inst for inst, err in results if not err)
        self.assertEqual(16, len(winners))
        self.api.wait_for(lambda: self.api.attached_instances(disk_id),
                          lambda ids: ids == winners, '16 attachments')
        disk = self.api.wait_disk(disk_id, 'In_use')
        self.assertEqual(16, disk['MountInstanceNum'])
        devices = set()
        for inst in winners:
            path = self.api.device(disk_id, inst)
            self.assertTrue(os.path.islink(path), path)
            devices.add(os.path.realpath(path))
        loser = failures[0][0]
        self.assertFalse(os.path.lexists(self.api.device(disk_id, loser)))
        # A full disk still refuses a newcomer.
        self.assertEcsError('DiskAttachedNumberExceeded', 403, self._attach,
                            disk_id, instance(19))

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda inst: self._detach(disk_id, inst), winners))
        self.api.wait_disk(disk_id, 'Available')
        self.assertEqual([], self.api.attached_instances(disk_id))
        for inst in winners:
            self.assertFalse(os.path.lexists(self.api.device(disk_id, inst)))
        # Every loop device was freed (another process may reuse it).
        self.assertNotIn(os.path.realpath(self.api.disk_file(disk_id)),
                         _loop_backing_files().values())
        self.assertTrue(devices)

    def test_online_resize_refreshes_the_device(self):
        disk_id = self.api.create_disk(size=1, category='cloud_auto',
                                       level=None)
        self.api.attach(disk_id, instance(7))
        self.api.sdk.resize_disk(ecs_models.ResizeDiskRequest(
            disk_id=disk_id, new_size=3, type='online'))
        self.assertEqual(3, self.api.disk(disk_id)['Size'])
        target = os.path.realpath(self.api.device(disk_id, instance(7)))
        self.assertEqual(3 * base.GIB, _block_size(target))
        self.assertEcsError('IncorrectDiskStatus', 403,
                            self.api.sdk.resize_disk,
                            ecs_models.ResizeDiskRequest(
                                disk_id=disk_id, new_size=4,
                                type='offline'))
        # A multi-attach disk resizes online in the default reading of
        # multi-attach-online-resize (test_rules has both readings).
        multi = self.api.create_disk(multi_attach=True)
        self.api.attach(multi, instance(7))
        self.api.sdk.resize_disk(ecs_models.ResizeDiskRequest(
            disk_id=multi, new_size=2, type='online'))
        target = os.path.realpath(self.api.device(multi, instance(7)))
        self.assertEqual(2 * base.GIB, _block_size(target))


class ZoneTest(base.OwnEmulatorTestCase):

    def make_fixture(self, **kw):
        instances = [
            {'InstanceId': 'i-zonea', 'HostName': 'a',
             'SerialNumber': 'a', 'ZoneId': 'emu-zone-a'},
            {'InstanceId': 'i-zoneb', 'HostName': 'b',
             'SerialNumber': 'b', 'ZoneId': 'emu-zone-b'}]
        return super().make_fixture(instances=instances,
                                    use_loop_devices='no')

    def test_disk_and_instance_must_share_a_zone(self):
        disk_id = self.api.create_disk(multi_attach=True)
        self.assertEcsError(
            'ResourcesNotInSameZone', 403, self.api.sdk.attach_disk,
            ecs_models.AttachDiskRequest(disk_id=disk_id,
                                         instance_id='i-zoneb'))
        self.api.attach(disk_id, 'i-zonea')
        # A regional disk is not bound to one zone.
        regional = self.api.create_disk(
            size=20, category='cloud_regional_disk_auto', level=None,
            multi_attach=True)
        self.api.attach(regional, 'i-zoneb')
        self.api.attach(regional, 'i-zonea')
        # Disks may be created in any zone that has instances.
        self.api.create_disk(zone_id='emu-zone-b')


def _block_size(device):
    fd = os.open(device, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def _loop_backing_files():
    """{loop device: backing file} of the loop devices in use."""
    found = {}
    for name in os.listdir('/sys/block'):
        backing = os.path.join('/sys/block', name, 'loop', 'backing_file')
        try:
            with open(backing) as f:
                found['/dev/%s' % name] = f.read().strip()
        except OSError:
            pass
    return found


class ConcurrentAttachTest(base.SharedEmulatorTestCase):
    """Attachments in progress, with a transition long enough to see."""

    transition_delay = 2.0
    use_loop_devices = 'no'

    def _attach(self, disk_id, instance_id):
        return self.api.sdk.attach_disk(ecs_models.AttachDiskRequest(
            disk_id=disk_id, instance_id=instance_id))

    def _detach_all(self, disk_id, instances):
        for inst in instances:
            self.api.detach(disk_id, inst, wait=False)
        self.api.wait_disk(disk_id, 'Available')

    def test_instances_attach_concurrently_each_with_its_transition(self):
        disk_id = self.api.create_disk(multi_attach=True)
        self._attach(disk_id, instance(1))
        # The first attachment is in progress: another instance is not
        # refused, and neither is listed before its transition is done.
        self._attach(disk_id, instance(2))
        disk = self.api.disk(disk_id)
        self.assertEqual('Attaching', disk['Status'])
        self.assertEqual([], self.api.attached_instances(disk_id))
        # A repeated attach of an instance in progress is refused.
        self.assertEcsError('IncorrectDiskStatus', 403, self._attach,
                            disk_id, instance(1))
        self.api.wait_disk(disk_id, 'In_use')
        self.assertEqual([instance(1), instance(2)],
                         self.api.attached_instances(disk_id))
        # ... and so is one of an instance that has the disk.
        self.assertEcsError('IncorrectDiskStatus', 403, self._attach,
                            disk_id, instance(2))
        self._detach_all(disk_id, [instance(1), instance(2)])

    def test_attachments_in_progress_count_towards_the_limit(self):
        disk_id = self.api.create_disk(multi_attach=True)
        for n in range(16):
            self._attach(disk_id, instance(n))
        # None of the 16 is done yet, and the 17th is refused anyway.
        self.assertEqual('Attaching', self.api.disk(disk_id)['Status'])
        self.assertEcsError('DiskAttachedNumberExceeded', 403, self._attach,
                            disk_id, instance(16))
        self.api.wait_disk(disk_id, 'In_use')
        self.assertEqual(16, len(self.api.attached_instances(disk_id)))
        self._detach_all(disk_id, [instance(n) for n in range(16)])
