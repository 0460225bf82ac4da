"""A simulated compute host with a hypervisor: private libvirtd + a guest.

The host attaches volumes the way nova-compute does, through
:class:`nova_shim.attach.VolumeAttacher` with its own host name (so Cinder
maps it to its own emulator instance), into one tiny guest. The guest
reports on its serial console what it sees: the disk appearing, the record
it wrote or read (with O_DIRECT), the disk going away.
"""

import libvirt
from oslo_log import log as logging

from ebs_allinone.hosts import base
from ebs_allinone.hosts import guest_image
from ebs_allinone.hosts import guests
from ebs_allinone.hosts import libvirt_daemons
from nova_shim import attach
from nova_shim import guest as guest_mod

LOG = logging.getLogger(__name__)

DISK_TIMEOUT = 30
RECORD_TIMEOUT = 60


class GuestHost(base.SimulatedHost):
    """One simulated compute host: libvirtd, one guest, the shim."""

    mode = 'private libvirtd, one tiny guest under QEMU (TCG)'

    def __init__(self, name, instance_id, volume_api):
        super().__init__(name, instance_id, volume_api)
        self.daemons = libvirt_daemons.LibvirtDaemons(
            cache_dir=guest_image.qemu_cache_dir(),
            prefix='ebs-allinone-%s-' % name)
        self.conn = None
        self.attacher = None
        self.guest = None

    # -- life cycle -------------------------------------------------------
    def start(self, progress=None):
        guest_mod.silence_libvirt_errors()
        self.daemons.start()
        self.conn = libvirt.open(self.daemons.uri)
        self.attacher = attach.VolumeAttacher(
            self.conn, self.volume_api, host=self.name, my_ip='127.0.0.1')

    def stop(self):
        """Detach, remove the guest, stop libvirtd (each step tried)."""
        try:
            self.detach_all()
            if self.guest is not None:
                self.guest.remove()
        finally:
            if self.conn is not None:
                try:
                    self.conn.close()
                except libvirt.libvirtError:
                    LOG.warning('Closing the libvirt connection of %s failed',
                                self.name)
                self.conn = None
            self.daemons.stop()

    def pids(self):
        pids = dict(self.daemons.pids)
        if self.guest is not None and self.guest.qemu_pid:
            pids['qemu %s' % self.guest.name] = self.guest.qemu_pid
        return pids

    # -- the guest --------------------------------------------------------
    def define_guest(self, role, volume_id='', record='', **kw):
        """Define the guest that plays ``role`` on ``volume_id``.

        :param kw: more guest arguments (``offset``, ``interval_ms``).
        """
        self.guest = guests.Guest(
            self.conn, self.daemons, self.daemons.root, role=role,
            volume_id=volume_id, record=record,
            prefix='ebs-%s' % self.name, **kw)
        self.guest.define()

    def boot_guest(self):
        self.guest.boot(wait=False)

    def wait_guest(self, progress=None):
        """Wait until the guest's init runs; return the boot seconds."""
        return self.guest.wait_ready(progress)

    @property
    def guest_name(self):
        return self.guest.name

    @property
    def guest_role(self):
        return self.guest.role

    @property
    def uri(self):
        """The libvirt URI of this host's private libvirtd."""
        return self.daemons.uri

    @property
    def console_path(self):
        """The file the guest's serial console writes to."""
        return self.guest.console_path

    # -- volumes ----------------------------------------------------------
    def attach(self, volume_id):
        """Attach ``volume_id`` to the guest; wait until the guest sees it.

        :returns: {'attachment_id', 'device_path', 'disk_xml',
            'target_dev', 'guest_line'}.
        """
        result = self.attacher.attach(self.guest.name, volume_id)
        self._attached[volume_id] = result['attachment_id']
        seen = self.guest.wait_for_console(r'EBS-GUEST-DISK (vd\w+)',
                                           DISK_TIMEOUT)
        result['guest_line'] = seen.group(0)
        return result

    def detach(self, volume_id):
        """Detach ``volume_id``; wait until the guest has let it go."""
        result = self.attacher.detach(self.guest.name, volume_id)
        self._attached.pop(volume_id, None)
        self.guest.wait_for_console(r'EBS-GUEST-DISK-GONE vd\w+',
                                    DISK_TIMEOUT)
        return result

    def write_record(self, volume_id, record, progress=None):
        """The writer guest wrote ``record``: its console line."""
        return self._console_proof('EBS-GUEST-WROTE', record, progress)

    def read_record(self, volume_id, record, progress=None):
        """The reader guest read ``record``: its console line."""
        return self._console_proof('EBS-GUEST-READ', record, progress)

    def _console_proof(self, tag, record, progress):
        line = self.guest.wait_for_console(
            r'%s (\S+)' % tag, RECORD_TIMEOUT, progress)
        if line.group(1) != record:
            raise guests.GuestError('%s printed %r, expected %s %s' % (
                self.guest.name, line.group(0), tag, record))
        return 'guest %s console: %s' % (self.guest.name, line.group(0))
