"""The volume service is Cinder, reached with python-cinderclient.

:class:`CinderVolumeAPI` makes Nova 34's calls, each at the microversion
Nova uses for it (see :data:`NOVA_MICROVERSIONS`), in the order described
in :mod:`nova_shim.volume_api.base`.
"""

import copy

from oslo_log import log as logging
import tenacity

from nova_shim import exception
from nova_shim.volume_api import base

LOG = logging.getLogger(__name__)

#: Cinder's microversion when a request names none.
BASE_VERSION = '3.0'
#: Nova's microversion for the attachment calls (create, update, complete,
#: delete): 3.44 brought ``os-complete``.
ATTACHMENT_VERSION = '3.44'
#: The multi-attach API guard of this project refuses end users that create
#: an attachment of an attached multi-attach volume below 3.50; the compute
#: service (a service token) may use 3.44 as Nova does.
USER_ATTACHMENT_VERSION = '3.50'
#: An attachment ``mode`` (read-only) needs 3.54; Nova never sends one.
MODE_VERSION = '3.54'
#: Nova's compute reads the volume at this microversion (tri-state
#: ``shared_targets``) before it connects or disconnects it.
SHARED_TARGETS_VERSION = '3.69'

#: {call: microversion} of Nova 34, which :class:`CinderVolumeAPI` follows.
NOVA_MICROVERSIONS = {
    'get_volume': BASE_VERSION,
    'get_volume shared_targets': SHARED_TARGETS_VERSION,
    'attachment_create': ATTACHMENT_VERSION,
    'attachment_update': ATTACHMENT_VERSION,
    'attachment_get': ATTACHMENT_VERSION,
    'attachment_complete': ATTACHMENT_VERSION,
    'attachment_delete': ATTACHMENT_VERSION,
    'begin_detaching': BASE_VERSION,
    'roll_detaching': BASE_VERSION,
}
#: Nova retries an attachment update or delete this many times on HTTP 500
#: or 504 (Cinder asking Nova back, a busy volume service).
RETRY_ATTEMPTS = 5
RETRY_CODES = (500, 504)


def connector_with_mountpoint(connector, mountpoint):
    """The connector Nova sends: a copy with ``mountpoint`` added."""
    if not mountpoint or 'mountpoint' in connector:
        return connector
    result = copy.deepcopy(connector)
    result['mountpoint'] = mountpoint
    return result


def _retry_on_server_error(func):
    """Retry ``func`` as Nova does its attachment update and delete."""
    def server_error(exc):
        return getattr(exc, 'code', None) in RETRY_CODES

    return tenacity.retry(
        retry=tenacity.retry_if_exception(server_error),
        stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS),
        reraise=True)(func)


class CinderVolumeAPI(base.VolumeAPI):
    """Cinder's attachment API through python-cinderclient, as Nova uses it.

    :param session: a keystoneauth1 session (see :meth:`noauth` for a
        Cinder running with ``auth_strategy = noauth``). When its auth
        sends a service token, as Nova's does with ``[service_user]
        send_service_user_token``, say so with ``service_token``.
    :param service_token: the requests carry a service token of the compute
        service. Attachments are then created at 3.44 like Nova's; without
        one the shim is an end user to Cinder and creates them at 3.50,
        which the multi-attach API guard asks of end users.
    :param endpoint_override: the volume endpoint, when not taken from the
        service catalog.
    """

    def __init__(self, session, endpoint_override=None, region_name=None,
                 service_token=False):
        self.session = session
        self.endpoint_override = endpoint_override
        self.region_name = region_name
        self.service_token = bool(service_token)
        self._clients = {}

    @classmethod
    def noauth(cls, endpoint, project_id='admin', user_id='admin',
               service_token=None):
        """Client of a Cinder that runs without Keystone.

        :param endpoint: the volume endpoint with the project, e.g.
            ``http://127.0.0.1:8776/v3/admin``; ``{project_id}`` in it is
            replaced.
        :param service_token: sent as ``X-Service-Token`` when given (what
            a deployment's noauth pipeline may map to the service role).
        """
        from keystoneauth1 import noauth
        from keystoneauth1 import session

        class _NoAuth(noauth.NoAuth):
            # Cinder's noauth middleware reads "user:project" from the
            # token.
            def get_token(self, session):
                return '%s:%s' % (user_id, project_id)

            def get_headers(self, session, **kwargs):
                headers = super().get_headers(session, **kwargs) or {}
                if service_token:
                    headers['X-Service-Token'] = service_token
                return headers

        endpoint = endpoint.replace('{project_id}', project_id)
        sess = session.Session(auth=_NoAuth(endpoint=endpoint))
        return cls(sess, endpoint_override=endpoint,
                   service_token=bool(service_token))

    def client(self, version):
        """The cinderclient ``Client`` at microversion ``version``."""
        if version not in self._clients:
            from cinderclient import api_versions
            from cinderclient import client

            self._clients[version] = client.Client(
                api_versions.APIVersion(version), session=self.session,
                endpoint_override=self.endpoint_override,
                region_name=self.region_name)
        return self._clients[version]

    def get_volume(self, volume_id, shared_targets=False):
        version = SHARED_TARGETS_VERSION if shared_targets else BASE_VERSION
        vol = self.client(version).volumes.get(volume_id)
        attachments = []
        for att in getattr(vol, 'attachments', None) or []:
            attachments.append({'id': att.get('attachment_id'),
                                'instance_uuid': att.get('server_id'),
                                'host': att.get('host_name')})
        return {'id': vol.id, 'multiattach': bool(vol.multiattach),
                'status': vol.status, 'attachments': attachments}

    def attachment_create_version(self, mode='rw'):
        """The microversion :meth:`attachment_create` uses."""
        if mode not in (None, 'rw'):
            return MODE_VERSION
        if self.service_token:
            return ATTACHMENT_VERSION
        return USER_ATTACHMENT_VERSION

    def attachment_create(self, volume_id, instance_uuid, mode='rw'):
        version = self.attachment_create_version(mode)
        # No connector: the attachment is reserved (Nova's API does this
        # before it asks the compute). A mode only when it is not Cinder's
        # default, read-write.
        att = self.client(version).attachments.create(
            volume_id, None, instance_uuid,
            mode if version == MODE_VERSION else 'null')
        return {'id': att['id']}

    @_retry_on_server_error
    def attachment_update(self, attachment_id, connector, mountpoint=None):
        att = self.client(ATTACHMENT_VERSION).attachments.update(
            attachment_id, connector_with_mountpoint(connector, mountpoint))
        return self._translate(att)

    def attachment_get(self, attachment_id):
        from cinderclient import exceptions as cinder_exc

        try:
            return self._translate(self.client(
                ATTACHMENT_VERSION).attachments.show(attachment_id))
        except cinder_exc.NotFound:
            raise exception.AttachmentNotFound(
                'attachment %s does not exist' % attachment_id)

    def attachment_complete(self, attachment_id):
        self.client(ATTACHMENT_VERSION).attachments.complete(attachment_id)

    @_retry_on_server_error
    def attachment_delete(self, attachment_id):
        from cinderclient import exceptions as cinder_exc

        try:
            self.client(ATTACHMENT_VERSION).attachments.delete(attachment_id)
        except cinder_exc.NotFound:
            LOG.info('Attachment %s was already deleted', attachment_id)

    def begin_detaching(self, volume_id):
        self.client(BASE_VERSION).volumes.begin_detaching(volume_id)

    def roll_detaching(self, volume_id):
        self.client(BASE_VERSION).volumes.roll_detaching(volume_id)

    @staticmethod
    def _translate(att):
        # attachments.create() answers a dict, attachments.show() and
        # update() a Resource.
        info = att if isinstance(att, dict) else att.to_dict()
        return {'id': info['id'],
                'volume_id': info.get('volume_id'),
                'instance_uuid': info.get('instance'),
                'connection_info': _nested_connection_info(
                    info.get('connection_info'))}


def _nested_connection_info(flat):
    """Rebuild the ``{'driver_volume_type', 'data'}`` form Nova uses.

    Cinder's attachments API answers the driver's ``data`` merged with
    ``driver_volume_type`` (and the attachment id); Nova puts ``data`` back
    before handing the connection info to os-brick and libvirt.
    """
    if not flat:
        return {}
    if 'data' in flat:
        return dict(flat)
    data = dict(flat)
    data.pop('attachment_id', None)
    driver_volume_type = data.pop('driver_volume_type', None)
    return {'driver_volume_type': driver_volume_type, 'data': data}
