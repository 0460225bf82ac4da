"""Releasing a host once its last attachments are gone.

``terminate_connection`` keeps a host's connection while another of the
volume's attachments on that host holds it. Cinder removes an attachment's
record only after ``terminate_connection`` returned, so when the last two
attachments on a host are deleted at the same moment, each termination
still sees the other one and keeps the connection: the disk would stay
attached to a host no attachment needs. Nothing tells the driver which
attachment a termination is for, so every termination that keeps a
connection leaves a re-check behind. A termination that would detach
reads the records afresh under the (volume, host) lock first, and keeps
the connection (with a re-check) when they show another attachment or an
attach that may be in flight there.

A :class:`HostReleaser` re-check reads the volume's attachment records a
moment later (and again, backing off, while an attach may be in flight),
under the same (volume, host) lock as attach and detach and the volume's
own lock:

* an attachment on the host still holds the connection: nothing to do;
* a reservation without a connector younger than an attach can take
  (``ebs_state_timeout`` and a margin) may be an attach to this host
  whose record Cinder has not updated yet (it records the connector only
  after ``initialize_connection`` returned): look again later;
* otherwise the disk is detached from the host's instance, if ECS still
  lists it there.

The re-checks live in the volume service's memory and die with it: they
only make the release prompt. The reconciliation
(:mod:`cinder_ebs_driver.reconcile`), which needs no memory, detaches what
a lost re-check would have at the service's next listing of its disks.
"""

import datetime
import threading
import weakref

from cinder import context as cinder_context
from cinder.db import api as cinder_db
from cinder import exception
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils

from cinder_ebs_driver import attach_locks
from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver.client import calls
from cinder_ebs_driver import exception as ebs_exc

LOG = logging.getLogger(__name__)

RESERVED = 'reserved'
# Seconds before the first re-check (Cinder removes the records right
# after the terminations returned), then doubling up to the last figure.
FIRST_RECHECK = 1.0
LONGEST_RECHECK_GAP = 60.0
# Added to ebs_state_timeout: how old a reservation may be and still be
# an attach in flight (Cinder's RPC timeout is 60 s by default).
IN_FLIGHT_MARGIN = 120.0

# Every releaser of this process, for stop_all.
_RELEASERS = weakref.WeakSet()


def stop_all():
    """Stop the re-checks of every releaser of this process.

    For services run in process (tests, benchmarks): a re-check left
    running would reach the next one's database and backend.
    """
    for releaser in list(_RELEASERS):
        releaser.stop()


def attachment_records(volume_id):
    """The volume's attachment records (but detached ones), as dicts.

    Read from Cinder's database API rather than as versioned objects:
    building those (with the joined volume) costs several times the
    query, on every termination.
    """
    ctxt = cinder_context.get_admin_context()
    return [attachment_record(row)
            for row in cinder_db.volume_attachment_get_all_by_volume_id(
                ctxt, volume_id)]


def attachment_record(row):
    """A row of Cinder's ``volume_attachment`` table as a record dict."""
    return {'attach_status': row.attach_status,
            'attached_host': row.attached_host,
            'connector': (jsonutils.loads(row.connector)
                          if row.connector else None),
            'created_at': row.created_at}


def _may_be_in_flight(attachment, max_age, now):
    """A reservation that may be an attach whose host is not recorded."""
    if (attachments.field(attachment, 'attach_status') != RESERVED
            or attachments.attachment_host(attachment)):
        return False
    created = attachments.field(attachment, 'created_at')
    if created is None:
        return True
    age = now - timeutils.normalize_time(created)
    return age < datetime.timedelta(seconds=max_age)


class HostReleaser(object):
    """Re-checks hosts whose connection a termination kept.

    :param attacher: the :class:`~cinder_ebs_driver.attachments.Attacher`
        that detaches.
    :param client: the backend client (reads the disk before detaching).
    :param conf: the backend's configuration.
    :param records: ``records(volume_id)`` answers the volume's attachment
        records (Cinder's database by default).
    :param sleep: ``sleep(seconds)`` waits between re-checks and answers
        True when the re-checks must stop (:meth:`stop` by default).
    :param start: ``start(function)`` runs a re-check in the background
        (a daemon thread, a green thread in cinder-volume, by default).
    """

    def __init__(self, attacher, client, conf, records=None, sleep=None,
                 start=None):
        self._attacher = attacher
        self._client = client
        self._records = records or attachment_records
        self._stopped = threading.Event()
        self._sleep = sleep or self._stopped.wait
        self._start = start or self._start_thread
        self._max_in_flight_age = (
            float(calls.conf_get(conf, 'ebs_state_timeout', 300))
            + IN_FLIGHT_MARGIN)
        self._pending = set()
        self._lock = threading.Lock()
        _RELEASERS.add(self)

    def records(self, volume_id):
        """The volume's attachment records (see the ``records`` param)."""
        return list(self._records(volume_id))

    def stop(self):
        """End the re-checks waiting to run; schedule none any more."""
        self._stopped.set()

    @staticmethod
    def _start_thread(function):
        thread = threading.Thread(target=function, daemon=True,
                                  name='ebs-host-release')
        thread.start()

    def schedule(self, volume, host, disk_id, instance_id):
        """Re-check in the background whether ``host`` still needs the disk.

        One re-check per (volume, host) runs at a time: it reads the
        records afresh each time, so a second one would learn nothing new.
        """
        key = (volume.id, host)
        with self._lock:
            if key in self._pending or self._stopped.is_set():
                return
            self._pending.add(key)

        def run():
            try:
                self._recheck(volume, host, disk_id, instance_id)
            except exception.LockCreationFailed:
                # The service is stopping (its coordinator is down).
                LOG.warning('Could not re-check whether host %(host)s still '
                            'needs disk %(disk)s: the service is stopping. '
                            'It may stay attached there.',
                            {'host': host, 'disk': disk_id})
            except Exception:
                LOG.exception('Re-checking whether host %(host)s still '
                              'needs disk %(disk)s failed; it may stay '
                              'attached there.',
                              {'host': host, 'disk': disk_id})
            finally:
                with self._lock:
                    self._pending.discard(key)

        self._start(run)

    def _recheck(self, volume, host, disk_id, instance_id):
        gap = FIRST_RECHECK
        waited = 0.0
        while True:
            if self._sleep(gap):
                return 'stopped'
            waited += gap
            # The volume's lock too: an extend or a delete, which detach
            # leftovers themselves, never runs along with a re-check.
            with attach_locks.held(attach_locks.attach_lock_names(
                    volume, host, counts_hosts=True)):
                verdict = self.release_if_unused(volume.id, host, disk_id,
                                                 instance_id)
            if verdict != 'in-flight':
                return verdict
            if waited > self._max_in_flight_age:
                # Every reservation seen at first is too old by now to be
                # in flight: new ones keep coming (attaches elsewhere).
                LOG.warning('Gave up re-checking whether host %(host)s '
                            'still needs disk %(disk)s: new attachments of '
                            'volume %(vol)s keep coming. It may stay '
                            'attached there until the volume is detached '
                            'from that host again, extended or deleted.',
                            {'host': host, 'disk': disk_id,
                             'vol': volume.id})
                return verdict
            gap = min(gap * 2, LONGEST_RECHECK_GAP)

    def host_needed(self, volume_id, host, terminating=0, attaching=0):
        """Whether the volume's records, read afresh, need it on ``host``.

        :param terminating: how many of the records on the host are being
            terminated by the caller (and are not needed any more): Cinder
            keeps an attachment's record, still holding its host, until
            ``terminate_connection`` returned.
        :param attaching: how many recent reservations are the caller's own
            attach to another host (Cinder records its connector only after
            ``initialize_connection`` returned).
        :returns: ``'kept'`` when another attachment holds the host,
            ``'in-flight'`` when a recent reservation may be an attach to
            it, None when nothing needs the disk there.
        """
        records = self.records(volume_id)
        held = sum(1 for record in records
                   if attachments.holds_host(record, host))
        if held > terminating:
            return 'kept'
        now = timeutils.utcnow()
        in_flight = sum(1 for record in records
                        if _may_be_in_flight(record, self._max_in_flight_age,
                                             now))
        if in_flight > attaching:
            return 'in-flight'
        return None

    def release_if_unused(self, volume_id, host, disk_id, instance_id,
                          attaching=0):
        """Detach the disk from the host if no attachment needs it there.

        The caller holds the (volume, host) lock and the volume's lock.
        ``attaching`` is as for :meth:`host_needed`.

        :returns: ``'kept'`` (an attachment holds the host),
            ``'in-flight'`` (an attach may be under way: look again),
            ``'detached'`` or ``'not-attached'``.
        """
        verdict = self.host_needed(volume_id, host, attaching=attaching)
        if verdict is not None:
            return verdict
        try:
            disk = self._client.get_disk(disk_id)
        except ebs_exc.EBSNotFound:
            return 'not-attached'
        if instance_id not in ebs_client.attached_instance_ids(disk):
            return 'not-attached'
        LOG.info('No attachment of volume %(vol)s is left on host %(host)s; '
                 'detaching disk %(disk)s from instance %(inst)s.',
                 {'vol': volume_id, 'host': host, 'disk': disk_id,
                  'inst': instance_id})
        self._attacher.detach(disk_id, instance_id)
        return 'detached'
