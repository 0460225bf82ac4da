"""Active/standby lease on a shared disk, fenced by a reservation.

Every host that shares a multi-attach disk runs one :class:`LeaseAgent`.
At any time at most one of them is primary: it holds the write-exclusive
persistent reservation with its own key and refreshes the lease record
(:mod:`nova_shim.fencing.lease`) every refresh interval. The others are
standbys: they read the record every refresh interval and time, on their
own monotonic clock (no clock sync between hosts), how long it has not
changed.

Takeover (a standby becomes primary):

* when the record has not changed for the takeover timeout, when it is
  marked released (a clean stop of the primary), or when there is no
  record at all;
* register this host's key, preempt-and-abort the holder's key (plain
  preempt where the device refuses the abort), reserve write-exclusive,
  write the record with the next epoch, then start the on-promote hook.

The primary stops heartbeating, runs the on-demote hook and exits with
:data:`EXIT_DEMOTED` at the first write or reservation call the device
refuses (a preempted host's key is gone, so everything it sends conflicts),
or when it could not refresh the record for the takeover timeout.
A stop request (SIGTERM) on the primary runs the on-demote hook, marks the
record released, releases the reservation and unregisters, so a standby
takes over within about one refresh interval.

Safety does not depend on the timing: a host that lost the lease is cut
off by the device. The timing decides when a slow primary gets replaced;
:func:`check_timing` keeps it from replacing one that is merely slow.
"""

import json
import os
import select
import time

from oslo_log import log as logging

from nova_shim.fencing import hooks as hooks_mod
from nova_shim.fencing import lease
from nova_shim.fencing import reservations

LOG = logging.getLogger(__name__)

#: Stopped on request; as primary, the lease was handed over.
EXIT_OK = 0
#: An unexpected error (see the log).
EXIT_ERROR = 1
#: Invalid options (or the record's offset holds other data).
EXIT_CONFIG = 2
#: This host lost the lease: the device refused its write or reservation
#: call (another host preempted it), or it could not refresh in time.
EXIT_DEMOTED = 3
#: The device has no persistent reservations: fencing is impossible.
EXIT_NO_RESERVATIONS = 4

STANDBY = 'standby'
PRIMARY = 'primary'
DEMOTED = 'demoted'
RELEASED = 'released'
STOPPED = 'stopped'

#: ``takeover_timeout >= TIMING_FACTOR * refresh_interval + io_latency``:
#: a standby polls every refresh interval, so it sees a healthy primary's
#: change at most two refresh intervals plus one write's latency apart;
#: the third interval tolerates one late heartbeat.
TIMING_FACTOR = 3
#: A standby reads the record this many times per refresh interval, so
#: that it notices the last heartbeat of a primary that stopped within a
#: quarter interval: a takeover then ends within the takeover timeout plus
#: one refresh interval, with room for the reservation calls.
STANDBY_READS_PER_REFRESH = 4


def check_timing(refresh_interval, takeover_timeout, io_latency):
    """Check the rule relating the timing options.

    :raises ValueError: with the rule and the values in the message.
    """
    if refresh_interval <= 0:
        raise ValueError('the refresh interval must be positive, got %s'
                         % refresh_interval)
    if io_latency < 0:
        raise ValueError('the I/O latency budget cannot be negative, got %s'
                         % io_latency)
    needed = TIMING_FACTOR * refresh_interval + io_latency
    if takeover_timeout < needed:
        raise ValueError(
            'takeover timeout %.3gs is too short: it must be at least %d x '
            'refresh interval (%.3gs) + I/O latency budget (%.3gs) = %.3gs, '
            'or a primary that is merely slow would be taken over'
            % (takeover_timeout, TIMING_FACTOR, refresh_interval,
               io_latency, needed))


def is_conflict(exc):
    """The device refused the call because of a reservation."""
    return (isinstance(exc, reservations.ReservationConflict)
            or reservations.is_conflict_error(exc))


class SystemClock(object):
    """The monotonic clock; :meth:`sleep` ends early on :meth:`wake`."""

    def __init__(self):
        self._rfd, self._wfd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def monotonic(self):
        return time.monotonic()

    def sleep(self, seconds):
        if seconds > 0:
            ready, _, _ = select.select([self._rfd], [], [], seconds)
            if not ready:
                return
        try:
            while os.read(self._rfd, 64):
                pass
        except BlockingIOError:
            pass

    def wake(self):
        """Safe to call from a signal handler."""
        try:
            os.write(self._wfd, b'w')
        except BlockingIOError:
            pass  # the pipe is full: a wake-up is already pending

    def close(self):
        os.close(self._rfd)
        os.close(self._wfd)


class LeaseAgent(object):
    """The state machine of one host.

    :param device: a :class:`nova_shim.fencing.device.LeaseDevice` or any
        object with its methods (``read_record``, ``write_record``,
        ``register``, ``unregister``, ``reserve``, ``release``,
        ``preempt``).
    :param clock: an object with ``monotonic()`` and ``sleep(seconds)``
        (:class:`SystemClock`); ``sleep`` may return early after
        :meth:`request_stop`.
    :param host: this host's name, written in the record.
    :param key: this host's reservation key (per host: see
        :func:`nova_shim.fencing.reservations.host_key`).
    :param hooks: a :class:`nova_shim.fencing.hooks.Hooks` (or an object
        with ``promote(info)``, ``demote(info)`` and ``poll()``).
    :param state_file: write the current state there as JSON at every
        change (for supervisors and tests).
    """

    def __init__(self, device, clock, host, key, refresh_interval=0.5,
                 takeover_timeout=2.0, io_latency=0.5, hooks=None,
                 state_file=None, device_name=None):
        check_timing(refresh_interval, takeover_timeout, io_latency)
        lease.check_host_name(host)
        if isinstance(key, bool) or not isinstance(key, int) or not (
                0 < key < 1 << 64):
            raise ValueError('the reservation key must be a non-zero '
                             '64-bit int, got %r' % (key,))
        self.device = device
        self.clock = clock
        self.host = host
        self.key = key
        self.refresh_interval = refresh_interval
        self.takeover_timeout = takeover_timeout
        self.io_latency = io_latency
        self.hooks = hooks or hooks_mod.Hooks()
        self.state_file = state_file
        self.device_name = device_name or getattr(device, 'path', '?')
        self.state = None
        #: The record this host wrote last, when primary.
        self.record = None
        self._stop_requested = False
        self._abort_supported = True
        # What a standby saw: the last valid record, and since when the
        # record has looked the same.
        self._seen = None
        self._seen_valid = None
        self._seen_since = None
        self._read_problem = None
        self._next_attempt = None

    # -- state changes -------------------------------------------------

    def request_stop(self):
        """Ask the agent to stop (hand over when primary); signal safe."""
        self._stop_requested = True
        wake = getattr(self.clock, 'wake', None)
        if wake is not None:
            wake()

    def _info(self, record):
        info = {'state': self.state, 'device': self.device_name,
                'holder': '-', 'key': '0', 'epoch': 0}
        if record is not None:
            info.update(holder=record.holder, key='%#018x' % record.key,
                        epoch=record.epoch)
        return info

    def _enter(self, state, record=None, reason=None):
        self.state = state
        info = self._info(record)
        LOG.info('lease state=%(state)s epoch=%(epoch)d holder=%(holder)s '
                 'key=%(key)s host=%(host)s device=%(device)s%(reason)s',
                 dict(info, host=self.host,
                      reason=' reason=%s' % reason if reason else ''))
        if self.state_file:
            info.update(host=self.host, own_key='%#018x' % self.key,
                        pid=os.getpid(), reason=reason)
            tmp = self.state_file + '.tmp'
            with open(tmp, 'w') as f:
                json.dump(info, f, sort_keys=True)
            os.replace(tmp, self.state_file)
        return info

    # -- main loop -----------------------------------------------------

    def run(self):
        """Run until stopped or demoted; return the exit status."""
        try:
            self.device.register(self.key)
        except reservations.ReservationNotSupported as exc:
            LOG.error('lease: %s; without persistent reservations a '
                      'failover cannot fence the old primary', exc)
            return EXIT_NO_RESERVATIONS
        try:
            lease.decode(self.device.read_record())
        except lease.NotALeaseRecord as exc:
            LOG.error('lease: %(err)s at offset %(off)s of %(dev)s; '
                      'refusing to overwrite it (choose another offset)',
                      {'err': exc, 'dev': self.device_name,
                       'off': getattr(self.device, 'offset', '?')})
            self._leave_standby()
            return EXIT_CONFIG
        except lease.RecordError:
            pass  # judged like any corrupt record, below
        self._enter(STANDBY)
        while True:
            if not self._standby():
                self._leave_standby()
                self._enter(STOPPED)
                return EXIT_OK
            status = self._primary()
            if status is not None:
                return status

    def _leave_standby(self):
        try:
            self.device.unregister(self.key)
        except (reservations.ReservationError, OSError) as exc:
            LOG.debug('lease: unregistering on stop: %s', exc)

    # -- standby -------------------------------------------------------

    def _observe(self, now):
        """Read the record; track since when it looks the same."""
        try:
            record = lease.decode(self.device.read_record())
        except (lease.RecordError, OSError) as exc:
            # Neither a heartbeat nor a change: the timer runs on.
            if str(exc) != self._read_problem:
                LOG.warning('lease: cannot use the record on %(dev)s: '
                            '%(err)s', {'dev': self.device_name,
                                        'err': exc})
                self._read_problem = str(exc)
            return
        self._read_problem = None
        if self._seen_since is None or record != self._seen:
            self._seen = record
            self._seen_since = now
        if record is not None:
            self._seen_valid = record

    def _takeover_due(self, now):
        if self._next_attempt is not None and now < self._next_attempt:
            return False
        if self._seen_since is None:
            return False  # nothing readable yet
        record = self._seen
        if record is None or record.released:
            return True
        return now - self._seen_since >= self.takeover_timeout

    def _standby(self):
        """Wait as standby; True once primary, False when asked to stop."""
        while not self._stop_requested:
            now = self.clock.monotonic()
            self._observe(now)
            if self._takeover_due(now):
                if self._takeover():
                    return True
                self._next_attempt = (self.clock.monotonic()
                                      + self.takeover_timeout)
            self.clock.sleep(self.refresh_interval /
                             STANDBY_READS_PER_REFRESH)
        return False

    def _preempt(self, victim):
        if self._abort_supported:
            try:
                self.device.preempt(self.key, victim, abort=True)
                return
            except reservations.ReservationConflict:
                raise
            except reservations.ReservationError as exc:
                LOG.info('lease: preempt-and-abort refused (%s); using '
                         'preempt', exc)
                self._abort_supported = False
        self.device.preempt(self.key, victim, abort=False)

    def _takeover(self):
        previous = self._seen_valid
        victim = previous.key if previous is not None else None
        try:
            self.device.register(self.key)
            if victim and victim != self.key:
                try:
                    self._preempt(victim)
                except reservations.ReservationConflict as exc:
                    # The victim is gone already (it released and
                    # unregistered); the reserve below decides.
                    LOG.debug('lease: preempt of %(victim)#018x: %(err)s',
                              {'victim': victim, 'err': exc})
            self.device.reserve(self.key)
        except reservations.ReservationConflict as exc:
            LOG.warning('lease: takeover refused, another host holds the '
                        'reservation (%s)', exc)
            return False
        except (reservations.ReservationError, OSError) as exc:
            LOG.error('lease: takeover failed: %s', exc)
            return False
        epoch = previous.epoch + 1 if previous is not None else 1
        record = lease.Record(self.host, self.key, epoch)
        try:
            self.device.write_record(record.encode())
        except OSError as exc:
            LOG.error('lease: writing epoch %(epoch)d failed: %(err)s',
                      {'epoch': epoch, 'err': exc})
            return False
        self.record = record
        info = self._enter(PRIMARY, record,
                           reason='released' if previous is not None
                           and previous.released else None)
        self.hooks.promote(info)
        return True

    # -- primary -------------------------------------------------------

    def _primary(self):
        """Refresh as primary; return the exit status, None to stand by."""
        last_ok = self.clock.monotonic()
        next_beat = last_ok + self.refresh_interval
        failing = False
        while True:
            now = self.clock.monotonic()
            if next_beat > now and not self._stop_requested:
                self.clock.sleep(next_beat - now)
            self.hooks.poll()
            if self._stop_requested:
                return self._hand_over()
            now = self.clock.monotonic()
            if now < next_beat:
                continue
            record = self.record.beat()
            try:
                self.device.write_record(record.encode())
            except OSError as exc:
                if is_conflict(exc):
                    return self._demote('write refused: %s'
                                        % os.strerror(exc.errno))
                if not failing:
                    LOG.warning('lease: refresh failed on %(dev)s: %(err)s',
                                {'dev': self.device_name, 'err': exc})
                    failing = True
                if self.clock.monotonic() - last_ok >= self.takeover_timeout:
                    return self._demote('no refresh for %ss'
                                        % self.takeover_timeout)
            else:
                self.record = record
                done = self.clock.monotonic()
                if failing:
                    LOG.info('lease: refresh works again on %s',
                             self.device_name)
                    failing = False
                if done - now > self.io_latency:
                    LOG.warning('lease: a refresh took %(took).3fs, more '
                                'than the I/O latency budget %(budget)ss',
                                {'took': done - now,
                                 'budget': self.io_latency})
                last_ok = done
            next_beat += self.refresh_interval
            now = self.clock.monotonic()
            if next_beat <= now:
                next_beat = now + self.refresh_interval

    def _demote(self, reason, run_hook=True):
        info = self._enter(DEMOTED, self.record, reason=reason)
        if run_hook:
            self.hooks.demote(dict(info, reason=reason))
        return EXIT_DEMOTED

    def _hand_over(self):
        info = self._info(self.record)
        self.hooks.demote(dict(info, state=RELEASED, reason='stop'))
        record = self.record.release()
        try:
            self.device.write_record(record.encode())
        except OSError as exc:
            if is_conflict(exc):
                return self._demote('write refused: %s'
                                    % os.strerror(exc.errno),
                                    run_hook=False)
            LOG.error('lease: cannot mark the record released (%s); a '
                      'standby takes over after the takeover timeout', exc)
            self._enter(STOPPED, self.record, reason='hand-over failed')
            return EXIT_ERROR
        self.record = record
        # Courtesy only: a standby that saw the mark preempts this key
        # anyway, and may have done so already (then these conflict).
        for call in (self.device.release, self.device.unregister):
            try:
                call(self.key)
            except reservations.ReservationConflict:
                break
            except (reservations.ReservationError, OSError) as exc:
                LOG.warning('lease: %s on hand-over', exc)
        self._enter(RELEASED, self.record)
        return EXIT_OK
