"""The volume service as the compute side sees it.

:class:`VolumeAPI` is the interface the attach code uses. Two
implementations:

* :class:`CinderVolumeAPI` talks to Cinder with python-cinderclient and
  makes Nova 34's calls, each at the microversion Nova uses for it (see
  :data:`NOVA_MICROVERSIONS`);
* :class:`LocalVolumes` serves ``local`` connection info for block devices
  or files of this machine. It is meant for standalone use of the shim and
  for tests that run without Cinder; it keeps Cinder's attachment rules
  (one guest per volume unless the volume is multi-attach).

The calls, in Nova's order (``nova.compute.api``, ``nova.virt.block_device``
and the libvirt driver): attach is :meth:`VolumeAPI.get_volume`, a reserved
attachment without a connector (:meth:`VolumeAPI.attachment_create`), the
volume read again at the shared-targets microversion, the attachment
updated with the host connector (:meth:`VolumeAPI.attachment_update`, which
answers the connection info), then :meth:`VolumeAPI.attachment_complete`;
detach is :meth:`VolumeAPI.get_volume`, :meth:`VolumeAPI.begin_detaching`,
the shared-targets read, for a multi-attach volume one more read (who else
on this host uses it), then :meth:`VolumeAPI.attachment_delete`.
"""

import abc
import copy
import fcntl
import json
import os
import threading

from oslo_log import log as logging
from oslo_utils import uuidutils
import tenacity

from nova_shim import exception

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


class VolumeAPI(metaclass=abc.ABCMeta):
    """What the attach code needs from the volume service."""

    @abc.abstractmethod
    def get_volume(self, volume_id, shared_targets=False):
        """Describe a volume.

        :param shared_targets: read it as Nova's compute does right before
            it connects or disconnects the volume.
        :returns: ``{'id', 'multiattach': bool, 'status', 'attachments':
            [{'id', 'instance_uuid', 'host'}]}``.
        """

    @abc.abstractmethod
    def attachment_create(self, volume_id, instance_uuid, mode='rw'):
        """Reserve the volume for ``instance_uuid`` (no connector yet).

        :returns: ``{'id': attachment id}``.
        """

    @abc.abstractmethod
    def attachment_update(self, attachment_id, connector, mountpoint=None):
        """Give the reserved attachment the host ``connector``.

        :param mountpoint: the guest device (``/dev/vdb``), sent inside the
            connector as Nova does.
        :returns: ``{'id', 'connection_info': dict}``.
        """

    @abc.abstractmethod
    def attachment_get(self, attachment_id):
        """Describe an attachment.

        :returns: ``{'id', 'volume_id', 'instance_uuid',
            'connection_info'}``.
        :raises AttachmentNotFound: no such attachment.
        """

    @abc.abstractmethod
    def attachment_complete(self, attachment_id):
        """Mark the attachment attached (the volume becomes in-use)."""

    @abc.abstractmethod
    def attachment_delete(self, attachment_id):
        """Delete the attachment; the backend may drop the host export."""

    @abc.abstractmethod
    def begin_detaching(self, volume_id):
        """Mark the volume detaching, before the guest lets it go."""

    @abc.abstractmethod
    def roll_detaching(self, volume_id):
        """Undo :meth:`begin_detaching` after a detach that failed."""


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


class CinderVolumeAPI(VolumeAPI):
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


class LocalVolumes(VolumeAPI):
    """Volumes that are block devices or files of this machine.

    For standalone use of the shim and for tests without Cinder: a volume
    is registered with its device path and whether it is multi-attach; an
    attachment's connection info is ``{'driver_volume_type': 'local',
    'data': {'device_path', 'volume_id', 'access_mode', 'multiattach',
    'discard': False}}``, plus ``qos_specs`` when the volume has some.

    :param state_file: keep the volumes and attachments in this JSON file
        (shared by processes, e.g. successive CLI calls); in memory when
        None.
    """

    def __init__(self, state_file=None):
        self.state_file = state_file
        self._lock = threading.Lock()
        self._memory = {'volumes': {}, 'attachments': {}}

    # -- state ---------------------------------------------------------
    def _transaction(self, update):
        """Run ``update(state)`` under a lock and keep its changes."""
        with self._lock:
            if not self.state_file:
                return update(self._memory)
            fd = os.open(self.state_file, os.O_RDWR | os.O_CREAT, 0o600)
            with os.fdopen(fd, 'r+') as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                text = f.read()
                state = (json.loads(text) if text.strip() else
                         {'volumes': {}, 'attachments': {}})
                result = update(state)
                f.seek(0)
                f.truncate()
                json.dump(state, f, indent=1, sort_keys=True)
                return result

    # -- registration ----------------------------------------------------
    def add_volume(self, volume_id, device_path, multiattach=False,
                   qos_specs=None):
        """Serve ``device_path`` as volume ``volume_id``.

        :param qos_specs: front-end QoS specs given in its connection info,
            as Cinder gives a volume type's.
        """
        def update(state):
            state['volumes'][volume_id] = {
                'device_path': device_path,
                'multiattach': bool(multiattach)}
            if qos_specs:
                state['volumes'][volume_id]['qos_specs'] = dict(qos_specs)
        self._transaction(update)

    def remove_volume(self, volume_id):
        def update(state):
            if any(a['volume_id'] == volume_id
                   for a in state['attachments'].values()):
                raise exception.ShimError('volume %s has attachments'
                                          % volume_id)
            state['volumes'].pop(volume_id, None)
        self._transaction(update)

    def list_volumes(self):
        """{volume id: {'device_path', 'multiattach', 'attachments'}}."""
        def update(state):
            result = {}
            for volume_id, vol in state['volumes'].items():
                result[volume_id] = dict(vol, attachments=sorted(
                    att_id for att_id, a in state['attachments'].items()
                    if a['volume_id'] == volume_id))
            return result
        return self._transaction(update)

    def list_attachments(self, volume_id=None):
        def update(state):
            return [dict(a, id=att_id)
                    for att_id, a in sorted(state['attachments'].items())
                    if volume_id in (None, a['volume_id'])]
        return self._transaction(update)

    # -- VolumeAPI -------------------------------------------------------
    @staticmethod
    def _volume(state, volume_id):
        try:
            return state['volumes'][volume_id]
        except KeyError:
            raise exception.ShimError('volume %s does not exist'
                                      % volume_id)

    def get_volume(self, volume_id, shared_targets=False):
        def update(state):
            vol = self._volume(state, volume_id)
            atts = [{'id': att_id, 'instance_uuid': a['instance_uuid'],
                     'host': a['host']}
                    for att_id, a in sorted(state['attachments'].items())
                    if a['volume_id'] == volume_id]
            attached = any(a['status'] == 'attached'
                           for a in state['attachments'].values()
                           if a['volume_id'] == volume_id)
            return {'id': volume_id, 'multiattach': vol['multiattach'],
                    'status': 'in-use' if attached else 'available',
                    'device_path': vol['device_path'],
                    'attachments': atts}
        return self._transaction(update)

    def attachment_create(self, volume_id, instance_uuid, mode='rw'):
        if mode not in ('rw', 'ro'):
            raise exception.ShimError('attachment mode must be rw or ro, '
                                      'not %r' % (mode,))

        def update(state):
            vol = self._volume(state, volume_id)
            others = sorted({a['instance_uuid']
                             for a in state['attachments'].values()
                             if a['volume_id'] == volume_id and
                             a['instance_uuid'] != instance_uuid})
            if others and not vol['multiattach']:
                raise exception.VolumeNotShareable(volume_id, others)
            att_id = uuidutils.generate_uuid()
            state['attachments'][att_id] = {
                'volume_id': volume_id, 'instance_uuid': instance_uuid,
                'host': None, 'mode': mode, 'status': 'reserved',
                'connection_info': None}
            return {'id': att_id}
        return self._transaction(update)

    def attachment_update(self, attachment_id, connector, mountpoint=None):
        def update(state):
            att = self._attachment(state, attachment_id)
            vol = self._volume(state, att['volume_id'])
            info = {'driver_volume_type': 'local',
                    'data': {'device_path': vol['device_path'],
                             'volume_id': att['volume_id'],
                             'access_mode': att.get('mode', 'rw'),
                             'multiattach': vol['multiattach'],
                             'discard': False}}
            if vol.get('qos_specs'):
                info['data']['qos_specs'] = dict(vol['qos_specs'])
            att['host'] = connector.get('host')
            att['status'] = 'attaching'
            att['connection_info'] = info
            return {'id': attachment_id, 'connection_info': info}
        return self._transaction(update)

    def _attachment(self, state, attachment_id):
        try:
            return state['attachments'][attachment_id]
        except KeyError:
            raise exception.AttachmentNotFound(
                'attachment %s does not exist' % attachment_id)

    def attachment_get(self, attachment_id):
        def update(state):
            att = self._attachment(state, attachment_id)
            return {'id': attachment_id, 'volume_id': att['volume_id'],
                    'instance_uuid': att['instance_uuid'],
                    'connection_info': att['connection_info']}
        return self._transaction(update)

    def attachment_complete(self, attachment_id):
        def update(state):
            self._attachment(state, attachment_id)['status'] = 'attached'
        self._transaction(update)

    def attachment_delete(self, attachment_id):
        def update(state):
            state['attachments'].pop(attachment_id, None)
        self._transaction(update)

    def begin_detaching(self, volume_id):
        # Cinder's volume status only; nothing here depends on it.
        self.get_volume(volume_id)

    def roll_detaching(self, volume_id):
        self.get_volume(volume_id)
