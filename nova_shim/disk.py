"""Libvirt ``<disk>`` XML for a volume attached through the ``local`` type.

The element is the one Nova's libvirt driver builds for
``driver_volume_type: 'local'`` (``LibvirtVolumeDriver``): ``<driver
name='qemu' type='raw' cache='none'/>`` (``discard='unmap'`` when the
connection asks for it), no ``io`` attribute (QEMU's default I/O mode),
``<shareable/>`` for multi-attach volumes, ``<iotune>`` from the front-end
QoS specs Cinder puts in the connection. The one difference: a regular
file is given as ``type='file'``, where Nova always says ``type='block'``.

Every value is placed in the document by the XML library, never by string
formatting, so quotes, ``<`` or ``&`` in a path cannot add elements.  Values
that libvirt would refuse anyway (a serial or alias outside libvirt's
character set, a relative path, control characters, an unknown target name
or bus) are rejected here with a clear ``ValueError`` so that the returned
element always validates against libvirt's domain schema.
"""

import os
import re
import stat

from lxml import etree
from oslo_log import log as logging
from oslo_utils import strutils

LOG = logging.getLogger(__name__)

#: Target buses accepted by libvirt's domain schema (``uml`` is obsolete).
VALID_BUSES = frozenset(['virtio', 'scsi', 'sata', 'ide', 'usb', 'xen',
                         'fdc', 'sd'])

ACCESS_MODES = ('rw', 'ro')

# A guest disk name such as vdb, sdaa or xvdc (libvirt's schema allows a
# wider pattern; this is what Nova's block device naming produces).
_TARGET_DEV_RE = re.compile(r'^(?:vd|sd|hd|xvd|fd|ubd)[a-z]{1,4}\Z')
# libvirt's ``diskSerial`` and ``aliasName`` patterns (domaincommon.rng).
_SERIAL_RE = re.compile(r'^[A-Za-z0-9_.+\- ]+\Z')
_ALIAS_ID_RE = re.compile(r'^[A-Za-z0-9_.\-]+\Z')
# Characters an attribute or text node cannot carry in a form libvirt's
# schema accepts: C0 controls (newline included), DEL and C1 controls.
_CONTROL_RE = re.compile('[\x00-\x1f\x7f-\x9f]')

SOURCE_BLOCK = 'block'
SOURCE_FILE = 'file'

#: The front-end QoS keys Nova's libvirt driver copies from
#: ``connection_info['data']['qos_specs']`` into ``<iotune>``, in the
#: order it writes them (``LibvirtConfigGuestDisk``); others are ignored.
IOTUNE_KEYS = ('read_bytes_sec', 'read_iops_sec', 'write_bytes_sec',
               'write_iops_sec', 'total_bytes_sec', 'total_iops_sec',
               'read_bytes_sec_max', 'write_bytes_sec_max',
               'total_bytes_sec_max', 'read_iops_sec_max',
               'write_iops_sec_max', 'total_iops_sec_max', 'size_iops_sec')


def _flag(value):
    """Interpret a connection_info flag (bool, or a string from JSON)."""
    if value is None:
        return False
    return strutils.bool_from_string(value)


def volume_id(connection_info):
    """Return the volume id of ``connection_info``, the way Nova finds it.

    ``data['volume_id']`` first, then ``serial`` (which Nova's block device
    layer sets to the volume id during attach).
    """
    data = connection_info.get('data') or {}
    return data.get('volume_id') or connection_info.get('serial')


def disk_serial(connection_info):
    """Return the ``<serial>`` of the disk: the volume id."""
    data = connection_info.get('data') or {}
    return connection_info.get('serial') or data.get('volume_id')


def is_multiattach(connection_info):
    """True when the volume is multi-attach.

    Nova puts the flag at the top level of ``connection_info``; the driver
    also reports it in ``data``. Either one makes the disk shareable.
    """
    data = connection_info.get('data') or {}
    return (_flag(connection_info.get('multiattach')) or
            _flag(data.get('multiattach')))


def source_type(path):
    """Return ``'block'`` or ``'file'`` for the device path.

    Symlinks (``/dev/disk/by-id/...``) are followed.

    :raises ValueError: the path does not exist or is neither a block
        device nor a regular file.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ValueError('device path %r does not exist' % path)
    except OSError as exc:
        raise ValueError('cannot stat device path %r: %s' % (path, exc))
    if stat.S_ISBLK(mode):
        return SOURCE_BLOCK
    if stat.S_ISREG(mode):
        return SOURCE_FILE
    raise ValueError('device path %r is neither a block device nor a '
                     'regular file' % path)


def _check_text(name, value):
    if not isinstance(value, str) or not value:
        raise ValueError('%s must be a non-empty string, got %r'
                         % (name, value))
    if _CONTROL_RE.search(value):
        raise ValueError('%s contains control characters: %r'
                         % (name, value))


def iotune_values(data):
    """The ``<iotune>`` children for a connection's ``qos_specs``.

    Cinder puts the volume type's front-end QoS specs there (``_per_gb``
    keys already multiplied by the size). Keys Nova does not copy are
    ignored, as Nova does. Values libvirt or QEMU would refuse at attach
    time are refused here: a value that is not a non-negative integer, a
    total limit along with a read or write one of the same kind, a burst
    (``_max``) without its base limit.

    :returns: a list of (key, value as a string), in Nova's order.
    :raises ValueError: as above, or ``qos_specs`` not a dict.
    """
    specs = data.get('qos_specs')
    if not specs:
        return []
    if not isinstance(specs, dict):
        raise ValueError("connection_info['data']['qos_specs'] must be a "
                         "dict, got %r" % type(specs).__name__)
    values = []
    for key in IOTUNE_KEYS:
        value = specs.get(key)
        if value is None:
            continue
        text = str(value).strip()
        if (isinstance(value, bool) or not text.isascii()
                or not text.isdigit()):
            raise ValueError('QoS spec %s must be a non-negative integer, '
                             'got %r' % (key, value))
        values.append((key, str(int(text))))
    given = {key for key, _value in values}
    for kind in ('bytes_sec', 'iops_sec'):
        for suffix in ('', '_max'):
            total = 'total_%s%s' % (kind, suffix)
            split = [side + '_%s%s' % (kind, suffix)
                     for side in ('read', 'write')
                     if side + '_%s%s' % (kind, suffix) in given]
            if total in given and split:
                raise ValueError('QoS spec %s cannot be combined with %s '
                                 '(libvirt refuses it)'
                                 % (total, ', '.join(split)))
    for key in given:
        if key.endswith('_max') and key[:-len('_max')] not in given:
            raise ValueError('QoS spec %s needs %s too (QEMU refuses a '
                             'burst without its base limit)'
                             % (key, key[:-len('_max')]))
    return values


def _validate(connection_info, target_dev, bus):
    """Check the inputs; return (data, device_path, serial, alias id)."""
    if not isinstance(connection_info, dict):
        raise ValueError('connection_info must be a dict, got %r'
                         % type(connection_info).__name__)
    data = connection_info.get('data')
    if not isinstance(data, dict):
        raise ValueError("connection_info has no 'data' dict")

    path = data.get('device_path')
    if not path:
        raise ValueError("connection_info['data'] has no 'device_path'")
    _check_text('device_path', path)
    if not os.path.isabs(path):
        raise ValueError('device_path must be an absolute path, got %r'
                         % path)

    if not isinstance(target_dev, str) or not _TARGET_DEV_RE.match(
            target_dev):
        raise ValueError('invalid target device name %r (expected a name '
                         'such as vdb or sdc)' % (target_dev,))
    if not isinstance(bus, str) or bus not in VALID_BUSES:
        raise ValueError('invalid disk bus %r (one of: %s)'
                         % (bus, ', '.join(sorted(VALID_BUSES))))

    serial = disk_serial(connection_info)
    vol_id = volume_id(connection_info)
    if not serial or not vol_id:
        raise ValueError("connection_info has neither 'serial' nor "
                         "data['volume_id']: the disk needs the volume id")
    _check_text('serial', serial)
    _check_text('volume id', vol_id)
    if not _SERIAL_RE.match(serial):
        raise ValueError('serial %r has characters libvirt refuses '
                         '(allowed: letters, digits, _ . + - and space)'
                         % serial)
    if not _ALIAS_ID_RE.match(vol_id):
        raise ValueError('volume id %r cannot form a libvirt alias '
                         '(allowed: letters, digits, _ . -)' % vol_id)

    access_mode = data.get('access_mode') or 'rw'
    if access_mode not in ACCESS_MODES:
        raise ValueError('unknown access_mode %r (expected rw or ro)'
                         % (access_mode,))
    return data, path, serial, vol_id


def build_disk_element(connection_info, target_dev, bus='virtio'):
    """Build the ``<disk>`` element as an ``lxml`` element.

    See :func:`build_disk_xml` for the arguments.
    """
    data, path, serial, vol_id = _validate(connection_info, target_dev, bus)
    src_type = source_type(path)

    disk = etree.Element('disk', type=src_type, device='disk')
    # Nova's 'local' volume driver sets no io mode; measured in guests,
    # io='native' is no faster on a loop device and slower on a file or
    # the emulator's FUSE view (tools/bench_disk_io.py).
    driver = etree.SubElement(disk, 'driver', name='qemu', type='raw',
                              cache='none')
    if _flag(data.get('discard')):
        driver.set('discard', 'unmap')
    source = etree.SubElement(disk, 'source')
    source.set('dev' if src_type == SOURCE_BLOCK else 'file', path)
    etree.SubElement(disk, 'target', dev=target_dev, bus=bus)
    if (data.get('access_mode') or 'rw') == 'ro':
        etree.SubElement(disk, 'readonly')
    if is_multiattach(connection_info):
        etree.SubElement(disk, 'shareable')
    etree.SubElement(disk, 'serial').text = serial
    iotune = iotune_values(data)
    if iotune:
        tune = etree.SubElement(disk, 'iotune')
        for key, value in iotune:
            etree.SubElement(tune, key).text = value
    etree.SubElement(disk, 'alias', name='ua-' + vol_id)
    return disk


def build_disk_xml(connection_info, target_dev, bus='virtio'):
    """Return the libvirt ``<disk>`` element for a volume, as a string.

    :param connection_info: the volume's connection info, ``{
        'driver_volume_type': 'local', 'serial': <volume id>, 'data': {
        'device_path': ..., 'volume_id': ..., 'disk_id': ...,
        'access_mode': 'rw'|'ro', 'discard': bool, 'multiattach': bool,
        'qos_specs': {front-end QoS keys}}}``
        (``multiattach`` may also be at the top level, where Nova puts it).
    :param target_dev: the guest device name, e.g. ``vdb``.
    :param bus: the target bus, ``virtio`` by default.
    :returns: the ``<disk>`` element, serialized (unicode string).
    :raises ValueError: a missing or malformed input, or a device path that
        is neither a block device nor a regular file.
    """
    disk = build_disk_element(connection_info, target_dev, bus)
    xml = etree.tostring(disk, encoding='unicode', pretty_print=True)
    LOG.debug('Disk XML for volume %(vol)s: %(xml)s',
              {'vol': volume_id(connection_info), 'xml': xml})
    return xml
