"""A simulated compute host without a hypervisor (the degraded mode).

It does what nova-compute does for a volume up to the point where a guest
would get the disk: the host's connector (os-brick, with the simulated host
name), a reserved Cinder attachment updated with the connector, os-brick
``connect_volume`` on the connection info, the ``<disk>`` XML a guest
would get, attachment complete; and in reverse on detach (the volume
marked detaching first). Data goes straight to the host device path (the
emulator's device path of this host's instance), with O_DIRECT.
"""

import os
import uuid

from ebs_allinone.hosts import base
from ebs_allinone.hosts import direct_io
from nova_shim import disk
from nova_shim import host as host_mod

SERVER_NAMESPACE = uuid.UUID('6f0f2a57-63a7-4d5e-9a4e-2f1d2b8c7e01')


def server_id_for(host_name):
    """The instance (server) UUID of a simulated host's only guest."""
    return str(uuid.uuid5(SERVER_NAMESPACE, host_name))


class DeviceHost(base.SimulatedHost):
    """One simulated compute host that uses the host device paths."""

    mode = 'host device path, no guest'

    def __init__(self, name, instance_id, volume_api):
        super().__init__(name, instance_id, volume_api)
        self.server_id = server_id_for(name)
        self.connector = None

    def start(self, progress=None):
        self.connector = host_mod.get_host_connector(host=self.name)

    def stop(self):
        self.detach_all()

    def pids(self):
        return {}

    def attach(self, volume_id):
        """Attach ``volume_id`` to this host.

        :returns: {'attachment_id', 'device_path', 'disk_xml',
            'target_dev'}.
        """
        volume = self.volume_api.get_volume(volume_id)
        attachment_id = self.volume_api.attachment_create(
            volume_id, self.server_id)['id']
        try:
            attachment = self.volume_api.attachment_update(
                attachment_id, self.connector, mountpoint='/dev/vdb')
            info = dict(attachment['connection_info'])
            info['data'] = dict(info.get('data') or {})
            brick = host_mod.get_volume_connector(info['driver_volume_type'])
            device = brick.connect_volume(info['data'])
            if not os.path.exists(device['path']):
                raise RuntimeError('%s is not on host %s'
                                   % (device['path'], self.name))
            info['data']['device_path'] = device['path']
            info['serial'] = volume_id
            info['multiattach'] = bool(volume['multiattach'])
            xml = disk.build_disk_xml(info, 'vdb')
            self.volume_api.attachment_complete(attachment_id)
        except Exception:
            self.volume_api.attachment_delete(attachment_id)
            raise
        self._attached[volume_id] = (attachment_id, info, brick)
        return {'attachment_id': attachment_id,
                'device_path': device['path'], 'disk_xml': xml,
                'target_dev': 'vdb'}

    def detach(self, volume_id):
        attachment_id, info, brick = self._attached.pop(volume_id)
        self.volume_api.begin_detaching(volume_id)
        try:
            brick.disconnect_volume(info['data'], None)
        except Exception:
            self.volume_api.roll_detaching(volume_id)
            raise
        self.volume_api.attachment_delete(attachment_id)
        return {'attachment_id': attachment_id}

    def device_path(self, volume_id):
        return self._attached[volume_id][1]['data']['device_path']

    def write_record(self, volume_id, record, progress=None):
        """Write ``record`` with O_DIRECT; return what proves it."""
        path = self.device_path(volume_id)
        direct_io.write_record(path, record)
        return 'wrote %r to %s with O_DIRECT' % (record, path)

    def read_record(self, volume_id, record, progress=None):
        """Read the record with O_DIRECT; return what proves it."""
        path = self.device_path(volume_id)
        got = direct_io.read_record(path)
        if got != record:
            raise RuntimeError('read %r from %s, expected %r'
                               % (got, path, record))
        return 'read %r from %s with O_DIRECT' % (got, path)
