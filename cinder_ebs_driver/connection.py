"""connection_info of an attached EBS disk.

The disk shows up on the host as a local block device (NVMe), so the
connection type is ``local``, which Nova's libvirt driver and os-brick
already know. Where the device appears comes from
``ebs_device_path_template``.
"""

from cinder import exception
from oslo_log import log as logging

from cinder_ebs_driver.i18n import _

LOG = logging.getLogger(__name__)

DRIVER_VOLUME_TYPE = 'local'


def disk_serial(disk_id):
    """The disk's NVMe serial: its id without the ``d-`` prefix."""
    return disk_id[2:] if disk_id.startswith('d-') else disk_id


def device_path(template, disk_id, instance_id, host):
    """Fill ``ebs_device_path_template`` for one disk on one host."""
    try:
        return template.format(disk_id=disk_id,
                               serial=disk_serial(disk_id),
                               instance_id=instance_id,
                               host=host)
    except (KeyError, IndexError, ValueError) as err:
        msg = (_('ebs_device_path_template %(template)s is invalid: '
                 '%(err)s; the placeholders are {disk_id}, {serial}, '
                 '{instance_id} and {host}.') %
               {'template': template, 'err': err})
        LOG.error(msg)
        raise exception.InvalidConfigurationValue(
            value=template, option='ebs_device_path_template')


def access_mode(connector):
    mode = (connector or {}).get('mode') or 'rw'
    return 'ro' if mode == 'ro' else 'rw'


def build(volume, disk_id, instance_id, connector, template):
    """Return the connection_info for a disk attached to an instance."""
    host = connector.get('host')
    return {
        'driver_volume_type': DRIVER_VOLUME_TYPE,
        'data': {
            'device_path': device_path(template, disk_id, instance_id, host),
            'disk_id': disk_id,
            'volume_id': volume.id,
            'instance_id': instance_id,
            'access_mode': access_mode(connector),
            'discard': True,
            'multiattach': bool(volume.multiattach),
        },
    }
