"""The guard as WSGI middleware, driven with webob requests."""

from unittest import mock

from cinder.api.middleware import auth as cinder_auth
from cinder import context as cinder_context
from cinder import exception
import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_serialization import jsonutils
from oslotest import base
import webob

from cinder_ebs_driver import api_guard
from cinder_ebs_driver.api_guard import filter as guard_filter
from cinder_ebs_driver.api_guard import rules

PROJECT = '6f70656e737461636b20342065766572'
VOL = 'c3a2f0e4-7b8e-4d6c-9a1f-0e8d7c6b5a49'
TYPE = '9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f'


@webob.dec.wsgify
def _downstream(request):
    """Stands for Cinder: echoes the body it received."""
    return webob.Response(status=202, body=request.body,
                          content_type='application/json', charset='utf-8')


class _FilterTestBase(base.BaseTestCase):
    """The guard over a downstream that echoes, with its rules mocked."""

    def setUp(self):
        super().setUp()
        self.app = api_guard.filter_factory({})(_downstream)
        self.context = self._context()
        self.checks = {}
        for name in ('check_volume_create', 'check_volume_manage',
                     'check_volume_action', 'check_attachment_create',
                     'check_encryption_create', 'check_extra_specs_create',
                     'check_extra_spec_update', 'check_retype_migration'):
            self.checks[name] = self.useFixture(fixtures.MockPatchObject(
                rules, name, return_value=None)).mock

    @staticmethod
    def _context(service_roles=None):
        return cinder_context.RequestContext(
            user_id='demo', project_id=PROJECT, roles=['member'],
            is_admin=False, service_roles=service_roles)

    def _request(self, method, path, body=None, version=None, context=True,
                 **kwargs):
        headers = kwargs.pop('headers', {})
        if version is not None:
            headers['OpenStack-API-Version'] = version
        request = webob.Request.blank('/' + PROJECT + path, method=method,
                                      headers=headers, **kwargs)
        if body is not None:
            request.body = jsonutils.dump_as_bytes(body)
            request.content_type = 'application/json'
        if context:
            request.environ['cinder.context'] = self.context
        return request.get_response(self.app)

    def _refuse(self, name, message='refused, see 3.50'):
        self.checks[name].return_value = message


class FilterTest(_FilterTestBase):

    def test_refusal_is_a_cinder_fault(self):
        self._refuse('check_volume_create')
        response = self._request('POST', '/volumes',
                                 {'volume': {'size': 1}}, 'volume 3.49')
        self.assertEqual(400, response.status_int)
        self.assertEqual('application/json', response.content_type)
        self.assertEqual({'badRequest': {'code': 400,
                                         'message': 'refused, see 3.50'}},
                         response.json_body)
        self.assertEqual('volume 3.49',
                         response.headers['OpenStack-API-Version'])

    def test_no_header_is_below_350(self):
        self._refuse('check_volume_create')
        response = self._request('POST', '/volumes', {'volume': {'size': 1}})
        self.assertEqual(400, response.status_int)
        self.assertEqual('volume 3.0',
                         response.headers['OpenStack-API-Version'])

    def test_350_and_later_skip_the_volume_rules(self):
        for name in ('check_volume_create', 'check_volume_manage',
                     'check_volume_action', 'check_attachment_create'):
            self._refuse(name)
        requests = [
            ('POST', '/volumes', {'volume': {'size': 1}}),
            ('POST', '/manageable_volumes', {'volume': {}}),
            ('POST', '/volumes/%s/action' % VOL,
             {'os-retype': {'new_type': 'x'}}),
            ('POST', '/attachments', {'attachment': {'volume_uuid': VOL}}),
        ]
        for version in ('volume 3.50', 'volume 3.71', 'volume latest'):
            for method, path, body in requests:
                response = self._request(method, path, body, version)
                self.assertEqual(202, response.status_int, path)
                self.assertEqual(body, response.json_body)
        for name, check in self.checks.items():
            if name != 'check_retype_migration':
                check.assert_not_called()

    def test_retype_migration_policy_at_every_version(self):
        self._refuse('check_retype_migration', 'use on-demand')
        body = {'os-retype': {'new_type': 'x'}}
        for version in ('volume 3.0', 'volume 3.50', 'volume latest'):
            response = self._request('POST', '/volumes/%s/action' % VOL,
                                     body, version)
            self.assertEqual(400, response.status_int, version)
            self.assertIn('use on-demand', response.text)
        # The 3.50 rule is asked first, below 3.50 only.
        self.assertEqual(1, self.checks['check_volume_action'].call_count)
        self.checks['check_retype_migration'].assert_called_with(
            self.context, VOL, {'new_type': 'x'})

    def test_body_still_reaches_cinder(self):
        body = {'volume': {'size': 1, 'name': 'x' * 100}}
        response = self._request('POST', '/volumes', body, 'volume 3.49')
        self.assertEqual(202, response.status_int)
        self.assertEqual(body, response.json_body)
        self.checks['check_volume_create'].assert_called_once_with(
            self.context, body, mock.ANY)

    def test_volume_actions_dispatch(self):
        self._refuse('check_volume_action')
        for action in ('os-retype', 'os-reserve', 'os-attach'):
            response = self._request('POST', '/volumes/%s/action' % VOL,
                                     {action: {}}, 'volume 3.49')
            self.assertEqual(400, response.status_int, action)
        self.checks['check_volume_action'].reset_mock()
        response = self._request('POST', '/volumes/%s/action' % VOL,
                                 {'os-extend': {'new_size': 3}},
                                 'volume 3.49')
        self.assertEqual(202, response.status_int)
        self.checks['check_volume_action'].assert_not_called()

    def test_attachments_below_327_left_to_cinder(self):
        self._refuse('check_attachment_create')
        response = self._request('POST', '/attachments',
                                 {'attachment': {'volume_uuid': VOL}},
                                 'volume 3.26')
        self.assertEqual(202, response.status_int)
        response = self._request('POST', '/attachments',
                                 {'attachment': {'volume_uuid': VOL}},
                                 'volume 3.44')
        self.assertEqual(400, response.status_int)

    def test_type_rules_apply_at_every_version(self):
        self._refuse('check_encryption_create', 'no encryption')
        self._refuse('check_extra_specs_create', 'no multiattach')
        self._refuse('check_extra_spec_update', 'no multiattach')
        for version in (None, 'volume 3.49', 'volume 3.50', 'volume latest'):
            response = self._request('POST', '/types/%s/encryption' % TYPE,
                                     {'encryption': {}}, version)
            self.assertEqual(400, response.status_int)
            response = self._request(
                'POST', '/types/%s/extra_specs' % TYPE,
                {'extra_specs': {'multiattach': '<is> True'}}, version)
            self.assertEqual(400, response.status_int)
            response = self._request(
                'PUT', '/types/%s/extra_specs/multiattach' % TYPE,
                {'multiattach': '<is> True'}, version)
            self.assertEqual(400, response.status_int)
        self.checks['check_extra_spec_update'].assert_called_with(
            self.context, TYPE, {'multiattach': '<is> True'})

    def test_malformed_version_left_to_cinder(self):
        self._refuse('check_volume_create')
        self._refuse('check_encryption_create')
        for version in ('volume 3.x', 'volume 9.0', 'compute 2.1', 'volume'):
            response = self._request('POST', '/volumes',
                                     {'volume': {'size': 1}}, version)
            self.assertEqual(202, response.status_int, version)
            response = self._request('POST', '/types/%s/encryption' % TYPE,
                                     {'encryption': {}}, version)
            self.assertEqual(202, response.status_int, version)
        for check in self.checks.values():
            check.assert_not_called()

    def test_lookup_failure_left_to_cinder(self):
        self.checks['check_volume_create'].side_effect = (
            exception.VolumeTypeNotFoundByName(volume_type_name='nope'))
        response = self._request('POST', '/volumes',
                                 {'volume': {'volume_type': 'nope'}},
                                 'volume 3.49')
        self.assertEqual(202, response.status_int)
        self.checks['check_volume_create'].side_effect = RuntimeError('db')
        response = self._request('POST', '/volumes',
                                 {'volume': {'volume_type': 'nope'}},
                                 'volume 3.49')
        self.assertEqual(202, response.status_int)

    def test_unreadable_bodies_left_to_cinder(self):
        self._refuse('check_volume_create')
        request = webob.Request.blank('/%s/volumes' % PROJECT, method='POST',
                                      body=b'{not json')
        request.environ['cinder.context'] = self.context
        response = request.get_response(self.app)
        self.assertEqual(202, response.status_int)
        self.assertEqual(b'{not json', response.body)
        request = webob.Request.blank('/%s/volumes' % PROJECT, method='POST',
                                      body=b'{"volume": {}}',
                                      content_type='text/plain')
        request.environ['cinder.context'] = self.context
        self.assertEqual(202, request.get_response(self.app).status_int)
        request = webob.Request.blank('/%s/volumes' % PROJECT, method='POST')
        request.environ['cinder.context'] = self.context
        self.assertEqual(202, request.get_response(self.app).status_int)
        self.checks['check_volume_create'].assert_not_called()

    def test_no_context_left_to_cinder(self):
        self._refuse('check_volume_create')
        response = self._request('POST', '/volumes', {'volume': {}},
                                 'volume 3.49', context=False)
        self.assertEqual(202, response.status_int)

    def test_other_requests_untouched(self):
        for name in self.checks:
            self._refuse(name)
        for method, path in (('GET', '/volumes/detail'),
                             ('POST', '/snapshots'),
                             ('PUT', '/volumes/%s' % VOL),
                             ('DELETE', '/types/%s' % TYPE)):
            with mock.patch.object(guard_filter, 'read_json_body') as read:
                response = self._request(method, path, {'x': 1},
                                         'volume 3.0')
                read.assert_not_called()
            self.assertEqual(202, response.status_int)
        for check in self.checks.values():
            check.assert_not_called()

    def test_removed_option_is_ignored_with_a_warning(self):
        logger = self.useFixture(fixtures.FakeLogger(
            name='cinder_ebs_driver.api_guard'))
        for value in ('false', 'true'):
            self.app = api_guard.filter_factory(
                {}, guard_attachments=value)(_downstream)
            self.assertIn('guard_attachments option', logger.output)
            self._refuse('check_attachment_create')
            response = self._request('POST', '/attachments',
                                     {'attachment': {'volume_uuid': VOL}},
                                     'volume 3.44')
            self.assertEqual(400, response.status_int, value)
        logger = self.useFixture(fixtures.FakeLogger(
            name='cinder_ebs_driver.api_guard'))
        api_guard.filter_factory({})
        self.assertEqual('', logger.output)

    def test_without_project_in_path(self):
        self._refuse('check_volume_create')
        request = webob.Request.blank('/volumes', method='POST',
                                      json={'volume': {}})
        request.environ['cinder.context'] = self.context
        self.assertEqual(400, request.get_response(self.app).status_int)


class ServiceRequestTest(_FilterTestBase):
    """Requests of the compute service (a service token with its role)."""

    ATTACH_REQUESTS = (
        ('POST', '/attachments', {'attachment': {'volume_uuid': VOL}}),
        ('POST', '/volumes/%s/action' % VOL, {'os-reserve': None}),
        ('POST', '/volumes/%s/action' % VOL,
         {'os-attach': {'instance_uuid': VOL, 'mountpoint': '/dev/vdb'}}),
    )

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        for name in self.checks:
            self._refuse(name)

    def _as_service(self, roles=('service',)):
        self.context = self._context(service_roles=list(roles))

    def test_service_creates_attachments_at_any_version(self):
        self._as_service()
        for version in (None, 'volume 3.0', 'volume 3.27', 'volume 3.44',
                        'volume 3.49'):
            for method, path, body in self.ATTACH_REQUESTS:
                if path == '/attachments' and version in (None,
                                                          'volume 3.0'):
                    continue
                response = self._request(method, path, body, version)
                self.assertEqual(202, response.status_int, (path, version))
                self.assertEqual(body, response.json_body)
        self.checks['check_attachment_create'].assert_not_called()
        self.checks['check_volume_action'].assert_not_called()

    def test_end_user_still_refused(self):
        for roles in ((), ('reader',), ('admin', 'member')):
            self._as_service(roles)
            for method, path, body in self.ATTACH_REQUESTS:
                response = self._request(method, path, body, 'volume 3.44')
                self.assertEqual(400, response.status_int, (path, roles))

    def test_other_rules_apply_to_services(self):
        self._as_service()
        refused = (
            ('POST', '/volumes', {'volume': {'size': 1}}, 'volume 3.49'),
            ('POST', '/manageable_volumes', {'volume': {}}, 'volume 3.49'),
            ('POST', '/volumes/%s/action' % VOL,
             {'os-retype': {'new_type': 'x'}}, 'volume 3.44'),
            ('POST', '/types/%s/encryption' % TYPE, {'encryption': {}},
             'volume 3.71'),
            ('POST', '/types/%s/extra_specs' % TYPE,
             {'extra_specs': {'multiattach': '<is> True'}}, 'volume 3.71'),
            ('PUT', '/types/%s/extra_specs/multiattach' % TYPE,
             {'multiattach': '<is> True'}, None),
        )
        for method, path, body, version in refused:
            response = self._request(method, path, body, version)
            self.assertEqual(400, response.status_int, path)

    def test_service_roles_come_from_cinders_configuration(self):
        # [keystone_authtoken] service_token_roles decides, as it does for
        # Cinder's own check on deleting connected attachments.
        self.conf.config(group='keystone_authtoken',
                         service_token_roles=['compute'])
        body = {'attachment': {'volume_uuid': VOL}}
        self._as_service(('service',))
        response = self._request('POST', '/attachments', body, 'volume 3.44')
        self.assertEqual(400, response.status_int)
        self._as_service(('compute', 'reader'))
        response = self._request('POST', '/attachments', body, 'volume 3.44')
        self.assertEqual(202, response.status_int)

    def test_service_roles_from_keystone_headers(self):
        # The roles keystonemiddleware puts in the request for a validated
        # service token reach the guard through Cinder's keystone context.
        app = cinder_auth.CinderKeystoneContext(self.app)
        # Cinder's policy (is the user an admin?) is not under test here.
        self.useFixture(fixtures.MockPatch(
            'cinder.policy.check_is_admin', return_value=False))
        body = {'attachment': {'volume_uuid': VOL}}
        headers = {'X-User-Id': 'demo', 'X-Project-Id': PROJECT,
                   'X-Roles': 'member'}
        for service_roles, status in ((None, 400), ('service', 202),
                                      ('reader', 400),
                                      ('reader,service', 202)):
            request_headers = dict(headers)
            if service_roles is not None:
                request_headers['X-Service-Roles'] = service_roles
            request = webob.Request.blank(
                '/%s/attachments' % PROJECT, method='POST',
                headers=request_headers, json=body)
            request.headers['OpenStack-API-Version'] = 'volume 3.44'
            response = request.get_response(app)
            self.assertEqual(status, response.status_int, service_roles)
