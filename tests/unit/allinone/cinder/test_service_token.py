"""The service token emulation filter, driven with webob requests.

Each request carries a real :class:`cinder.context.RequestContext`, as
Cinder's noauth filter leaves it in the environment; the application below
the filter records the context's service roles.
"""

from cinder import context as cinder_context
from keystonemiddleware.auth_token import _opts as authtoken_opts
from oslotest import base
import webob
import webob.dec

from ebs_allinone.cinder.filters import service_token

PROJECT = 'd313db2360d45ff6acbf48cf42ee9fe3'


class _Recorder(object):
    """Stands for Cinder's API: records what it was called with."""

    def __init__(self):
        self.calls = []

    @webob.dec.wsgify
    def __call__(self, req):
        context = req.environ.get('cinder.context')
        self.calls.append({
            'context': context,
            'service_roles': (None if context is None
                              else list(context.service_roles)),
            'headers': dict(req.headers),
            'body': req.body,
        })
        return webob.Response(status=202, body=b'{"ok": true}',
                              content_type='application/json')


class ServiceTokenFilterTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.app = _Recorder()

    def _filter(self, **local_config):
        factory = service_token.ServiceTokenEmulation.factory(
            {}, **local_config)
        return factory(self.app)

    def _call(self, wsgi, user_id='admin', headers=None, roles=None,
              with_context=True, method='GET', body=None):
        req = webob.Request.blank('/v3/%s/attachments' % PROJECT,
                                  method=method, headers=headers or {})
        if body is not None:
            req.body = body
        ctx = None
        if with_context:
            ctx = cinder_context.RequestContext(
                user_id=user_id, project_id=PROJECT,
                roles=roles or ['admin'], is_admin=True)
            req.environ['cinder.context'] = ctx
        response = req.get_response(wsgi)
        self.assertEqual(202, response.status_int)
        return ctx, self.app.calls[-1]

    def test_the_role_is_keystone_service_token_role(self):
        # Cinder's is_service_request() checks the context's service roles
        # against [keystone_authtoken] service_token_roles.
        default = [o.default for o in authtoken_opts._OPTS
                   if o.name == 'service_token_roles'][0]
        self.assertIn(service_token.SERVICE_ROLE, default)

    def test_service_token_header_gives_service_role(self):
        wsgi = self._filter(service_users='nova')
        ctx, call = self._call(wsgi, user_id='admin',
                               headers={'X-Service-Token': 'any-token'})
        self.assertEqual(['service'], call['service_roles'])
        self.assertIs(ctx, call['context'])
        # The user's own roles are untouched.
        self.assertEqual(['admin'], ctx.roles)

    def test_service_token_header_without_service_users(self):
        wsgi = self._filter()
        _ctx, call = self._call(wsgi, user_id='someone',
                                headers={'X-Service-Token': 'tok'})
        self.assertEqual(['service'], call['service_roles'])

    def test_empty_service_token_header_is_no_token(self):
        wsgi = self._filter(service_users='nova')
        _ctx, call = self._call(wsgi, user_id='admin',
                                headers={'X-Service-Token': ''})
        self.assertEqual([], call['service_roles'])

    def test_configured_service_user_gets_service_role(self):
        wsgi = self._filter(service_users='nova')
        _ctx, call = self._call(wsgi, user_id='nova')
        self.assertEqual(['service'], call['service_roles'])

    def test_several_service_users_comma_or_space_separated(self):
        wsgi = self._filter(service_users='nova, compute-a  compute-b,')
        for user in ('nova', 'compute-a', 'compute-b'):
            _ctx, call = self._call(wsgi, user_id=user)
            self.assertEqual(['service'], call['service_roles'], user)
        for user in ('admin', 'nova,', '', 'compute', 'Nova'):
            _ctx, call = self._call(wsgi, user_id=user)
            self.assertEqual([], call['service_roles'], user)

    def test_other_users_do_not_get_the_service_role(self):
        wsgi = self._filter(service_users='nova')
        for user in ('admin', 'demo', 'nova-admin', 'anova'):
            _ctx, call = self._call(wsgi, user_id=user)
            self.assertEqual([], call['service_roles'], user)

    def test_other_headers_do_not_give_the_service_role(self):
        wsgi = self._filter(service_users='nova')
        _ctx, call = self._call(wsgi, user_id='admin', headers={
            'X-Auth-Token': 'tok', 'X-Service-Roles': 'service',
            'X-Roles': 'service', 'X-User-Id': 'nova'})
        self.assertEqual([], call['service_roles'])

    def test_no_service_users_means_header_only(self):
        wsgi = self._filter(service_users='')
        _ctx, call = self._call(wsgi, user_id='nova')
        self.assertEqual([], call['service_roles'])

    def test_no_user_id_is_not_a_service_user(self):
        wsgi = self._filter(service_users='nova')
        _ctx, call = self._call(wsgi, user_id=None)
        self.assertEqual([], call['service_roles'])

    def test_existing_service_roles_of_others_are_kept(self):
        # The filter only adds; it does not strip what keystone would set.
        wsgi = self._filter(service_users='nova')
        req = webob.Request.blank('/v3/%s/volumes' % PROJECT)
        ctx = cinder_context.RequestContext(
            user_id='admin', project_id=PROJECT, is_admin=True,
            service_roles=['reader'])
        req.environ['cinder.context'] = ctx
        req.get_response(wsgi)
        self.assertEqual(['reader'], self.app.calls[-1]['service_roles'])

    def test_request_without_context_passes_untouched(self):
        wsgi = self._filter(service_users='nova')
        req = webob.Request.blank(
            '/v3/%s/attachments' % PROJECT, method='POST',
            headers={'X-Service-Token': 'tok',
                     'Content-Type': 'application/json'})
        req.body = b'{"attachment": {}}'
        response = req.get_response(wsgi)
        self.assertEqual(202, response.status_int)
        self.assertEqual(b'{"ok": true}', response.body)
        call = self.app.calls[-1]
        self.assertIsNone(call['context'])
        self.assertNotIn('cinder.context', req.environ)
        self.assertEqual('tok', call['headers']['X-Service-Token'])
        self.assertEqual(b'{"attachment": {}}', call['body'])

    def test_response_and_body_pass_through(self):
        wsgi = self._filter(service_users='nova')
        _ctx, call = self._call(wsgi, user_id='nova', method='POST',
                                body=b'{"x": 1}')
        self.assertEqual(b'{"x": 1}', call['body'])
        self.assertEqual(1, len(self.app.calls))

    def test_contexts_are_not_shared_between_requests(self):
        wsgi = self._filter(service_users='nova')
        first, call = self._call(wsgi, user_id='nova')
        self.assertEqual(['service'], call['service_roles'])
        second, call = self._call(wsgi, user_id='admin')
        self.assertEqual([], call['service_roles'])
        self.assertEqual(['service'], first.service_roles)
        self.assertEqual([], second.service_roles)
