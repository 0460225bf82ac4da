"""tempest.conf written from the facts the running services report."""

import configparser
import re

from oslotest import base

from tests.tempest import conf

ADMIN = {'username': 'admin', 'password': 'secret', 'project_name': 'admin',
         'user_domain_name': 'Default', 'project_domain_name': 'Default'}
# What serve --auth keystone reports: Keystone, the volume API as
# block-storage and the stand-in compute API.
CATALOG = {'identity': 'keystone', 'block-storage': 'cinderv3',
           'compute': 'nova'}


def facts(**changes):
    values = dict(
        auth_url='http://127.0.0.1:5000/v3', region='RegionOne',
        admin=ADMIN, catalog=dict(CATALOG), min_microversion='3.0',
        max_microversion='3.71', backends=['ebs'], vendor_name='Alibaba',
        storage_protocol='ebs',
        services=['cinder-scheduler', 'cinder-volume'],
        zones=['cn-hangzhou-i'])
    values.update(changes)
    return conf.Facts(**values)


def parse(text):
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


class RenderTest(base.BaseTestCase):

    def test_identity_and_admin_account(self):
        parsed = parse(conf.render(facts()))
        self.assertEqual('http://127.0.0.1:5000/v3',
                         parsed['identity']['uri_v3'])
        self.assertEqual('v3', parsed['identity']['auth_version'])
        self.assertEqual('admin', parsed['auth']['admin_username'])
        self.assertEqual('secret', parsed['auth']['admin_password'])
        self.assertEqual('admin', parsed['auth']['admin_project_name'])
        self.assertEqual('Default', parsed['auth']['admin_domain_name'])
        self.assertEqual('true', parsed['auth']['use_dynamic_credentials'])
        self.assertEqual('true', parsed['enforce_scope']['cinder'])

    def test_volume_section(self):
        volume = parse(conf.render(facts()))['volume']
        self.assertEqual('block-storage', volume['catalog_type'])
        self.assertEqual('3.0', volume['min_microversion'])
        self.assertEqual('3.71', volume['max_microversion'])
        # The default type makes ESSD PL1 disks: 20 GiB at least.
        self.assertEqual('20', volume['volume_size'])
        self.assertEqual('source-name,volume-%s',
                         volume['manage_volume_ref'])
        self.assertEqual('source-name,snapshot-%s',
                         volume['manage_snapshot_ref'])
        self.assertEqual('Alibaba', volume['vendor_name'])
        self.assertEqual('ebs', volume['storage_protocol'])
        self.assertEqual('ebs', volume['backend_names'])

    def test_volume_size_follows_the_default_type(self):
        # Backends creating PL0 disks by default (1 GiB) for the types
        # Tempest creates.
        for specs, size in (({}, '1'),
                            ({'ebs:performance_level': 'PL0'}, '1'),
                            ({'ebs:performance_level': 'PL2'}, '461'),
                            ({'ebs:category': 'cloud_auto'}, '1'),
                            ({'ebs:category': 'cloud_regional_disk_auto'},
                             '10')):
            parsed = parse(conf.render(facts(default_type_specs=specs,
                                             default_level='PL0')))
            self.assertEqual(size, parsed['volume']['volume_size'], specs)

    def test_volume_size_fits_the_types_tempest_creates(self):
        # A PL0 default type on backends whose default disk is a PL1:
        # Tempest's own types (no ebs: specs) need 20 GiB.
        parsed = parse(conf.render(facts(
            default_type_specs={'ebs:performance_level': 'PL0'})))
        self.assertEqual('20', parsed['volume']['volume_size'])
        parsed = parse(conf.render(facts(default_level='PL0')))
        self.assertEqual('1', parsed['volume']['volume_size'])

    def test_catalog_type_as_the_catalog_names_it(self):
        catalog = {'identity': 'keystone', 'volumev3': 'cinderv3'}
        parsed = parse(conf.render(facts(catalog=catalog)))
        self.assertEqual('volumev3', parsed['volume']['catalog_type'])
        self.assertRaises(ValueError, conf.render,
                          facts(catalog={'identity': 'keystone'}))

    def test_only_cinder_without_nova_glance_neutron(self):
        parsed = parse(conf.render(facts()))
        available = parsed['service_available']
        self.assertEqual('true', available['cinder'])
        # The stand-in compute API is in the catalog, but is not Nova.
        for name in ('nova', 'glance', 'neutron', 'swift', 'barbican'):
            self.assertEqual('false', available[name], name)
        features = parsed['volume-feature-enabled']
        for name in ('backup', 'multi_backend', 'extend_attached_volume',
                     'enable_volume_image_dep_tests'):
            self.assertEqual('false', features[name], name)
        for name in ('snapshot', 'clone', 'manage_volume', 'manage_snapshot',
                     'volume_revert'):
            self.assertEqual('true', features[name], name)
        self.assertFalse(parsed.has_section('image'))
        self.assertFalse(parsed.has_section('compute'))

    def test_backup_and_backends_when_running(self):
        parsed = parse(conf.render(facts(
            services=['cinder-backup', 'cinder-scheduler', 'cinder-volume'],
            backends=['ebs-b', 'ebs-a', 'ebs-a'],
            zones=['zone-a', 'zone-b'])))
        features = parsed['volume-feature-enabled']
        self.assertEqual('true', features['backup'])
        self.assertEqual('true', features['multi_backend'])
        self.assertEqual('ebs-a,ebs-b', parsed['volume']['backend_names'])

    def test_multi_backend_names_backends_of_one_zone(self):
        # Tempest's multi-backend volumes name no zone: they land in the
        # default one.
        parsed = parse(conf.render(facts(
            backends=['ebs-b', 'ebs-a', 'ebs-a2', 'ebs-b2'],
            backend_zones={'ebs-a': 'zone-a', 'ebs-a2': 'zone-a',
                           'ebs-b': 'zone-b', 'ebs-b2': 'zone-b'})))
        self.assertEqual('true',
                         parsed['volume-feature-enabled']['multi_backend'])
        self.assertEqual('ebs-a,ebs-a2', parsed['volume']['backend_names'])
        # One backend per zone: no two to choose between.
        parsed = parse(conf.render(facts(
            backends=['ebs-a', 'ebs-b'],
            backend_zones={'ebs-a': 'zone-a', 'ebs-b': 'zone-b'})))
        self.assertEqual('false',
                         parsed['volume-feature-enabled']['multi_backend'])
        self.assertEqual('ebs-a', parsed['volume']['backend_names'])
        # The zone with more backends.
        self.assertEqual(['ebs-b', 'ebs-b2'], conf.multi_backend_names(
            facts(backends=['ebs-a', 'ebs-b', 'ebs-b2'],
                  backend_zones={'ebs-a': 'zone-a', 'ebs-b': 'zone-b',
                                 'ebs-b2': 'zone-b'})))

    def test_image_service_when_in_the_catalog(self):
        catalog = dict(CATALOG, image='glance')
        parsed = parse(conf.render(facts(catalog=catalog,
                                         image_ref='an-image')))
        self.assertEqual('true', parsed['service_available']['glance'])
        self.assertEqual('image', parsed['image']['catalog_type'])
        self.assertEqual('an-image', parsed['compute']['image_ref'])
        self.assertEqual('true', parsed['volume-feature-enabled'][
            'enable_volume_image_dep_tests'])

    def test_nova_when_it_answers(self):
        parsed = parse(conf.render(facts(compute=True)))
        self.assertEqual('true', parsed['service_available']['nova'])
        self.assertEqual('true', parsed['volume-feature-enabled'][
            'extend_attached_volume'])


class ExcludesTest(base.BaseTestCase):

    @staticmethod
    def matcher(excluded, kind=None):
        return re.compile('|'.join(
            regex for found, regex, _why in excluded
            if kind in (None, found)))

    def test_image_client_classes_without_glance(self):
        excluded = conf.excludes(facts())
        regex = self.matcher(excluded, conf.UPSTREAM)
        self.assertTrue(regex.match(
            'tempest.api.volume.test_volumes_get.VolumesGetTest.'
            'test_volume_create_get_update_delete[id-27fb0e9f,smoke]'))
        self.assertTrue(regex.match(
            'tempest.api.volume.test_volumes_negative.VolumesNegativeTest.'
            'test_volume_get_nonexistent_volume_id[id-f131c586]'))
        self.assertFalse(regex.match(
            'tempest.api.volume.test_volumes_list.VolumesListTestJSON.'
            'test_volume_list[id-0b6ddd39]'))
        self.assertTrue(regex.match(
            'tempest.api.volume.test_volumes_extend.VolumesExtendTest.'
            'test_volume_extend[id-9a36df71-a257-43a5-9555-dc7c88e66e0e]'))
        self.assertFalse(regex.match(
            'tempest.api.volume.test_volumes_extend.VolumesExtendTest.'
            'test_volume_extend_when_volume_has_snapshot[id-86be1cba]'))
        self.assertIn('Glance', excluded[0][2])

    def test_with_glance_only_what_needs_nova_or_ebs_cannot_do(self):
        catalog = dict(CATALOG, image='glance')
        excluded = conf.excludes(facts(catalog=catalog))
        self.assertEqual([conf.UPSTREAM, conf.BACKEND],
                         [kind for kind, _regex, _why in excluded])
        regex = self.matcher(excluded)
        self.assertTrue(regex.match(
            'cinder_tempest_plugin.api.volume.test_volume_backup.'
            'VolumesBackupsTest.test_incremental_backup[id-c810fe2c]'))
        self.assertFalse(regex.match(
            'cinder_tempest_plugin.api.volume.test_volume_backup.'
            'VolumesBackupsTest.test_volume_snapshot_backup[id-885410c6]'))
        self.assertTrue(regex.match(
            'tempest.api.volume.admin.test_volume_retype.'
            'VolumeRetypeMultiattachTest.test_volume_retype_multiattach'
            '[id-c0521465]'))
        # With Nova the incremental backup can boot its server.
        excluded = conf.excludes(facts(catalog=catalog, compute=True))
        self.assertEqual([conf.BACKEND],
                         [kind for kind, _regex, _why in excluded])

    def test_multiattach_switch_follows_the_pools(self):
        for reported in (True, False):
            parsed = parse(conf.render(facts(multiattach=reported)))
            self.assertEqual(str(reported).lower(), parsed[
                'compute-feature-enabled']['volume_multiattach'])
