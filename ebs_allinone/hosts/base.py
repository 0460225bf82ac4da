"""What a simulated compute host offers the stack and the scenarios.

Two kinds exist: :class:`ebs_allinone.hosts.device.DeviceHost` (no
hypervisor; data through the host device path) and
:class:`ebs_allinone.hosts.guest.GuestHost` (a private libvirtd and one
tiny guest). The stack starts and stops them; the scenarios attach,
detach and move records through this surface only.
"""

import abc

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class SimulatedHost(metaclass=abc.ABCMeta):
    """One simulated compute host.

    :param name: the host name given to Cinder in the connector.
    :param instance_id: its emulator instance.
    :param volume_api: a :class:`nova_shim.volume_api.VolumeAPI`.
    """

    #: One line on how the host reaches its volumes, for the report.
    mode = None

    def __init__(self, name, instance_id, volume_api):
        self.name = name
        self.instance_id = instance_id
        self.volume_api = volume_api
        # volume id -> what detach needs.
        self._attached = {}

    @abc.abstractmethod
    def start(self, progress=None):
        """Get ready to attach (connector, hypervisor)."""

    @abc.abstractmethod
    def stop(self):
        """Detach what is attached and stop what the host runs."""

    @abc.abstractmethod
    def pids(self):
        """{name: pid} of the processes the host runs."""

    @abc.abstractmethod
    def attach(self, volume_id):
        """Attach ``volume_id``.

        :returns: at least ``attachment_id``, ``device_path``, ``disk_xml``
            and ``target_dev``.
        """

    @abc.abstractmethod
    def detach(self, volume_id):
        """Detach ``volume_id``; return at least ``attachment_id``."""

    @abc.abstractmethod
    def write_record(self, volume_id, record, progress=None):
        """``record`` is on the disk; return what proves it."""

    @abc.abstractmethod
    def read_record(self, volume_id, record, progress=None):
        """The disk holds ``record``; return what proves it."""

    def has_volume(self, volume_id):
        return volume_id in self._attached

    def detach_all(self):
        """Detach whatever is still attached (best effort)."""
        for volume_id in list(self._attached):
            try:
                self.detach(volume_id)
            except Exception:
                LOG.exception('Detaching %s from %s failed', volume_id,
                              self.name)
