"""cinder.conf and api-paste.ini of the all-in-one, parsed for real.

cinder.conf is read back with configparser and with oslo.config (with the
driver's own options, as the driver registers them in its backend section);
api-paste.ini with configparser and with paste.deploy.
"""

import os
import stat

from cinder import context as cinder_context
import fixtures
from oslo_config import cfg
from oslotest import base
from paste.deploy import loadwsgi
import webob
import webob.dec

from cinder_ebs_driver import connection
from cinder_ebs_driver import options
from ebs_allinone.cinder import config as cinder_config
from ebs_allinone.cinder.filters import call_log
from ebs_allinone.cinder.filters import service_token
from ebs_allinone.daemons import process
from ebs_allinone import stack
from ebs_emulator import config as emulator_config
from ebs_emulator import devices

V3 = 'openstack_volume_api_v3'
KEYSTONE_PIPELINES = ('keystone', 'keystone_nolimit')


def read_ini(path):
    """``path`` read the way the all-in-one writes it (keys keep case)."""
    parser = cinder_config.new_parser()
    with open(path) as f:
        parser.read_file(f)
    return parser


class CinderConfTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.state_dir = os.path.join(self.tmp, 'cinder')
        # The emulator object as the stack makes it (not started: the
        # endpoint is what start() sets).
        self.emulator = process.EmulatorProcess(
            os.path.join(self.tmp, 'emulator'),
            os.path.join(self.tmp, 'emulator.log'),
            ('ALLINONEKEY', 'shh-secret'), port=18123)
        self.emulator.endpoint = '127.0.0.1:18123'
        self.names = stack.host_names(3)
        self.instances = stack.emulator_instances(
            self.names + [cinder_config.VOLUME_HOST],
            emulator_config.DEFAULT_ZONE)
        self.host_instances = {i['HostName']: i['InstanceId']
                               for i in self.instances}
        self.path = os.path.join(self.tmp, 'cinder.conf')
        cinder_config.write_cinder_conf(
            self.path, self.state_dir, self.emulator, self.host_instances,
            api_port=8776)

    def _oslo(self):
        conf = cfg.ConfigOpts()
        conf.register_opts(options.ebs_opts, group=cinder_config.BACKEND)
        conf.register_opts([
            cfg.StrOpt('volume_driver'),
            cfg.StrOpt('volume_backend_name'),
        ], group=cinder_config.BACKEND)
        conf.register_opts([
            cfg.StrOpt('host'),
            cfg.ListOpt('enabled_backends'),
            cfg.StrOpt('transport_url'),
            cfg.StrOpt('auth_strategy'),
            cfg.StrOpt('api_paste_config'),
            cfg.HostAddressOpt('osapi_volume_listen'),
            cfg.PortOpt('osapi_volume_listen_port'),
            cfg.IntOpt('osapi_volume_workers'),
            cfg.StrOpt('state_path'),
            cfg.BoolOpt('debug'),
            cfg.BoolOpt('use_stderr'),
        ])
        conf.register_opts([cfg.StrOpt('connection')], group='database')
        conf.register_opts([cfg.StrOpt('backend_url')],
                           group='coordination')
        conf.register_opts([cfg.StrOpt('lock_path')],
                           group='oslo_concurrency')
        conf(['--config-file', self.path], project='cinder',
             default_config_files=[])
        self.addCleanup(conf.reset)
        return conf

    def test_file_is_private(self):
        # It holds the access key secret.
        mode = stat.S_IMODE(os.stat(self.path).st_mode)
        self.assertEqual(0o600, mode)

    def test_sections(self):
        parser = read_ini(self.path)
        self.assertEqual(['database', 'coordination', 'oslo_concurrency'] +
                         list(cinder_config.privsep_sections()) + ['ebs'],
                         parser.sections())

    def test_privsep_helpers_started_directly_as_root(self):
        self.useFixture(fixtures.MonkeyPatch('os.geteuid', lambda: 0))
        sections = cinder_config.privsep_sections()
        self.assertEqual({'privsep_osbrick', 'cinder_sys_admin'},
                         set(sections))
        for section in sections.values():
            self.assertTrue(section['helper_command'].endswith(
                '/privsep-helper'))
        self.useFixture(fixtures.MonkeyPatch('os.geteuid', lambda: 1000))
        self.assertEqual({}, cinder_config.privsep_sections())

    def test_default_section(self):
        conf = self._oslo()
        self.assertEqual(cinder_config.VOLUME_HOST, conf.host)
        self.assertEqual([cinder_config.BACKEND], conf.enabled_backends)
        self.assertEqual('fake:/', conf.transport_url)
        self.assertEqual('noauth_include_project_id', conf.auth_strategy)
        self.assertEqual('127.0.0.1', conf.osapi_volume_listen)
        self.assertEqual(8776, conf.osapi_volume_listen_port)
        self.assertEqual(1, conf.osapi_volume_workers)
        self.assertEqual(self.state_dir, conf.state_path)
        self.assertEqual(os.path.join(self.state_dir, 'api-paste.ini'),
                         conf.api_paste_config)
        self.assertFalse(conf.debug)
        self.assertFalse(conf.use_stderr)

    def test_state_under_the_state_dir(self):
        conf = self._oslo()
        self.assertEqual(
            'sqlite:///' + os.path.join(self.state_dir, 'cinder.sqlite'),
            conf.database.connection)
        self.assertEqual(
            'file://' + os.path.join(self.state_dir, 'coordination'),
            conf.coordination.backend_url)
        self.assertEqual(os.path.join(self.state_dir, 'locks'),
                         conf.oslo_concurrency.lock_path)

    def test_access_key_credentials_by_default(self):
        ebs = self._oslo().ebs
        self.assertEqual('access_key', ebs.ebs_credential_type)
        self.assertEqual('ALLINONEKEY', ebs.ebs_access_key_id)
        self.assertIsNone(ebs.ebs_role_arn)

    def test_sts_credentials(self):
        cinder_config.write_cinder_conf(
            self.path, self.state_dir, self.emulator, self.host_instances,
            api_port=8776, credentials=cinder_config.STS)
        ebs = self._oslo().ebs
        self.assertEqual('ram_role_arn', ebs.ebs_credential_type)
        self.assertEqual(cinder_config.STS_ROLE_ARN, ebs.ebs_role_arn)
        self.assertEqual('http://127.0.0.1:18123', ebs.ebs_sts_endpoint)
        # The base identity that assumes the role.
        self.assertEqual('ALLINONEKEY', ebs.ebs_access_key_id)
        self.assertEqual('shh-secret', ebs.ebs_access_key_secret)

    def test_sts_short_tokens_in_the_emulator(self):
        sts_stack = stack.AllInOne(credentials=cinder_config.STS)
        self.assertEqual(['--sts-token-lifetime',
                          str(cinder_config.STS_TOKEN_LIFETIME)],
                         sts_stack._emulator_args())
        self.assertEqual([], stack.AllInOne()._emulator_args())

    def test_backend_section(self):
        ebs = self._oslo().ebs
        self.assertEqual('cinder_ebs_driver.driver.EBSVolumeDriver',
                         ebs.volume_driver)
        self.assertEqual(cinder_config.BACKEND_NAME, ebs.volume_backend_name)
        self.assertEqual('127.0.0.1:18123', ebs.ebs_endpoint)
        self.assertEqual('http', ebs.ebs_protocol)
        self.assertEqual(emulator_config.DEFAULT_REGION, ebs.ebs_region_id)
        self.assertEqual(emulator_config.DEFAULT_ZONE, ebs.ebs_zone_id)
        self.assertEqual('ALLINONEKEY', ebs.ebs_access_key_id)
        self.assertEqual('shh-secret', ebs.ebs_access_key_secret)

    def test_driver_class_is_importable(self):
        from cinder_ebs_driver import driver
        module, _dot, name = self._oslo().ebs.volume_driver.rpartition('.')
        self.assertEqual(driver.__name__, module)
        self.assertTrue(hasattr(driver, name))

    def test_host_map_covers_every_host_and_the_volume_host(self):
        mapping = self._oslo().ebs.ebs_host_instance_map
        self.assertEqual(self.host_instances, mapping)
        self.assertEqual(set(self.names) | {cinder_config.VOLUME_HOST},
                         set(mapping))
        self.assertEqual(len(mapping), len(set(mapping.values())))

    def test_host_map_with_the_most_hosts(self):
        names = stack.host_names(stack.MAX_HOSTS) + [
            cinder_config.VOLUME_HOST]
        host_instances = {i['HostName']: i['InstanceId'] for i in
                          stack.emulator_instances(
                              names, emulator_config.DEFAULT_ZONE)}
        cinder_config.write_cinder_conf(
            self.path, self.state_dir, self.emulator, host_instances)
        self.assertEqual(host_instances,
                         self._oslo().ebs.ebs_host_instance_map)

    def test_device_path_template_is_where_the_emulator_shows_disks(self):
        template = self._oslo().ebs.ebs_device_path_template
        disk_id = 'd-bp1abcdef0123456789'
        for name, instance_id in self.host_instances.items():
            self.assertEqual(
                devices.device_path(self.emulator.state_dir, instance_id,
                                    disk_id),
                connection.device_path(template, disk_id, instance_id, name))

    def test_pool_capacity_is_finite(self):
        ebs = self._oslo().ebs
        self.assertGreater(ebs.ebs_pool_capacity_gb, 0)

    def test_poll_and_retry_values_are_valid(self):
        ebs = self._oslo().ebs
        # oslo.config checks the options' bounds on access.
        self.assertGreater(ebs.ebs_state_poll_interval, 0)
        self.assertGreater(ebs.ebs_state_timeout, 0)
        self.assertGreaterEqual(ebs.ebs_api_retry_interval, 0)

    def test_given_paths_and_debug(self):
        paste = os.path.join(self.tmp, 'paste.ini')
        log = os.path.join(self.tmp, 'c.log')
        cinder_config.write_cinder_conf(
            self.path, self.state_dir, self.emulator, self.host_instances,
            paste_path=paste, log_path=log, debug=True)
        parser = read_ini(self.path)
        self.assertEqual(paste, parser['DEFAULT']['api_paste_config'])
        self.assertEqual(log, parser['DEFAULT']['log_file'])
        self.assertTrue(self._oslo().debug)

    def test_rewrite_replaces_the_file(self):
        cinder_config.write_cinder_conf(
            self.path, self.state_dir, self.emulator, {'host-a': 'i-1'})
        self.assertEqual({'host-a': 'i-1'},
                         self._oslo().ebs.ebs_host_instance_map)


@webob.dec.wsgify
def _roles(req):
    context = req.environ.get('cinder.context')
    return webob.Response(
        text=','.join(context.service_roles) if context else '-')


class ApiPasteTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.tmp, 'api-paste.ini')
        self.source = cinder_config.project_paste_ini()
        cinder_config.write_api_paste(self.path)
        self.paste = read_ini(self.path)
        self.original = read_ini(self.source)

    def _pipelines(self, parser):
        composite = parser['composite:' + V3]
        return {name: composite[name].split()
                for name in cinder_config.NOAUTH_PIPELINES +
                KEYSTONE_PIPELINES}

    def test_every_section_is_kept(self):
        self.assertEqual(
            set(self.original.sections()) |
            {'filter:' + cinder_config.SERVICE_TOKEN_FILTER},
            set(self.paste.sections()))
        for section in self.original.sections():
            if section == 'composite:' + V3:
                continue
            self.assertEqual(dict(self.original[section]),
                             dict(self.paste[section]), section)

    def test_service_token_only_in_noauth_pipelines(self):
        pipelines = self._pipelines(self.paste)
        original = self._pipelines(self.original)
        for name in cinder_config.NOAUTH_PIPELINES:
            filters = pipelines[name]
            self.assertEqual(
                1, filters.count(cinder_config.SERVICE_TOKEN_FILTER), name)
            token = filters.index(cinder_config.SERVICE_TOKEN_FILTER)
            self.assertEqual(name, filters[token - 1])
            self.assertLess(token, filters.index('ebs_api_guard'))
            self.assertEqual('apiv3', filters[-1])
            without = [f for f in filters
                       if f != cinder_config.SERVICE_TOKEN_FILTER]
            self.assertEqual(original[name], without)
        for name in KEYSTONE_PIPELINES:
            self.assertEqual(original[name], pipelines[name], name)
            self.assertNotIn(cinder_config.SERVICE_TOKEN_FILTER,
                             pipelines[name])

    def test_outer_filters_come_first_in_noauth_pipelines(self):
        path = os.path.join(self.tmp, 'with-log.ini')
        section = call_log.paste_section('/x/calls.jsonl')
        cinder_config.write_api_paste(
            path, outer_filters={call_log.FILTER_NAME: section})
        paste = read_ini(path)
        self.assertEqual(section,
                         dict(paste['filter:' + call_log.FILTER_NAME]))
        pipelines = self._pipelines(paste)
        for name in cinder_config.NOAUTH_PIPELINES:
            self.assertEqual([call_log.FILTER_NAME] +
                             self._pipelines(self.paste)[name],
                             pipelines[name])
        for name in KEYSTONE_PIPELINES:
            self.assertNotIn(call_log.FILTER_NAME, pipelines[name])

    def test_no_other_pipeline_has_the_filter(self):
        for section in self.paste.sections():
            if section == 'filter:' + cinder_config.SERVICE_TOKEN_FILTER:
                continue
            for key, value in self.paste[section].items():
                if section == 'composite:' + V3 and (
                        key in cinder_config.NOAUTH_PIPELINES):
                    continue
                self.assertNotIn(cinder_config.SERVICE_TOKEN_FILTER,
                                 value.split(), '%s %s' % (section, key))

    def test_idempotent(self):
        again = os.path.join(self.tmp, 'again.ini')
        cinder_config.write_api_paste(again, source=self.path)
        self.assertEqual(self._pipelines(self.paste),
                         self._pipelines(read_ini(again)))

    def test_paste_deploy_loads_the_pipelines(self):
        uri = 'config:' + self.path
        ctx = loadwsgi.loadcontext(loadwsgi.APP, uri, name=V3)
        pipelines = self._pipelines(self.paste)
        for name, filters in pipelines.items():
            self.assertEqual(' '.join(filters), ctx.local_conf[name])
        # Every filter of the noauth pipelines resolves to its factory.
        for name in cinder_config.NOAUTH_PIPELINES:
            for filter_name in pipelines[name][:-1]:
                filter_ctx = loadwsgi.loadcontext(loadwsgi.FILTER, uri,
                                                  name=filter_name)
                self.assertTrue(callable(filter_ctx.object), filter_name)
        app_ctx = loadwsgi.loadcontext(loadwsgi.APP, uri, name='apiv3')
        self.assertTrue(callable(app_ctx.object))
        # The root composite keeps its URL map ("/: apiversions" is
        # rewritten as "/ = apiversions").
        root = loadwsgi.loadcontext(loadwsgi.APP, uri, name='osapi_volume')
        self.assertEqual({'/': 'apiversions', '/healthcheck': 'healthcheck',
                          '/v3': V3}, root.local_conf)

    def test_loaded_filter_is_the_service_token_emulation(self):
        wrapped = loadwsgi.loadfilter(
            'config:' + self.path,
            name=cinder_config.SERVICE_TOKEN_FILTER)(_roles)
        self.assertIsInstance(wrapped, service_token.ServiceTokenEmulation)
        self.assertEqual(frozenset([cinder_config.SERVICE_USER]),
                         wrapped.service_users)

        def roles(user, headers=None):
            req = webob.Request.blank('/v3/x/volumes', headers=headers)
            req.environ['cinder.context'] = cinder_context.RequestContext(
                user_id=user, project_id=cinder_config.PROJECT_ID,
                is_admin=True)
            return req.get_response(wrapped).text

        self.assertEqual('service', roles(cinder_config.SERVICE_USER))
        self.assertEqual('', roles(cinder_config.USER_ID))
        self.assertEqual('service', roles(cinder_config.USER_ID,
                                          {'X-Service-Token': 't'}))

    def test_header_names_the_source(self):
        with open(self.path) as f:
            first = f.readline()
        self.assertIn(self.source, first)
        self.assertTrue(first.startswith('#'))
