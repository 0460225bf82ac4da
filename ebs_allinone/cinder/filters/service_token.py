"""Paste filter that lets simulated compute hosts act as the Nova service.

Nova calls Cinder with a service token, and Cinder only lets a service
delete an attachment that is still connected to an instance. Under noauth
there are no tokens, so the all-in-one marks with the service role the
requests that carry the ``X-Service-Token`` header (as Nova's requests do)
and, optionally, the requests of the noauth users listed in
``service_users`` (so that the ``cinder`` CLI, which cannot add a header,
can play the compute host with ``--os-user-id nova``). It belongs in the
all-in-one's noauth pipeline only, never in a keystone one.
"""

import webob.dec

SERVICE_ROLE = 'service'


class ServiceTokenEmulation(object):

    def __init__(self, application, service_users=()):
        self.application = application
        self.service_users = frozenset(service_users)

    @webob.dec.wsgify
    def __call__(self, req):
        context = req.environ.get('cinder.context')
        if context is not None and (
                req.headers.get('X-Service-Token') or
                context.user_id in self.service_users):
            context.service_roles = [SERVICE_ROLE]
        return req.get_response(self.application)

    @classmethod
    def factory(cls, global_config, **local_config):
        users = local_config.get('service_users', '').replace(',', ' ')

        def _filter(app):
            return cls(app, service_users=users.split())
        return _filter
