"""Map a connector (a compute host) to the ECS instance that is that host.

Each compute host is an ECS instance. The instance is found:

1. in ``ebs_host_instance_map`` (``host:instance`` pairs), by the
   connector's ``host``;
2. otherwise by the connector's ``system uuid`` (the SMBIOS uuid os-brick
   reads), which on ECS equals the instance's ``SerialNumber`` as listed
   by ``DescribeInstances``. The serial number map is cached and refreshed
   when a uuid is not found in it.
"""

import threading

from cinder import exception
from oslo_log import log as logging

from cinder_ebs_driver.i18n import _

LOG = logging.getLogger(__name__)

SYSTEM_UUID_KEY = 'system uuid'


def connector_host(connector):
    """Return the connector's host name or raise InvalidConnectorException."""
    host = (connector or {}).get('host')
    if not host or not isinstance(host, str):
        raise exception.InvalidConnectorException(missing='host')
    return host


class HostMapper(object):
    """Finds the ECS instance id of a connector; caches serial numbers."""

    def __init__(self, client, conf):
        self._client = client
        self._conf = conf
        self._serials = None
        self._names = None
        self._lock = threading.Lock()

    def _explicit_map(self):
        return dict(self._conf.safe_get('ebs_host_instance_map') or {})

    def _refresh(self):
        serials = {}
        names = {}
        for instance in self._client.list_instances():
            serial = (instance.get('SerialNumber') or '').strip().lower()
            if serial and instance.get('InstanceId'):
                serials[serial] = instance['InstanceId']
            if instance.get('HostName') and instance.get('InstanceId'):
                names[instance['InstanceId']] = instance['HostName']
        with self._lock:
            self._serials = serials
            self._names = names
        LOG.debug('Loaded the serial numbers of %d ECS instances.',
                  len(serials))
        return serials

    def _by_serial(self, system_uuid):
        serial = system_uuid.strip().lower()
        serials = self._serials
        if serials is None or serial not in serials:
            serials = self._refresh()
        return serials.get(serial)

    def host_of(self, instance_id):
        """The compute host name of an instance, or None if unknown.

        From ``ebs_host_instance_map``, else the instance's HostName
        (which the connector of a host whose instance is found by its
        serial number names as ``host``, the OS host name).
        """
        for host, mapped in self._explicit_map().items():
            if mapped == instance_id:
                return host
        names = self._names
        if names is None or instance_id not in names:
            self._refresh()
            names = self._names
        return names.get(instance_id)

    def instance_for(self, connector):
        """Return the instance id of the connector's host.

        :raises InvalidConnectorException: no host in the connector, or no
            instance found for it
        """
        host = connector_host(connector)
        instance_id = self._explicit_map().get(host)
        if instance_id:
            return instance_id
        system_uuid = connector.get(SYSTEM_UUID_KEY)
        if system_uuid and isinstance(system_uuid, str):
            instance_id = self._by_serial(system_uuid)
            if instance_id:
                return instance_id
        msg = (_('the ECS instance of host %(host)s (system uuid '
                 '%(uuid)s): no instance has that serial number and the '
                 'host is not listed in ebs_host_instance_map') %
               {'host': host, 'uuid': system_uuid or _('not reported')})
        LOG.error('Cannot map connector to an ECS instance: %s', msg)
        raise exception.InvalidConnectorException(missing=msg)
