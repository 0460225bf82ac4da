"""What the compute host brings to an attachment.

* the connector properties Cinder needs (os-brick), with a host name that
  can be overridden so that one machine can play several compute hosts;
* the os-brick connector for a connection's ``driver_volume_type``;
* the check that the hypervisor can share a disk between guests.
"""

import copy
import functools
import os
import shlex

from os_brick.initiator import connector as brick_connector
from oslo_log import log as logging
from oslo_utils import netutils

from nova_shim import exception

LOG = logging.getLogger(__name__)

# The oldest libvirt and QEMU that Nova 34 runs on
# (nova.virt.libvirt.driver.MIN_LIBVIRT_VERSION / MIN_QEMU_VERSION). Both
# share a disk between guests (<shareable/>, image locking with
# share-rw=on), which is why Nova no longer checks multi-attach separately.
MIN_LIBVIRT_VERSION = (8, 0, 0)
MIN_QEMU_VERSION = (6, 2, 0)

DEFAULT_ROOT_HELPER = 'sudo'


def version_tuple(number):
    """libvirt's version number (major * 1000000 + minor * 1000 + micro)."""
    return (number // 1000000, number // 1000 % 1000, number % 1000)


def version_string(version):
    return '.'.join(str(part) for part in version)


def check_can_share_disks(conn):
    """Raise unless libvirt and QEMU are new enough to share a disk.

    :param conn: an open ``libvirt.virConnect``.
    :raises HypervisorCannotShare: a version is below Nova's minimum.
    """
    libvirt_version = version_tuple(conn.getLibVersion())
    qemu_version = version_tuple(conn.getVersion())
    problems = []
    if libvirt_version < MIN_LIBVIRT_VERSION:
        problems.append('libvirt %s < %s' % (
            version_string(libvirt_version),
            version_string(MIN_LIBVIRT_VERSION)))
    if qemu_version < MIN_QEMU_VERSION:
        problems.append('QEMU %s < %s' % (
            version_string(qemu_version), version_string(MIN_QEMU_VERSION)))
    if problems:
        raise exception.HypervisorCannotShare(
            'this hypervisor cannot share a disk between guests: %s'
            % ', '.join(problems))
    LOG.debug('libvirt %(lv)s and QEMU %(qv)s can share disks',
              {'lv': version_string(libvirt_version),
               'qv': version_string(qemu_version)})


def init_privsep(root_helper=None):
    """Prepare os-brick's privileged calls.

    With a ``root_helper`` (e.g. ``sudo nova-rootwrap /etc/nova/
    rootwrap.conf``) they run in a privsep daemon started through it, as in
    nova-compute. Without one, a process that is already root runs them in
    process, and any other process uses ``sudo``.
    """
    from os_brick import privileged
    from oslo_privsep import priv_context

    if root_helper:
        priv_context.init(root_helper=shlex.split(root_helper))
    elif os.geteuid() == 0:
        privileged.default.set_client_mode(False)
        privileged.brick_privsep_hide_output.set_client_mode(False)
    else:
        priv_context.init(root_helper=[DEFAULT_ROOT_HELPER])


def root_helper_command(root_helper=None):
    """The command prefix os-brick uses for non-privsep commands."""
    if root_helper:
        return root_helper
    return '' if os.geteuid() == 0 else DEFAULT_ROOT_HELPER


@functools.lru_cache(maxsize=None)
def _probed_connector(root_helper, my_ip, multipath):
    """os-brick's connector properties, probed once per process.

    The probes (``findmnt`` and ``blkid`` for the root file system's uuid,
    the system uuid, the NVMe host NQN and host id, the iSCSI initiator
    name, the Fibre Channel HBAs, ...) read properties of the machine that
    do not change while a process runs, and cost about 0.1 s of
    subprocesses. None of os-brick's connectors uses the host name, so the
    probes are shared by every host name.
    """
    return brick_connector.get_connector_properties(
        root_helper, my_ip or netutils.get_my_ipv4(), multipath, False)


def get_host_connector(host=None, my_ip=None, multipath=False,
                       root_helper=None):
    """The connector properties of this host, as Nova sends them to Cinder.

    The same properties as os-brick's ``get_connector_properties`` (what
    Nova sends), probed once per process: see :func:`_probed_connector`.

    :param host: the host name to announce (default: the system's).
    :param my_ip: the address to announce (default: this host's IPv4).
    :returns: a new dict, which the caller may change.
    """
    props = copy.deepcopy(_probed_connector(
        root_helper_command(root_helper), my_ip, multipath))
    if host:
        props['host'] = host
    LOG.debug('Connector of host %(host)s: %(props)s',
              {'host': props.get('host'), 'props': props})
    return props


def get_volume_connector(driver_volume_type, root_helper=None,
                         multipath=False):
    """The os-brick connector for a connection's ``driver_volume_type``."""
    return brick_connector.InitiatorConnector.factory(
        driver_volume_type, root_helper_command(root_helper),
        use_multipath=multipath)
