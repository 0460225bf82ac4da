"""The disks of a libvirt domain, read from its XML, and what follows.

Pure functions (no libvirt connection, no volume service) that the attach
and detach of :mod:`nova_shim.attach` decide with: find the disk of a
volume (by its ``ua-<volume id>`` alias, else its serial), choose the next
free guest device name, and tell which other guests still use a host
device or a volume.
"""

import os
import string

from lxml import etree

from nova_shim import exception

ALIAS_PREFIX = 'ua-'
BUS_PREFIXES = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd',
                'ide': 'hd', 'xen': 'xvd'}


def _disk_info(node):
    target = node.find('target')
    source = node.find('source')
    alias = node.find('alias')
    return {
        'target_dev': target.get('dev') if target is not None else None,
        'bus': target.get('bus') if target is not None else None,
        'serial': node.findtext('serial'),
        'alias': alias.get('name') if alias is not None else None,
        'source': (source.get('dev') or source.get('file'))
        if source is not None else None,
        'shareable': node.find('shareable') is not None,
        'xml': etree.tostring(node, encoding='unicode'),
    }


def list_disks(domain_xml):
    """Every ``<disk>`` of a domain as a dict.

    Keys: target_dev, bus, serial, alias, source, shareable, xml.
    """
    root = etree.fromstring(domain_xml.encode())
    return [_disk_info(node) for node in root.findall('./devices/disk')]


def find_volume_disk(domain_xml, volume_id):
    """The disk of ``volume_id`` in a domain, or None.

    Matched by the ``ua-<volume id>`` alias first, then by the serial (a
    disk attached by other means).
    """
    disks = list_disks(domain_xml)
    for info in disks:
        if info['alias'] == ALIAS_PREFIX + volume_id:
            return info
    for info in disks:
        if info['serial'] == volume_id:
            return info
    return None


def target_dev_name(prefix, index):
    """``vd`` + a, b, ... z, aa, ab, ... (the Linux disk naming)."""
    letters = ''
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = string.ascii_lowercase[rest] + letters
    return prefix + letters


def choose_target_dev(domain_xmls, bus='virtio', limit=702):
    """The first free device name for ``bus``, from ``vdb`` on.

    ``vda`` is left to a root disk, as Nova does. All given XML documents
    (live and config) are considered.

    :raises NoFreeTargetDevice: every name up to ``limit`` is taken.
    """
    if isinstance(domain_xmls, str):
        domain_xmls = [domain_xmls]
    prefix = BUS_PREFIXES.get(bus, 'vd')
    used = set()
    for doc in domain_xmls:
        root = etree.fromstring(doc.encode())
        for target in root.findall('./devices/disk/target'):
            used.add(target.get('dev'))
    for index in range(1, limit):
        name = target_dev_name(prefix, index)
        if name not in used:
            return name
    raise exception.NoFreeTargetDevice(
        'no free %s device name for bus %s' % (prefix, bus))


def guests_using_device(other_guest_disks, device_path,
                        resolve=os.path.realpath):
    """Names of the guests whose disks use the host device ``device_path``.

    :param other_guest_disks: {guest name: [disk dicts of list_disks]} for
        the OTHER guests of this host.
    :param device_path: the host device of the connection.
    :param resolve: maps a path to its canonical form (symlinks such as
        ``/dev/disk/by-id/...`` resolved).
    :returns: a sorted list of guest names; the host connection must stay
        while it is not empty.
    """
    if not device_path:
        return []
    wanted = {device_path, resolve(device_path)}
    return sorted(name for name, disks in other_guest_disks.items()
                  if any(d['source'] and
                         {d['source'], resolve(d['source'])} & wanted
                         for d in disks))


def guests_with_volume(other_guest_disks, volume_id):
    """Names of the guests that have a disk of ``volume_id``."""
    return sorted(name for name, disks in other_guest_disks.items()
                  if any(d['serial'] == volume_id or
                         d['alias'] == ALIAS_PREFIX + volume_id
                         for d in disks))
