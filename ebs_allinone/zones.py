"""The zones of the all-in-one (``--zones N``): one EBS backend each.

A real region has several zones and ECS attaches a zonal disk only to
instances of its zone (emulator rule ``attach-same-zone``). Operators run
one Cinder backend per zone, each in a Cinder availability zone of its
own. With one zone (the default) the all-in-one has its one backend
``ebs`` in Cinder's default availability zone, as before. With ``N``
zones it has the backends ``ebs-a``, ``ebs-b``... (``enabled_backends``,
each also its ``volume_backend_name``) in the emulator zones
``emu-zone-a``, ``emu-zone-b``... (``ebs_zone_id``) and the Cinder
availability zones ``zone-a``, ``zone-b``... (``backend_availability_zone``).

The compute hosts are spread over the zones in blocks (host-a and host-b
in the first of two zones, host-c and host-d in the second); each volume
service has an emulator instance in every zone, and each backend maps the
volume services' connector to the instance of its own zone (see
:func:`backend_host_map`).
"""

import socket

from ebs_allinone.cinder import config as cinder_config
from ebs_emulator import config as emulator_config

MAX_ZONES = 4
MAX_BACKENDS_PER_ZONE = 2

Zone = cinder_config.Zone


def zones(count=1):
    """The zones of ``--zones count``, in order."""
    if not 1 <= count <= MAX_ZONES:
        raise ValueError('between 1 and %d zones, not %d'
                         % (MAX_ZONES, count))
    if count == 1:
        return [Zone(0, cinder_config.BACKEND, cinder_config.BACKEND_NAME,
                     emulator_config.DEFAULT_ZONE, None)]
    found = []
    for index in range(count):
        letter = chr(ord('a') + index)
        found.append(Zone(index, 'ebs-%s' % letter, 'ebs-%s' % letter,
                          'emu-zone-%s' % letter, 'zone-%s' % letter))
    return found


def backends(zone_list, per_zone=1):
    """The backends of the zones, ``per_zone`` in each, zone by zone.

    A backend is a :data:`Zone` entry. A zone's second backend (``ebs2``,
    ``ebs-a2``...) shares its emulator zone, availability zone and volume
    hosts' instances (the same ``index``), with a name of its own: two
    backends a volume type can choose between without leaving the zone,
    as Tempest's multi-backend tests expect of the default zone.
    """
    if not 1 <= per_zone <= MAX_BACKENDS_PER_ZONE:
        raise ValueError('between 1 and %d backends per zone, not %d'
                         % (MAX_BACKENDS_PER_ZONE, per_zone))
    found = []
    for zone in zone_list:
        found.append(zone)
        for number in range(2, per_zone + 1):
            name = '%s%d' % (zone.backend, number)
            found.append(zone._replace(backend=name, backend_name=name))
    return found


def spread(names, count):
    """{host name: zone index}: ``names`` in ``count`` blocks, in order.

    The first zones get one more host when they do not divide evenly.
    """
    placed = {}
    base, extra = divmod(len(names), count)
    start = 0
    for index in range(count):
        size = base + (1 if index < extra else 0)
        for name in names[start:start + size]:
            placed[name] = index
        start += size
    return placed


def volume_instance_name(volume_host, zone):
    """The HostName of a volume service's emulator instance in ``zone``.

    The first zone keeps the volume host's own name (one zone: as before).
    """
    if zone.index == 0:
        return volume_host
    return '%s-%s' % (volume_host, zone.emulator_zone.rsplit('-', 1)[-1])


def connector_host():
    """The ``host`` of the connector of a Cinder service on this machine.

    Cinder's generic copies (volume from image, to image, migration) and
    cinder-backup attach volumes to their own machine with os-brick's
    connector properties, whose ``host`` is the machine's host name, not
    the service's ``[DEFAULT] host``.
    """
    return socket.gethostname()


def backend_host_map(zone, compute_instances, volume_instances,
                     volume_hosts):
    """The ``ebs_host_instance_map`` of ``zone``'s backend section.

    Every compute host is mapped to its instance, whatever its zone: a
    host of another zone is found, and ECS refuses to attach there
    (``ResourcesNotInSameZone``), which the driver reports clearly, as on
    a real region where every instance is found by its serial number.

    :param compute_instances: {compute host: instance id}.
    :param volume_instances: {HostName: instance id} of the volume
        services' instances (all zones).
    :param volume_hosts: the volume services' ``[DEFAULT] host`` names.
    :returns: the compute hosts, each volume host and this
        machine's connector host mapped to their instance in ``zone``
        (the machine's to the first volume host's).
    """
    mapping = dict(compute_instances)
    for volume_host in volume_hosts:
        mapping[volume_host] = volume_instances[
            volume_instance_name(volume_host, zone)]
    mapping.setdefault(connector_host(), mapping[volume_hosts[0]])
    return mapping
