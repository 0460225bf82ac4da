"""The tiny TCG guest of the tests, as a fixture.

The guest itself is :class:`ebs_allinone.hosts.guests.Guest`.
"""

import fixtures

from ebs_allinone.hosts import guests

serial_for_guest = guests.serial_for_guest
domain_xml = guests.domain_xml


class GuestFixture(fixtures.Fixture):
    """A persistent domain running the tiny guest with a role.

    :param role: ``writer``, ``reader`` or ``idle`` (see guest_image).
    :param volume_id: the disk the guest waits for (its serial).
    :param record: what the writer writes / the reader waits for.
    :param start: boot it; ``wait``: until its init runs.
    :param kw: more arguments of the guest (``offset``, ``interval_ms``).

    Every attribute of the guest (``name``, ``uuid``, ``domain``,
    ``qemu_pid``, ``console()``, ``wait_for_console()``, ...) is available
    on the fixture.
    """

    def __init__(self, conn, libvirtd, workdir, role='idle', volume_id='',
                 record='', start=True, wait=True, boot_timeout=60, **kw):
        super().__init__()
        self.guest = guests.Guest(conn, libvirtd, workdir, role=role,
                                  volume_id=volume_id, record=record,
                                  prefix='ebs-test', boot_timeout=boot_timeout,
                                  **kw)
        self.start = start
        self.wait = wait

    def _setUp(self):
        self.guest.define()
        self.addCleanup(self.guest.remove)
        if self.start:
            self.guest.boot(wait=self.wait)

    def __getattr__(self, name):
        if name == 'guest':
            raise AttributeError(name)
        return getattr(self.guest, name)
