"""The private virtlogd + libvirtd pair of the tests, as a fixture.

The daemons themselves are :mod:`ebs_allinone.hosts.libvirt_daemons`.
"""

import fixtures

from ebs_allinone.daemons import process
from ebs_allinone.hosts import libvirt_daemons

find_binary = libvirt_daemons.find_binary
process_gone = process.process_gone
wait_gone = process.wait_gone


def skip_reason():
    """Why the real libvirt tests cannot run here, or None."""
    return libvirt_daemons.unavailable_reason()


class LibvirtDaemons(fixtures.Fixture):
    """Started on setUp, stopped (by PID) on cleanup.

    Every attribute of
    :class:`ebs_allinone.hosts.libvirt_daemons.LibvirtDaemons`
    (``uri``, ``root``, ``pids``, ``read_log``, ``qemu_pid``, ...) is
    available on the fixture.
    """

    def __init__(self, start_timeout=60, cache_dir=None):
        super().__init__()
        self.daemons = libvirt_daemons.LibvirtDaemons(
            start_timeout=start_timeout, cache_dir=cache_dir,
            prefix='ebs-libvirtd-test-')

    def _setUp(self):
        self.daemons.start()
        self.addCleanup(self.daemons.stop)

    def __getattr__(self, name):
        if name == 'daemons':
            raise AttributeError(name)
        return getattr(self.daemons, name)
