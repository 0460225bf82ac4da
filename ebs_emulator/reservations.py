"""NVMe persistent reservations of one shared disk.

Every instance a disk is attached to is one NVMe host with its own host
identifier, so reservations act per instance. The calls are those of the
Linux block layer (``<linux/pr.h>``) as the kernel's NVMe driver turns
them into Reservation Register / Acquire / Release commands, and the
rules follow the NVMe base specification:

* register with ``old_key == 0`` registers (re-registering the same key
  succeeds, another key conflicts); with ``old_key != 0`` replaces the
  key; ``new_key == 0`` unregisters, as ``<linux/pr.h>`` documents. With
  ``ignore_key`` the current key is not checked;
* reserve (acquire) needs the host's registered key; the holder may
  acquire again with the same type only;
* release by a registered host that holds nothing succeeds and changes
  nothing; the holder must name the reservation's type;
* preempt names the caller's own key and the victim's key: preempting the
  holder's key (the caller's own included, which only changes the type)
  makes the caller the holder with the new type and unregisters the other
  hosts with that key; another key only unregisters those hosts; in an
  all-registrants reservation a victim key of 0 takes the reservation and
  unregisters every other host;
* clear drops every registration and the reservation;
* when the holder's registration goes, the reservation goes with it,
  except for the all-registrants types, which last while any registrant
  is left;
* the generation counts register, preempt and clear calls that succeed.

Reads and writes are checked against the reservation type (write
exclusive, exclusive access, and their registrants-only and
all-registrants variants).

Nothing here does I/O: :class:`DiskReservations` is the state of one
disk, its methods answer a :class:`Status` the way the device would.
"""

import enum

from nova_shim.fencing import pr_abi

PRType = pr_abi.PRType

EXCLUSIVE_ACCESS_TYPES = frozenset([
    PRType.EXCLUSIVE_ACCESS, PRType.EXCLUSIVE_ACCESS_REG_ONLY,
    PRType.EXCLUSIVE_ACCESS_ALL_REGS])
REGISTRANTS_ACCESS_TYPES = frozenset([
    PRType.WRITE_EXCLUSIVE_REG_ONLY, PRType.EXCLUSIVE_ACCESS_REG_ONLY,
    PRType.WRITE_EXCLUSIVE_ALL_REGS, PRType.EXCLUSIVE_ACCESS_ALL_REGS])
ALL_REGISTRANTS_TYPES = frozenset([
    PRType.WRITE_EXCLUSIVE_ALL_REGS, PRType.EXCLUSIVE_ACCESS_ALL_REGS])


class Status(enum.Enum):
    """What a reservation call answers."""

    SUCCESS = 'success'
    #: NVMe "Reservation Conflict": the ioctl returns
    #: ``PR_STS_RESERVATION_CONFLICT``.
    CONFLICT = 'conflict'
    #: NVMe "Invalid Field in Command": the ioctl fails with EINVAL.
    INVALID = 'invalid'


def _type_or_none(value):
    try:
        return PRType(value)
    except ValueError:
        return None


class DiskReservations(object):
    """Registrations and reservation of one disk.

    :param registrants: ``[(host, key), ...]`` in registration order.
    :param holder: the host holding a reservation of a single-holder type.
    :param rtype: the reservation type, or None when nothing is reserved.
    """

    def __init__(self, generation=0, registrants=(), holder=None,
                 rtype=None):
        self.generation = generation
        self.registrants = dict(registrants)
        self.rtype = PRType(rtype) if rtype else None
        self.holder = holder if self.rtype else None

    # -- queries ---------------------------------------------------------

    def holders(self):
        """The hosts that hold the reservation."""
        if self.rtype is None:
            return set()
        if self.rtype in ALL_REGISTRANTS_TYPES:
            return set(self.registrants)
        return {self.holder}

    def may_access(self, host, write):
        """True when ``host`` may read (or, with ``write``, write)."""
        if self.rtype is None or host in self.holders():
            return True
        if self.rtype in REGISTRANTS_ACCESS_TYPES and (
                host in self.registrants):
            return True
        if not write and self.rtype not in EXCLUSIVE_ACCESS_TYPES:
            return True
        return False

    def report(self):
        """The state in the shape of ``nvme resv-report``."""
        holders = self.holders()
        return {
            'generation': self.generation,
            'type': self.rtype.name if self.rtype else None,
            'holder': (self.holder if self.rtype is not None and
                       self.rtype not in ALL_REGISTRANTS_TYPES else None),
            'registrants': [
                {'host': host, 'key': '%#018x' % key,
                 'holds_reservation': host in holders}
                for host, key in self.registrants.items()],
        }

    # -- calls -----------------------------------------------------------

    def register(self, host, old_key, new_key, ignore_key=False):
        current = self.registrants.get(host)
        if new_key == 0:
            if current is None or (not ignore_key and current != old_key):
                return Status.CONFLICT
            self.drop_host(host)
            return Status.SUCCESS
        if old_key == 0:
            # Register: the key of a host already registered stays.
            if current is not None and current != new_key:
                return Status.CONFLICT
        elif current is None or (not ignore_key and current != old_key):
            # Replace.
            return Status.CONFLICT
        self.registrants[host] = new_key
        self.generation += 1
        return Status.SUCCESS

    def reserve(self, host, key, rtype):
        rtype = _type_or_none(rtype)
        if rtype is None:
            return Status.INVALID
        if self.registrants.get(host) != key:
            return Status.CONFLICT
        if self.rtype is None:
            self.rtype = rtype
            self.holder = host
            return Status.SUCCESS
        if host in self.holders() and rtype == self.rtype:
            return Status.SUCCESS
        return Status.CONFLICT

    def release(self, host, key, rtype):
        if self.registrants.get(host) != key:
            return Status.CONFLICT
        if host not in self.holders():
            return Status.SUCCESS
        if _type_or_none(rtype) != self.rtype:
            return Status.INVALID
        self.rtype = None
        self.holder = None
        return Status.SUCCESS

    def clear(self, host, key):
        if self.registrants.get(host) != key:
            return Status.CONFLICT
        self.registrants.clear()
        self.rtype = None
        self.holder = None
        self.generation += 1
        return Status.SUCCESS

    def preempt(self, host, key, victim_key, rtype):
        """Preempt (or preempt and abort: the same for the state)."""
        rtype = _type_or_none(rtype)
        if rtype is None:
            return Status.INVALID
        if self.registrants.get(host) != key:
            return Status.CONFLICT
        if self.rtype in ALL_REGISTRANTS_TYPES and victim_key == 0:
            self.rtype = rtype
            self.holder = host
            self._drop_hosts(h for h in list(self.registrants) if h != host)
            self.generation += 1
            return Status.SUCCESS
        if (self.rtype is not None and
                self.rtype not in ALL_REGISTRANTS_TYPES and
                victim_key == self.registrants.get(self.holder)):
            # The holder's key, possibly the caller's own: the caller
            # holds the reservation, of the new type.
            self.holder = host
            self.rtype = rtype
            self._drop_hosts(h for h, k in list(self.registrants.items())
                             if k == victim_key and h != host)
            self.generation += 1
            return Status.SUCCESS
        if victim_key == 0:
            return Status.INVALID
        victims = [h for h, k in self.registrants.items() if k == victim_key]
        if not victims:
            return Status.CONFLICT
        self._drop_hosts(victims)
        self.generation += 1
        return Status.SUCCESS

    def drop_host(self, host):
        """Unregister ``host`` (also when its disk is detached from it).

        :returns: True when the host was registered.
        """
        if host not in self.registrants:
            return False
        self._drop_hosts([host])
        self.generation += 1
        return True

    def _drop_hosts(self, hosts):
        for host in list(hosts):
            self.registrants.pop(host, None)
            if self.rtype is None:
                continue
            if self.rtype in ALL_REGISTRANTS_TYPES:
                if not self.registrants:
                    self.rtype = None
                    self.holder = None
            elif host == self.holder:
                self.rtype = None
                self.holder = None
