"""Two zones and cinder-backup in the all-in-one, with real processes.

The stack of ``ebs-allinone serve --zones 2`` (the emulator and Cinder as
child processes; the cluster suite runs the same tests on the cluster
topology): volumes land in the availability zone asked for, on that
zone's backend and in its emulator zone; a cross-zone attach is refused
with the driver's clear error and nothing attached on the backend; a
retype to the other zone's backend migrates the data (Cinder's generic
copy attaches each disk to the volume service's instance of the disk's
own zone: each backend maps the service's connector itself); a backup
restored to a new volume holds the bytes written, also the backup of an
attached multi-attach volume.
"""

import os

from cinderclient import exceptions as cinder_exc
import testtools

from cinder_ebs_driver import naming
from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.daemons import process
from ebs_allinone.scenarios import backend as backend_mod
from ebs_allinone import stack as stack_mod
from ebs_allinone import zones as zones_mod

TIMEOUT = 300
SERVER = '55555555-5555-4555-8555-555555555555'
PL0 = {'ebs:performance_level': 'PL0'}
MULTIATTACH = dict(PL0, multiattach='<is> True')
# (offset, length) of the records written: the first block and one
# far into the disk.
RECORDS = ((0, 65536), (700 * 1024 * 1024, 4096))


def connector(host):
    return {'host': host, 'ip': '127.0.0.1', 'platform': 'x86_64',
            'os_type': 'linux', 'multipath': False,
            'initiator': 'iqn.2004-10.org.example:%s' % host}


class ZonesBackupTest(testtools.TestCase):
    """Runs on one stack per class (about 10 s to start)."""

    stack_class = stack_mod.AllInOne
    HOSTS = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = None
        if os.geteuid() != 0:
            return
        cls.stack = cls.stack_class(num_hosts=cls.HOSTS, zones=2)
        try:
            cls.stack.make_dir()
            cls.stack.start_emulator()
            cls.stack.start_cinder()
        except BaseException:
            cls.stack.stop(keep_dir=True)
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.stack is not None:
            pids = list(cls.stack.pids.values())
            left = cls.stack.stop()
            for pid in pids:
                process.wait_gone(pid, 15)
            assert not left, left
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self.stack is None:
            self.skipTest('the all-in-one needs root')
        self.admin = self.stack.client(cinder_api.MULTIATTACH_VERSION)
        self.service = self.stack.client(cinder_api.MULTIATTACH_VERSION,
                                         service=True)
        self.backend = backend_mod.Backend(self.stack.emulator)
        self.zone_a, self.zone_b = self.stack.zones
        # Deleted after everything else (a retyped volume holds another).
        self.types = []
        self.addCleanup(self.delete_types)

    # -- helpers ----------------------------------------------------------
    def volume_type(self, name, specs):
        vtype = self.admin.volume_types.create(name)
        self.types.append(vtype)
        vtype.set_keys(specs)
        return vtype

    def delete_types(self):
        for vtype in self.types:
            self.admin.volume_types.delete(vtype.id)

    def create_volume(self, vtype, zone, size=1):
        volume = self.admin.volumes.create(
            size, volume_type=vtype.id, availability_zone=zone,
            name='zones-%s' % zone)
        self.addCleanup(self.delete_volume, volume.id)
        return self.wait_volume(volume.id)

    def wait_volume(self, volume_id, status='available'):
        return cinder_api.wait_for_status(self.admin.volumes, volume_id,
                                          (status,), timeout=TIMEOUT)

    def delete_volume(self, volume_id):
        try:
            for att in self.service.attachments.list(
                    search_opts={'volume_id': volume_id}):
                self.service.attachments.delete(att.id)
            self.admin.volumes.delete(volume_id)
        except cinder_exc.NotFound:
            return
        cinder_api.wait_for_deleted(self.admin.volumes, volume_id,
                                    timeout=TIMEOUT)

    def attach(self, volume_id, host):
        attachment = self.admin.attachments.create(
            volume_id, connector(host), SERVER)
        self.admin.attachments.complete(attachment['id'])
        return attachment

    def detach(self, attachment, volume_id, status='available'):
        self.service.attachments.delete(attachment['id'])
        self.wait_volume(volume_id, status)

    def write_records(self, volume_id, host):
        """Write random records through ``host``; return them."""
        attachment = self.attach(volume_id, host)
        path = attachment['connection_info']['device_path']
        written = []
        fd = os.open(path, os.O_RDWR)
        try:
            for offset, length in RECORDS:
                data = os.urandom(length)
                self.assertEqual(length, os.pwrite(fd, data, offset))
                written.append(data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return attachment, written

    def read_records(self, volume_id, host):
        attachment = self.attach(volume_id, host)
        path = attachment['connection_info']['device_path']
        fd = os.open(path, os.O_RDONLY)
        try:
            found = [os.pread(fd, length, offset)
                     for offset, length in RECORDS]
        finally:
            os.close(fd)
        self.detach(attachment, volume_id)
        return found

    def host_of(self, zone):
        return self.stack.zone_hosts(zone)[0]

    def disk(self, volume_id):
        return self.backend.disk_of_volume(volume_id)

    def single_disk(self, volume_id):
        disks = self.backend.client.list_disks(
            tags={naming.VOLUME_TAG: volume_id})
        return disks[0] if len(disks) == 1 else None

    def backup(self, volume_id, force=False):
        backup = self.admin.backups.create(volume_id, name='zones-backup',
                                           force=force)
        self.addCleanup(self.delete_backup, backup.id)
        return cinder_api.wait_for_status(self.admin.backups, backup.id,
                                          ('available',), timeout=TIMEOUT)

    def delete_backup(self, backup_id):
        try:
            self.admin.backups.delete(backup_id)
        except cinder_exc.NotFound:
            return
        cinder_api.wait_for_deleted(self.admin.backups, backup_id,
                                    timeout=TIMEOUT)

    def restore(self, backup, vtype, zone):
        """Restore into a new volume of ``vtype`` in ``zone``.

        Created first: Cinder's own new volume would be of the default
        type (ESSD PL1, 20 GiB at least), larger than the backup.
        """
        target = self.create_volume(vtype, zone.availability_zone)
        self.admin.restores.restore(backup.id, volume_id=target.id)
        cinder_api.wait_for_status(self.admin.backups, backup.id,
                                   ('available',), timeout=TIMEOUT)
        return self.wait_volume(target.id)

    def create_from_backup(self, backup, vtype, zone):
        """A new volume from ``backup`` (microversion 3.47 and later)."""
        volume = self.admin.volumes.create(
            backup.size, volume_type=vtype.id, backup_id=backup.id,
            availability_zone=zone.availability_zone, name='zones-restored')
        self.addCleanup(self.delete_volume, volume.id)
        return self.wait_volume(volume.id)

    # -- tests ------------------------------------------------------------
    def test_volumes_land_in_the_zone_asked_for(self):
        listed = {az.zoneName for az in self.admin.availability_zones.list()
                  if az.zoneState.get('available')}
        self.assertEqual({'zone-a', 'zone-b'}, listed)
        pl0 = self.volume_type('zones-pl0', PL0)
        for zone in self.stack.zones:
            volume = self.create_volume(pl0, zone.availability_zone)
            self.assertEqual(zone.availability_zone,
                             volume.availability_zone)
            self.assertIn('@%s#' % zone.backend,
                          getattr(volume, 'os-vol-host-attr:host'))
            self.assertEqual(zone.emulator_zone,
                             self.disk(volume.id)['ZoneId'])
        # No zone asked for: the first one.
        volume = self.admin.volumes.create(1, volume_type=pl0.id)
        self.addCleanup(self.delete_volume, volume.id)
        volume = self.wait_volume(volume.id)
        self.assertEqual('zone-a', volume.availability_zone)

    def test_cross_zone_attach_refused_backend_unchanged(self):
        pl0 = self.volume_type('zones-refused', PL0)
        volume = self.create_volume(pl0, self.zone_b.availability_zone)
        other = self.host_of(self.zone_a)
        error = self.assertRaises(
            cinder_exc.ClientException, self.admin.attachments.create,
            volume.id, connector(other), SERVER)
        self.assertIn('is in zone %s; ECS attaches it only to instances of '
                      'that zone' % self.zone_b.emulator_zone, str(error))
        self.assertIn('ResourcesNotInSameZone', str(error))
        self.assertEqual([], self.backend.attached_instances(
            self.disk(volume.id)))
        # Cinder keeps the refused attachment reserved: delete it as Nova
        # would; then a host of the volume's zone attaches it.
        for att in self.service.attachments.list(
                search_opts={'volume_id': volume.id}):
            self.service.attachments.delete(att.id)
        self.wait_volume(volume.id)
        own = self.host_of(self.zone_b)
        attachment = self.attach(volume.id, own)
        self.assertEqual([self.stack.host_instances[own]],
                         self.backend.attached_instances(
                             self.disk(volume.id)))
        self.detach(attachment, volume.id)

    def test_retype_to_the_other_zone_migrates_the_data(self):
        pl0 = self.volume_type('zones-from', PL0)
        volume = self.create_volume(pl0, self.zone_a.availability_zone)
        attachment, written = self.write_records(volume.id,
                                                 self.host_of(self.zone_a))
        self.detach(attachment, volume.id)
        # Pinned to the other backend only: the scheduler keeps the volume
        # in its zone and finds no backend; the volume stays as it was.
        pinned = self.volume_type('zones-pinned', dict(
            PL0, volume_backend_name=self.zone_b.backend_name))
        self.admin.volumes.retype(volume.id, pinned.id, 'on-demand')
        volume = self.wait_volume(volume.id)
        self.assertEqual('zones-from', volume.volume_type)
        self.assertEqual('zone-a', volume.availability_zone)
        # The type names the zone too: Cinder migrates (generic copy).
        moving = self.volume_type('zones-to', dict(
            PL0, volume_backend_name=self.zone_b.backend_name,
            **{'RESKEY:availability_zones': self.zone_b.availability_zone}))
        self.admin.volumes.retype(volume.id, moving.id, 'on-demand')

        def moved():
            found = self.admin.volumes.get(volume.id)
            status = getattr(found, 'os-vol-mig-status-attr:migstat')
            self.assertNotEqual('error', status)
            return found.volume_type == 'zones-to' and (
                found.status == 'available')
        cinder_api.wait_for(moved, 'the retype', TIMEOUT)
        volume = self.admin.volumes.get(volume.id)
        self.assertEqual('zone-b', volume.availability_zone)
        self.assertIn('@%s#' % self.zone_b.backend,
                      getattr(volume, 'os-vol-host-attr:host'))
        # The old disk, tagged with the volume too, goes with the
        # temporary volume record that took it over.
        disk = cinder_api.wait_for(
            lambda: self.single_disk(volume.id), 'the old disk deleted',
            TIMEOUT)
        self.assertEqual(self.zone_b.emulator_zone, disk['ZoneId'])
        # The copy attached each disk to an instance of its zone and
        # detached both.
        self.assertEqual([], self.backend.attached_instances(disk))
        self.assertEqual(written, self.read_records(
            volume.id, self.host_of(self.zone_b)))

    def test_backup_and_restore_hold_the_bytes(self):
        pl0 = self.volume_type('zones-backup', PL0)
        volume = self.create_volume(pl0, self.zone_b.availability_zone)
        attachment, written = self.write_records(volume.id,
                                                 self.host_of(self.zone_b))
        self.detach(attachment, volume.id)
        backup = self.backup(volume.id)
        self.assertEqual(volume.id, backup.volume_id)
        self.assertEqual([], self.backend.attached_instances(
            self.disk(volume.id)))
        # Into a new volume of each zone: the backup service of zone-b
        # attaches it through that volume's backend.
        for zone in self.stack.zones:
            restored = self.restore(backup, pl0, zone)
            self.assertEqual(zone.emulator_zone,
                             self.disk(restored.id)['ZoneId'])
            self.assertEqual(written, self.read_records(
                restored.id, self.host_of(zone)))

    def test_backup_of_an_attached_multiattach_volume(self):
        shared = self.volume_type('zones-shared', MULTIATTACH)
        volume = self.create_volume(shared, self.zone_b.availability_zone)
        hosts = self.stack.zone_hosts(self.zone_b)
        attachment, written = self.write_records(volume.id, hosts[0])
        second = self.attach(volume.id, hosts[1])
        self.assertEqual(2, len(self.backend.attached_instances(
            self.disk(volume.id))))
        # In use: only with force (Cinder copies a temporary clone).
        self.assertRaises(cinder_exc.BadRequest, self.admin.backups.create,
                          volume.id)
        backup = self.backup(volume.id, force=True)
        self.assertEqual('in-use', self.admin.volumes.get(volume.id).status)
        self.detach(second, volume.id, 'in-use')
        self.detach(attachment, volume.id)
        restored = self.create_from_backup(backup, shared, self.zone_b)
        self.assertTrue(restored.multiattach)
        self.assertEqual(written, self.read_records(
            restored.id, self.host_of(self.zone_b)))


class ZoneMapTest(testtools.TestCase):
    """Each backend maps the volume services to its zone's instance."""

    def test_volume_host_per_backend(self):
        stack = stack_mod.AllInOne(num_hosts=4, zones=2)
        self.assertEqual(['host-a', 'host-b'], stack.zone_hosts())
        self.assertEqual(['host-c', 'host-d'],
                         stack.zone_hosts(stack.zones[1]))
        self.assertEqual('allinone-b', zones_mod.volume_instance_name(
            'allinone', stack.zones[1]))
