"""Backend statistics reported to the scheduler.

One pool per backend (named after the zone). Capacity is what the cloud
quota allows, so it is reported as ``infinite`` unless the operator sets
``ebs_pool_capacity_gb``. The provisioned capacity comes from one
paginated DescribeDisks listing of the disks that carry Cinder's
``cinder-volume-id`` tag (a tag filter, whatever its value): other disks of
the region cost nothing, and 1,000 Cinder disks take ten calls. Between
two listings the driver adds the disks it creates, deletes or grows
itself (:func:`add_provisioned`).

Setting ``ebs_pool_capacity_gb`` is recommended with Cinder 29: its
scheduler's ``HostManager._get_usage`` appends the empty usage that
``_get_pool_usage`` returns for a pool whose total or free capacity is
``infinite`` (or ``unknown``), and ``_notify_capacity_usage`` then fails
with ``KeyError: 'type'``. Placement is not affected (the capabilities are
stored before), but the scheduler logs that error each time the pool's
figures change and sends no capacity notifications for the backend.
"""

from oslo_log import log as logging

from cinder_ebs_driver import naming
from cinder_ebs_driver import qos
from cinder_ebs_driver import volume_types

LOG = logging.getLogger(__name__)

VENDOR_NAME = 'Alibaba Cloud'
STORAGE_PROTOCOL = 'NVMe'
INFINITE = 'infinite'


def pool_name(conf):
    return conf.safe_get('ebs_zone_id') or conf.safe_get(
        'volume_backend_name') or 'ebs'


def provisioned_gb(disks, zone):
    """Sum the sizes of the zone's disks (regional disks count too)."""
    total = 0
    for disk in disks:
        if (zone and disk.get('ZoneId') and disk['ZoneId'] != zone and
                disk.get('Category') not in
                volume_types.REGIONAL_CATEGORIES):
            continue
        try:
            total += int(disk.get('Size') or 0)
        except (TypeError, ValueError):
            continue
    return total


def add_provisioned(data, conf, delta_gb):
    """Count ``delta_gb`` more GiB of disks in stats made by :func:`build`.

    For the changes the driver makes itself between two listings.
    """
    capacity = conf.safe_get('ebs_pool_capacity_gb') or 0
    for pool in data['pools']:
        provisioned = max(pool['provisioned_capacity_gb'] + delta_gb, 0)
        pool['provisioned_capacity_gb'] = provisioned
        if capacity:
            pool['free_capacity_gb'] = max(capacity - provisioned, 0)


def cinder_disks(client):
    """The backend's disks that carry Cinder's tag (one listing)."""
    return client.list_disks(tags={naming.VOLUME_TAG: None})


def build(conf, disks, backend_name, driver_version):
    """Return the stats dict of the backend from its Cinder disks."""
    zone = conf.safe_get('ebs_zone_id')
    provisioned = provisioned_gb(disks, zone)
    capacity = conf.safe_get('ebs_pool_capacity_gb') or 0
    if capacity:
        total, free = capacity, max(capacity - provisioned, 0)
    else:
        total = free = INFINITE
    pool = {
        'pool_name': pool_name(conf),
        'total_capacity_gb': total,
        'free_capacity_gb': free,
        'provisioned_capacity_gb': provisioned,
        'reserved_percentage': conf.safe_get('reserved_percentage') or 0,
        'max_over_subscription_ratio': conf.safe_get(
            'max_over_subscription_ratio') or 1.0,
        'thin_provisioning_support': True,
        'thick_provisioning_support': False,
        'multiattach': True,
        'online_extend_support': True,
        'QoS_support': True,
        # What back-end QoS specs can ask of one disk (cinder_ebs_driver
        # .qos): filterable as capabilities in a volume type's extra specs.
        'max_iops_per_volume': qos.LEVELS['PL3'].iops_cap,
        'max_throughput_mbps_per_volume': qos.LEVELS['PL3'].mbps_cap,
        'max_provisioned_iops_per_volume': qos.MAX_PROVISIONED_IOPS,
        'consistencygroup_support': False,
        'consistent_group_snapshot_enabled': False,
        'location_info': 'ebs:%s:%s' % (conf.safe_get('ebs_region_id'),
                                        zone),
        # The disk of a volume type without ebs: extra specs: its smallest
        # size (20 GiB for ESSD PL1, 1 GiB for PL0) is what a client needs
        # to know before it creates one.
        'ebs_default_category': conf.safe_get('ebs_default_category'),
        'ebs_default_performance_level': conf.safe_get(
            'ebs_default_performance_level'),
    }
    return {
        'volume_backend_name': backend_name,
        'vendor_name': VENDOR_NAME,
        'driver_version': driver_version,
        'storage_protocol': STORAGE_PROTOCOL,
        'multiattach': True,
        'online_extend_support': True,
        'sparse_copy_volume': True,
        'thin_provisioning_support': True,
        'pools': [pool],
    }
