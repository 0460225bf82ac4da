"""The volume service as the compute side sees it.

:class:`VolumeAPI` is the interface the attach code uses. Two
implementations:

* :class:`CinderVolumeAPI` talks to Cinder with python-cinderclient
  (attachment API, microversion 3.54 or later), as nova-compute does;
* :class:`LocalVolumes` serves ``local`` connection info for block devices
  or files of this machine. It is meant for standalone use of the shim and
  for tests that run without Cinder; it keeps Cinder's attachment rules
  (one guest per volume unless the volume is multi-attach).
"""

import abc
import fcntl
import json
import os
import threading

from oslo_log import log as logging
from oslo_utils import uuidutils

from nova_shim import exception

LOG = logging.getLogger(__name__)

MIN_MICROVERSION = '3.54'


class VolumeAPI(metaclass=abc.ABCMeta):
    """What the attach code needs from the volume service."""

    @abc.abstractmethod
    def get_volume(self, volume_id):
        """Describe a volume.

        :returns: ``{'id', 'multiattach': bool, 'status', 'attachments':
            [{'id', 'instance_uuid', 'host'}]}``.
        """

    @abc.abstractmethod
    def attachment_create(self, volume_id, connector, instance_uuid,
                          mode='rw'):
        """Create an attachment for the host ``connector`` describes.

        :returns: ``{'id': attachment id, 'connection_info': dict}``.
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


class CinderVolumeAPI(VolumeAPI):
    """Cinder's attachment API through python-cinderclient.

    :param session: a keystoneauth1 session (see :meth:`noauth` for a
        Cinder running with ``auth_strategy = noauth``).
    :param microversion: volume API microversion, at least 3.54 (attachment
        ``mode``); 3.50 and later is what multi-attach needs.
    :param endpoint_override: the volume endpoint, when not taken from the
        service catalog.
    """

    def __init__(self, session, microversion=MIN_MICROVERSION,
                 endpoint_override=None, region_name=None):
        from cinderclient import api_versions
        from cinderclient import client

        version = api_versions.APIVersion(microversion)
        if version < api_versions.APIVersion(MIN_MICROVERSION):
            raise ValueError('volume API microversion %s is below %s'
                             % (microversion, MIN_MICROVERSION))
        self.client = client.Client(
            version, session=session, endpoint_override=endpoint_override,
            region_name=region_name)

    @classmethod
    def noauth(cls, endpoint, project_id='admin', user_id='admin',
               microversion=MIN_MICROVERSION):
        """Client of a Cinder that runs without Keystone.

        :param endpoint: the volume endpoint with the project, e.g.
            ``http://127.0.0.1:8776/v3/admin``; ``{project_id}`` in it is
            replaced.
        """
        from keystoneauth1 import noauth
        from keystoneauth1 import session

        class _NoAuth(noauth.NoAuth):
            # Cinder's noauth middleware reads "user:project" from the
            # token.
            def get_token(self, session):
                return '%s:%s' % (user_id, project_id)

        endpoint = endpoint.replace('{project_id}', project_id)
        sess = session.Session(auth=_NoAuth(endpoint=endpoint))
        return cls(sess, microversion=microversion,
                   endpoint_override=endpoint)

    def get_volume(self, volume_id):
        vol = self.client.volumes.get(volume_id)
        attachments = []
        for att in getattr(vol, 'attachments', None) or []:
            attachments.append({'id': att.get('attachment_id'),
                                'instance_uuid': att.get('server_id'),
                                'host': att.get('host_name')})
        return {'id': vol.id, 'multiattach': bool(vol.multiattach),
                'status': vol.status, 'attachments': attachments}

    def attachment_create(self, volume_id, connector, instance_uuid,
                          mode='rw'):
        att = self.client.attachments.create(volume_id, connector,
                                             instance_uuid, mode)
        return self._translate(att)

    def attachment_get(self, attachment_id):
        from cinderclient import exceptions as cinder_exc

        try:
            return self._translate(self.client.attachments.show(
                attachment_id))
        except cinder_exc.NotFound:
            raise exception.AttachmentNotFound(
                'attachment %s does not exist' % attachment_id)

    def attachment_complete(self, attachment_id):
        self.client.attachments.complete(attachment_id)

    def attachment_delete(self, attachment_id):
        from cinderclient import exceptions as cinder_exc

        try:
            self.client.attachments.delete(attachment_id)
        except cinder_exc.NotFound:
            LOG.info('Attachment %s was already deleted', attachment_id)

    @staticmethod
    def _translate(att):
        # attachments.create() answers a dict, attachments.show() a
        # Resource.
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
    'discard': False}}``.

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
    def add_volume(self, volume_id, device_path, multiattach=False):
        """Serve ``device_path`` as volume ``volume_id``."""
        def update(state):
            state['volumes'][volume_id] = {
                'device_path': device_path,
                'multiattach': bool(multiattach)}
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

    def get_volume(self, volume_id):
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

    def attachment_create(self, volume_id, connector, instance_uuid,
                          mode='rw'):
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
            info = {'driver_volume_type': 'local',
                    'data': {'device_path': vol['device_path'],
                             'volume_id': volume_id,
                             'access_mode': mode,
                             'multiattach': vol['multiattach'],
                             'discard': False}}
            state['attachments'][att_id] = {
                'volume_id': volume_id, 'instance_uuid': instance_uuid,
                'host': (connector or {}).get('host'),
                'status': 'reserved', 'connection_info': info}
            return {'id': att_id, 'connection_info': info}
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
