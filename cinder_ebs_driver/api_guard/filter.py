"""cinder-api paste filter guarding multi-attach.

* Below volume API microversion 3.50 (no ``OpenStack-API-Version`` header
  means 3.0) a client is not multi-attach aware: creating (or managing) a
  volume of a multi-attach type, retyping a volume to or from a multi-attach
  type, and attaching a multi-attach volume that is already attached to
  another instance are refused with HTTP 400 naming microversion 3.50.
* The compute service is not an end user: a request that carries a
  service token with a service role (``context.service_roles``, checked the
  way Cinder checks who may delete a connected attachment) may create
  attachments at any microversion. Nova (up to at least 34) creates its
  attachments at 3.44 and gates multi-attach itself (compute API 2.60 and
  the hypervisor's support).
* At every microversion, a multi-attach volume type cannot get an
  encryption type, and an encrypted type cannot be made multi-attach; and a
  retype between a multi-attach and a single-attach type needs
  ``migration_policy`` ``on-demand`` (EBS fixes multi-attach when a disk is
  created, so only a migration can do it).
* At every microversion, a volume type cannot get back-end QoS specs that
  no disk its extra specs allow meets at any size
  (:mod:`~cinder_ebs_driver.api_guard.qos`).

Enable it in the ``[composite:openstack_volume_api_v3]`` pipelines of
cinder-api's api-paste.ini, after the auth/context middleware (``noauth`` or
``keystonecontext``) and before ``apiv3``::

    [filter:ebs_api_guard]
    paste.filter_factory = cinder_ebs_driver.api_guard:filter_factory

Only POST/PUT requests to a handful of paths (and the GET that associates
QoS specs with a type) are looked at; everything else goes straight to
Cinder without touching the body or the database.
"""

from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob

from cinder_ebs_driver.api_guard import classify
from cinder_ebs_driver.api_guard import qos as qos_rules
from cinder_ebs_driver.api_guard import rules

LOG = logging.getLogger(__name__)

CONTEXT_KEY = 'cinder.context'
RETYPE_ACTION = 'os-retype'
#: Volume actions that start another attachment (legacy attach flow).
ATTACH_ACTIONS = frozenset(['os-reserve', 'os-attach'])
#: Option of earlier versions, now ignored (see filter_factory).
REMOVED_OPTION = 'guard_attachments'


def fault_response(message, version=None):
    """An HTTP 400 in Cinder's fault format."""
    response = webob.Response(status=400, content_type='application/json',
                              charset='utf-8')
    response.json_body = {'badRequest': {'code': 400,
                                         'message': str(message)}}
    if version is not None:
        response.headers['OpenStack-API-Version'] = (
            'volume ' + version.get_string())
        response.headers['Vary'] = 'OpenStack-API-Version'
    return response


def read_json_body(request):
    """The decoded JSON body, or None when Cinder would not accept it.

    Reading through webob leaves the body readable for Cinder.
    """
    if not classify.body_is_json(request.environ):
        return None
    raw = request.body
    if not raw:
        return None
    try:
        return jsonutils.loads(raw)
    except (ValueError, TypeError):
        return None


def evaluate(shape, context, body, version):
    """Run the rule of a request shape; the refusal message or None."""
    kind = shape.kind
    if kind == classify.VOLUME_CREATE:
        return rules.check_volume_create(context, body, version)
    if kind == classify.VOLUME_MANAGE:
        return rules.check_volume_manage(context, body, version)
    if kind == classify.VOLUME_ACTION:
        action = classify.action_name(body)
        if action not in classify.GUARDED_ACTIONS:
            return None
        service_attach = (action in ATTACH_ACTIONS and
                          rules.is_service_request(context))
        refusal = None
        if classify.below_multiattach(version) and not service_attach:
            refusal = rules.check_volume_action(context, shape.resource_id,
                                                body, version)
        if not refusal and action == RETYPE_ACTION:
            refusal = rules.check_retype_migration(
                context, shape.resource_id, body[action])
        return refusal
    if kind == classify.ATTACHMENT_CREATE:
        if rules.is_service_request(context):
            return None
        return rules.check_attachment_create(context, body, version)
    if kind == classify.TYPE_ENCRYPTION_CREATE:
        return rules.check_encryption_create(context, shape.resource_id,
                                             body)
    if kind == classify.TYPE_EXTRA_SPECS_CREATE:
        return (rules.check_extra_specs_create(context, shape.resource_id,
                                               body) or
                qos_rules.check_type_specs(context, shape.resource_id,
                                           body.get('extra_specs')))
    if kind == classify.TYPE_EXTRA_SPEC_UPDATE:
        return (rules.check_extra_spec_update(context, shape.resource_id,
                                              body) or
                qos_rules.check_type_specs(context, shape.resource_id, body,
                                           update=True))
    if kind == classify.QOS_ASSOCIATE:
        return qos_rules.check_associate(context, shape.resource_id,
                                         body.get('vol_type_id'))
    if kind == classify.QOS_UPDATE:
        return qos_rules.check_update(context, shape.resource_id, body)
    if kind == classify.QOS_DELETE_KEYS:
        return qos_rules.check_delete_keys(context, shape.resource_id, body)
    return None


def is_guarded_at(shape, version):
    """Whether the shape's rule applies at this microversion."""
    if shape.kind in classify.TYPE_KINDS:
        return True
    if shape.kind == classify.VOLUME_ACTION:
        # A retype's migration policy is checked at every microversion.
        return True
    if not classify.below_multiattach(version):
        return False
    if shape.kind == classify.ATTACHMENT_CREATE:
        # Below 3.27 Cinder has no attachments API and answers 404 itself.
        return classify.has_attachments_api(version)
    return True


class APIGuard(object):
    """WSGI middleware applying the multi-attach API rules."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        shape = classify.classify(environ.get('REQUEST_METHOD'),
                                  environ.get('PATH_INFO', ''))
        if shape is not None:
            response = self._inspect(shape, environ)
            if response is not None:
                return response(environ, start_response)
        return self.application(environ, start_response)

    def _inspect(self, shape, environ):
        version = classify.requested_version(environ)
        if version is None:
            # Cinder refuses the header itself (400/406): let it answer.
            return None
        if not is_guarded_at(shape, version):
            return None
        context = environ.get(CONTEXT_KEY)
        if context is None:
            LOG.warning('No request context: the multi-attach API guard '
                        'must come after the auth middleware in the '
                        'api-paste.ini pipeline.')
            return None
        request = webob.Request(environ)
        if shape.kind == classify.QOS_ASSOCIATE:
            body = dict(request.GET)
        else:
            body = read_json_body(request)
        if body is None:
            return None
        try:
            message = evaluate(shape, context, body, version)
        except Exception as exc:
            # Unknown volume or type, bad ids, database trouble: Cinder
            # answers with its usual error when it looks the same up.
            LOG.debug('Multi-attach API guard passes %(kind)s on: %(exc)s',
                      {'kind': shape.kind, 'exc': exc})
            return None
        if message is None:
            return None
        LOG.info('Refused %(method)s %(path)s: %(message)s',
                 {'method': environ.get('REQUEST_METHOD'),
                  'path': environ.get('PATH_INFO'), 'message': message})
        return fault_response(message, version)


def filter_factory(global_conf, **local_conf):
    """paste.deploy filter factory for the guard.

    The filter has no options. ``guard_attachments``, which earlier versions
    offered so that Nova could attach a multi-attach volume to a second
    server, is ignored with a warning: Nova's requests carry its service
    token and pass the attachment rule without it.
    """
    if REMOVED_OPTION in local_conf:
        LOG.warning('The %(option)s option of the multi-attach API guard '
                    'is no longer used and is ignored: requests with a '
                    'service token of the compute service may create '
                    'attachments at any microversion, end users need '
                    '3.50. Remove it from api-paste.ini; Nova must send '
                    'its service token ([service_user] '
                    'send_service_user_token = true), as Cinder already '
                    'requires for detaching.', {'option': REMOVED_OPTION})

    def _filter(application):
        return APIGuard(application)
    return _filter
