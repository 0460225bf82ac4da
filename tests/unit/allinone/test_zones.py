"""The zones of the all-in-one and the cinder.conf they give."""

import configparser
import json
import os
import socket

import fixtures
from oslo_config import cfg
from oslotest import base

from cinder_ebs_driver import options
from ebs_allinone.cinder import cluster_config
from ebs_allinone.cinder import config as cinder_config
from ebs_allinone import cluster
from ebs_allinone.daemons import process
from ebs_allinone import stack as stack_mod
from ebs_allinone import zones


class ZonesTest(base.BaseTestCase):

    def test_one_zone_is_the_one_backend_as_before(self):
        (zone,) = zones.zones(1)
        self.assertEqual((cinder_config.BACKEND, cinder_config.BACKEND_NAME,
                          'emu-zone-a', None),
                         (zone.backend, zone.backend_name,
                          zone.emulator_zone, zone.availability_zone))

    def test_two_zones(self):
        self.assertEqual(
            [('ebs-a', 'ebs-a', 'emu-zone-a', 'zone-a'),
             ('ebs-b', 'ebs-b', 'emu-zone-b', 'zone-b')],
            [(z.backend, z.backend_name, z.emulator_zone,
              z.availability_zone) for z in zones.zones(2)])

    def test_out_of_range(self):
        self.assertRaises(ValueError, zones.zones, 0)
        self.assertRaises(ValueError, zones.zones, zones.MAX_ZONES + 1)

    def test_a_second_backend_in_each_zone(self):
        found = zones.backends(zones.zones(2), 2)
        self.assertEqual(
            [('ebs-a', 'emu-zone-a', 'zone-a', 0),
             ('ebs-a2', 'emu-zone-a', 'zone-a', 0),
             ('ebs-b', 'emu-zone-b', 'zone-b', 1),
             ('ebs-b2', 'emu-zone-b', 'zone-b', 1)],
            [(z.backend, z.emulator_zone, z.availability_zone, z.index)
             for z in found])
        self.assertEqual([z.backend for z in found],
                         [z.backend_name for z in found])
        self.assertEqual(['ebs', 'ebs2'],
                         [z.backend for z in zones.backends(zones.zones(1),
                                                            2)])
        self.assertEqual(zones.zones(2), zones.backends(zones.zones(2)))
        self.assertRaises(ValueError, zones.backends, zones.zones(1), 0)
        self.assertRaises(ValueError, zones.backends, zones.zones(1),
                          zones.MAX_BACKENDS_PER_ZONE + 1)

    def test_hosts_spread_in_blocks(self):
        self.assertEqual({'a': 0, 'b': 0, 'c': 1, 'd': 1},
                         zones.spread(['a', 'b', 'c', 'd'], 2))
        self.assertEqual({'a': 0, 'b': 0, 'c': 1},
                         zones.spread(['a', 'b', 'c'], 2))


class TwoZoneConfTest(base.BaseTestCase):
    """cinder.conf of ``--zones 2``, read back as the driver reads it."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.stack = stack_mod.AllInOne(state_dir=self.tmp, num_hosts=4,
                                        zones=2)
        self.stack.make_dir()
        self.useFixture(fixtures.MonkeyPatch(
            'ebs_allinone.daemons.process.EmulatorProcess.start',
            lambda emulator, progress=None: None))
        self.stack.start_emulator()
        self.stack.emulator.endpoint = '127.0.0.1:18123'
        self.path = os.path.join(self.tmp, 'cinder.conf')
        cinder_config.write_cinder_conf(
            self.path, os.path.join(self.tmp, 'cinder'), self.stack.emulator,
            self.stack.host_instances, backends=self.stack.backends,
            backup=True)
        with open(self.stack.path('instances.json')) as f:
            self.instances = {i['HostName']: i for i in json.load(f)}

    def oslo(self, section):
        conf = cfg.ConfigOpts()
        conf.register_opts(options.ebs_opts, group=section)
        conf.register_opts([cfg.StrOpt('volume_backend_name'),
                            cfg.StrOpt('backend_availability_zone')],
                           group=section)
        conf.register_opts([cfg.ListOpt('enabled_backends'),
                            cfg.StrOpt('default_availability_zone'),
                            cfg.StrOpt('storage_availability_zone'),
                            cfg.StrOpt('backup_driver'),
                            cfg.StrOpt('backup_posix_path')])
        conf(['--config-file', self.path])
        return conf

    def test_a_backend_per_zone(self):
        conf = self.oslo('ebs-a')
        self.assertEqual(['ebs-a', 'ebs-b'], conf.enabled_backends)
        self.assertEqual('zone-a', conf.default_availability_zone)
        self.assertEqual('zone-a', conf.storage_availability_zone)
        for zone in self.stack.zones:
            section = self.oslo(zone.backend)[zone.backend]
            self.assertEqual(zone.backend_name, section.volume_backend_name)
            self.assertEqual(zone.emulator_zone, section.ebs_zone_id)
            self.assertEqual(zone.availability_zone,
                             section.backend_availability_zone)

    def test_each_backend_maps_the_volume_host_in_its_zone(self):
        for zone in self.stack.zones:
            mapping = self.oslo(zone.backend)[
                zone.backend].ebs_host_instance_map
            for host in (cinder_config.VOLUME_HOST, socket.gethostname()):
                instance = self.by_id(mapping[host])
                self.assertEqual(zone.emulator_zone, instance['ZoneId'])
            # Every compute host is found, whatever its zone: ECS refuses
            # the attach across zones, clearly.
            for name in self.stack.names:
                self.assertEqual(self.stack.host_instances[name],
                                 mapping[name])

    def test_compute_hosts_in_their_zone(self):
        for name, zone in self.stack.host_zones.items():
            self.assertEqual(zone.emulator_zone,
                             self.instances[name]['ZoneId'])
        self.assertEqual(['host-c', 'host-d'],
                         self.stack.zone_hosts(self.stack.zones[1]))

    def test_backups_under_the_state_directory(self):
        conf = self.oslo('ebs-a')
        self.assertEqual(cinder_config.POSIX_BACKUP_DRIVER,
                         conf.backup_driver)
        self.assertEqual(os.path.join(self.tmp, 'cinder', 'backups'),
                         conf.backup_posix_path)
        self.assertTrue(os.path.isdir(conf.backup_posix_path))

    def by_id(self, instance_id):
        (found,) = [i for i in self.instances.values()
                    if i['InstanceId'] == instance_id]
        return found


class OneZoneConfTest(base.BaseTestCase):

    def test_no_availability_zone_set(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        emulator = process.EmulatorProcess(
            os.path.join(tmp, 'emulator'), os.path.join(tmp, 'log'),
            ('KEY', 'secret'))
        emulator.endpoint = '127.0.0.1:18123'
        conf = cinder_config.cinder_conf(tmp, emulator, {'host-a': 'i-1'})
        self.assertEqual(cinder_config.BACKEND,
                         conf['DEFAULT']['enabled_backends'])
        self.assertNotIn('default_availability_zone', conf['DEFAULT'])
        self.assertNotIn('backend_availability_zone',
                         conf[cinder_config.BACKEND])
        self.assertNotIn('backup_driver', conf['DEFAULT'])


class ClusterBackupTest(base.BaseTestCase):

    def test_one_backup_service_per_zone(self):
        one = cluster.ClusterAllInOne(num_hosts=2)
        self.assertEqual([('cinder-backup', cluster_config.CONTROL_HOST)],
                         [(n, h) for n, h, _z in one.backup_services()])
        two = cluster.ClusterAllInOne(num_hosts=4, zones=2)
        self.assertEqual(
            [('cinder-backup-zone-a', 'cinder-control-zone-a', 'zone-a'),
             ('cinder-backup-zone-b', 'cinder-control-zone-b', 'zone-b')],
            [(n, h, z.availability_zone)
             for n, h, z in two.backup_services()])

    def test_service_file_sets_the_zone(self):
        conf = cluster_config.service_conf('h', availability_zone='zone-b')
        self.assertEqual('zone-b',
                         conf['DEFAULT']['storage_availability_zone'])
        self.assertIsInstance(conf, configparser.ConfigParser)


class TwoBackendsInOneZoneConfTest(base.BaseTestCase):
    """cinder.conf of ``--backends-per-zone 2 --performance-level PL0``."""

    def test_both_backends_in_the_zone_map_its_instances(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        stack = stack_mod.AllInOne(state_dir=tmp, num_hosts=2,
                                   backends_per_zone=2,
                                   performance_level='PL0')
        stack.make_dir()
        self.useFixture(fixtures.MonkeyPatch(
            'ebs_allinone.daemons.process.EmulatorProcess.start',
            lambda emulator, progress=None: None))
        stack.start_emulator()
        stack.emulator.endpoint = '127.0.0.1:18123'
        conf = cinder_config.cinder_conf(
            os.path.join(tmp, 'cinder'), stack.emulator,
            stack.host_instances, backends=stack.backends,
            performance_level=stack.performance_level)
        self.assertEqual('ebs,ebs2', conf['DEFAULT']['enabled_backends'])
        first, second = conf['ebs'], conf['ebs2']
        self.assertEqual(('ebs', 'ebs2'), (
            first['volume_backend_name'], second['volume_backend_name']))
        for option in ('ebs_zone_id', 'ebs_host_instance_map'):
            self.assertEqual(first[option], second[option])
        self.assertEqual(('PL0', 'PL0'),
                         (first['ebs_default_performance_level'],
                          second['ebs_default_performance_level']))
        conf = cinder_config.cinder_conf(
            os.path.join(tmp, 'cinder'), stack.emulator,
            stack.host_instances, backends=stack.backends)
        self.assertNotIn('ebs_default_performance_level', conf['ebs'])
