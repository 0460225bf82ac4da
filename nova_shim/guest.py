"""A libvirt domain as the attach code uses it.

Besides device attach/detach, the guest keeps a small record per attached
volume in the domain's ``<metadata>`` (attachment id, host name, device
path), so that a later detach, possibly from another process, finds the
Cinder attachment and knows the host connection it used. No connection
secrets are stored there: for a ``local`` connection the device path is
all a disconnect needs; any other connection info is read back from the
volume API at detach time.
"""

import time

import libvirt
from lxml import etree
from oslo_log import log as logging
from oslo_utils import uuidutils

from nova_shim import exception

LOG = logging.getLogger(__name__)

METADATA_URI = 'http://openstack.org/xmlns/cinder-ebs-driver/nova-shim/1'
METADATA_KEY = 'ebsshim'
_RECORD_FIELDS = ('attachment', 'host', 'device-path', 'driver-volume-type')


def parse_volume_records(metadata_xml):
    """Return {volume id: {field: value}} from our metadata element."""
    if not metadata_xml:
        return {}
    root = etree.fromstring(metadata_xml.encode())
    records = {}
    for node in root.iter('{*}volume', 'volume'):
        volume_id = node.get('id')
        if volume_id:
            records[volume_id] = {field: node.get(field)
                                  for field in _RECORD_FIELDS
                                  if node.get(field) is not None}
    return records


def format_volume_records(records):
    """The metadata element for ``records`` (see parse_volume_records)."""
    root = etree.Element('volumes')
    for volume_id in sorted(records):
        node = etree.SubElement(root, 'volume', id=volume_id)
        for field in _RECORD_FIELDS:
            value = records[volume_id].get(field)
            if value is not None:
                node.set(field, value)
    return etree.tostring(root, encoding='unicode')


def _ignore_libvirt_error(_ctx, _error):
    pass


def silence_libvirt_errors():
    """Stop libvirt from printing errors that are raised as exceptions."""
    libvirt.registerErrorHandler(_ignore_libvirt_error, None)


class Guest(object):
    """Wraps a ``libvirt.virDomain``."""

    def __init__(self, domain):
        self.domain = domain

    @classmethod
    def lookup(cls, conn, instance):
        """Find a domain by UUID or by name."""
        try:
            if uuidutils.is_uuid_like(instance):
                return cls(conn.lookupByUUIDString(instance))
            return cls(conn.lookupByName(instance))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise exception.GuestNotFound(instance)
            raise

    @property
    def uuid(self):
        return self.domain.UUIDString()

    @property
    def name(self):
        return self.domain.name()

    def is_active(self):
        return bool(self.domain.isActive())

    def is_persistent(self):
        return bool(self.domain.isPersistent())

    def affect_flags(self):
        """LIVE for a running guest, CONFIG for a defined one (or both)."""
        flags = 0
        if self.is_active():
            flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
        if self.is_persistent():
            flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
        return flags

    def xml(self, inactive=False):
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        return self.domain.XMLDesc(flags)

    def xmls(self):
        """The XML documents in force: the live one and/or the config."""
        docs = []
        if self.is_active():
            docs.append(self.xml())
        if self.is_persistent():
            docs.append(self.xml(inactive=True))
        return docs

    # -- devices ---------------------------------------------------------
    def attach_device(self, device_xml, flags):
        start = time.monotonic()
        self.domain.attachDeviceFlags(device_xml, flags)
        LOG.debug('attachDeviceFlags on %(name)s took %(ms).1f ms',
                  {'name': self.name,
                   'ms': (time.monotonic() - start) * 1000})

    def detach_device(self, device_xml, flags):
        self.domain.detachDeviceFlags(device_xml, flags)

    # -- metadata ----------------------------------------------------------
    def volume_records(self):
        """Our per-volume records, from the live XML or else the config."""
        for flags in (libvirt.VIR_DOMAIN_AFFECT_CURRENT,
                      libvirt.VIR_DOMAIN_AFFECT_CONFIG):
            try:
                return parse_volume_records(self.domain.metadata(
                    libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_URI,
                    flags))
            except libvirt.libvirtError as exc:
                if exc.get_error_code() not in (
                        libvirt.VIR_ERR_NO_DOMAIN_METADATA,
                        libvirt.VIR_ERR_OPERATION_INVALID):
                    raise
        return {}

    def _store_records(self, records):
        flags = self.affect_flags()
        if records:
            self.domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                                    format_volume_records(records),
                                    METADATA_KEY, METADATA_URI, flags)
        else:
            self.domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                                    None, None, METADATA_URI, flags)

    def set_volume_record(self, volume_id, record):
        records = self.volume_records()
        records[volume_id] = record
        self._store_records(records)

    def drop_volume_record(self, volume_id):
        records = self.volume_records()
        if records.pop(volume_id, None) is not None:
            self._store_records(records)
