"""Volumes of this machine, without a volume service.

For standalone use of the shim and for tests that run without Cinder.
"""

import fcntl
import json
import os
import threading

from oslo_utils import uuidutils

from nova_shim import exception
from nova_shim.volume_api import base


class LocalVolumes(base.VolumeAPI):
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
