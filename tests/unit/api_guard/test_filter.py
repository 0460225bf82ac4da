"""The guard as WSGI middleware, driven with webob requests."""

from unittest import mock

from cinder import exception
import fixtures
from oslo_serialization import jsonutils
from oslotest import base
import webob

from cinder_ebs_driver import api_guard
from cinder_ebs_driver import api_guard_rules as rules

PROJECT = '6f70656e737461636b20342065766572'
VOL = 'c3a2f0e4-7b8e-4d6c-9a1f-0e8d7c6b5a49'
TYPE = '9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f'


@webob.dec.wsgify
def _downstream(request):
    """Stands for Cinder: echoes the body it received."""
    return webob.Response(status=202, body=request.body,
                          content_type='application/json', charset='utf-8')


class FilterTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.app = api_guard.filter_factory({})(_downstream)
        self.context = mock.Mock()
        self.checks = {}
        for name in ('check_volume_create', 'check_volume_manage',
                     'check_volume_action', 'check_attachment_create',
                     'check_encryption_create', 'check_extra_specs_create',
                     'check_extra_spec_update'):
            self.checks[name] = self.useFixture(fixtures.MockPatchObject(
                rules, name, return_value=None)).mock

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
        for check in self.checks.values():
            check.assert_not_called()

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
            with mock.patch.object(api_guard, 'read_json_body') as read:
                response = self._request(method, path, {'x': 1},
                                         'volume 3.0')
                read.assert_not_called()
            self.assertEqual(202, response.status_int)
        for check in self.checks.values():
            check.assert_not_called()

    def test_attachment_rule_can_be_turned_off(self):
        self.app = api_guard.filter_factory(
            {}, guard_attachments='false')(_downstream)
        for name in self.checks:
            self._refuse(name)
        response = self._request('POST', '/attachments',
                                 {'attachment': {'volume_uuid': VOL}},
                                 'volume 3.44')
        self.assertEqual(202, response.status_int)
        for action in ('os-reserve', 'os-attach'):
            response = self._request('POST', '/volumes/%s/action' % VOL,
                                     {action: {}}, 'volume 3.0')
            self.assertEqual(202, response.status_int)
        response = self._request('POST', '/volumes/%s/action' % VOL,
                                 {'os-retype': {'new_type': 'x'}},
                                 'volume 3.0')
        self.assertEqual(400, response.status_int)
        response = self._request('POST', '/volumes', {'volume': {}})
        self.assertEqual(400, response.status_int)
        self.checks['check_attachment_create'].assert_not_called()

    def test_bad_option_value(self):
        self.assertRaises(ValueError, api_guard.filter_factory, {},
                          guard_attachments='maybe')

    def test_without_project_in_path(self):
        self._refuse('check_volume_create')
        request = webob.Request.blank('/volumes', method='POST',
                                      json={'volume': {}})
        request.environ['cinder.context'] = self.context
        self.assertEqual(400, request.get_response(self.app).status_int)
