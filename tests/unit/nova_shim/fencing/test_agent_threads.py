"""Lease agents running concurrently on real time, on one fake disk.

The scenarios run in a fresh interpreter: other test modules import
libraries that monkey-patch threads and ``select`` with eventlet, which the
agent (a plain process) never runs under.
"""

import signal
import subprocess
import sys
import threading
import time

import testtools

from nova_shim.fencing import agent as agent_mod
from nova_shim.fencing import lease
from nova_shim.fencing import reservations
from tests.unit.nova_shim.fencing import fake_lease_disk

REFRESH = 0.05
TIMEOUT = 0.3
LATENCY = 0.1
WAIT = 30  # seconds, a bound for a broken test only


class LockedDevice(fake_lease_disk.FakeDevice):
    """A host's view whose calls hold the disk's lock; writes can freeze."""

    def __init__(self, disk, host, lock):
        super().__init__(disk, host)
        self.lock = lock
        self.thawed = threading.Event()
        self.thawed.set()

    def write_record(self, block):
        self.thawed.wait(WAIT)
        with self.lock:
            super().write_record(block)

    def read_record(self):
        with self.lock:
            return super().read_record()

    def _locked(name):
        def call(self, *args, **kwargs):
            with self.lock:
                return getattr(fake_lease_disk.FakeDevice, name)(
                    self, *args, **kwargs)
        return call

    register = _locked('register')
    unregister = _locked('unregister')
    reserve = _locked('reserve')
    release = _locked('release')
    preempt = _locked('preempt')


class Runner(object):

    def __init__(self, cleanups, disk, lock, host):
        self.device = LockedDevice(disk, host, lock)
        self.clock = agent_mod.SystemClock()
        cleanups.append(self.clock.close)
        self.agent = agent_mod.LeaseAgent(
            self.device, self.clock, host,
            reservations.host_key(nqn='nqn.test:' + host),
            refresh_interval=REFRESH, takeover_timeout=TIMEOUT,
            io_latency=LATENCY)
        self.status = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        cleanups.insert(0, self.stop)

    def _run(self):
        self.status = self.agent.run()

    def stop(self):
        self.device.thawed.set()
        self.agent.request_stop()
        self.thread.join(WAIT)
        return self.status


def wait_for(predicate):
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out')
        time.sleep(0.01)


def _check(expected, observed):
    if expected != observed:
        raise AssertionError('%r != %r' % (expected, observed))


def switchover_then_fenced_failover():
    disk = fake_lease_disk.FakeDisk()
    lock = threading.Lock()
    offset = fake_lease_disk.FakeDevice(disk, 'test').offset
    cleanups = []

    def record():
        with lock:
            found = lease.decode(disk.read('test', offset))
        return found.holder, found.epoch

    try:
        a = Runner(cleanups, disk, lock, 'host-a')
        wait_for(lambda: a.agent.state == agent_mod.PRIMARY)
        b = Runner(cleanups, disk, lock, 'host-b')
        wait_for(lambda: b.agent.state == agent_mod.STANDBY)
        time.sleep(3 * TIMEOUT)
        # A live primary keeps the lease.
        _check(agent_mod.STANDBY, b.agent.state)
        _check(('host-a', 1), record())

        # Planned switchover: A stops, B takes over.
        _check(agent_mod.EXIT_OK, a.stop())
        _check(agent_mod.RELEASED, a.agent.state)
        wait_for(lambda: b.agent.state == agent_mod.PRIMARY)
        _check(('host-b', 2), record())

        # B freezes inside a write; C takes over and fences it.
        b.device.thawed.clear()
        c = Runner(cleanups, disk, lock, 'host-c')
        wait_for(lambda: c.agent.state == agent_mod.PRIMARY)
        _check(('host-c', 3), record())
        _check(agent_mod.PRIMARY, b.agent.state)
        b.device.thawed.set()
        b.thread.join(WAIT)
        _check(agent_mod.EXIT_DEMOTED, b.status)
        _check(agent_mod.DEMOTED, b.agent.state)
        # C is still primary and its record is intact.
        time.sleep(2 * REFRESH)
        _check(('host-c', 3), record())
        _check('host-c', disk.holder)
    finally:
        for cleanup in cleanups:
            cleanup()


def sleep_and_wake_from_a_signal_handler():
    clock = agent_mod.SystemClock()
    start = time.monotonic()
    clock.sleep(0.05)
    _check(True, time.monotonic() - start >= 0.05)

    signal.signal(signal.SIGUSR1, lambda signum, frame: clock.wake())
    timer = threading.Timer(0.1, signal.pthread_kill,
                            (threading.main_thread().ident, signal.SIGUSR1))
    timer.start()
    start = time.monotonic()
    clock.sleep(WAIT)
    _check(True, time.monotonic() - start < WAIT)
    # The wake-up was used up: the next sleep lasts.
    start = time.monotonic()
    clock.sleep(0.05)
    _check(True, time.monotonic() - start >= 0.05)
    clock.close()


class ConcurrentAgentsTestCase(testtools.TestCase):

    def run_scenario(self, name):
        proc = subprocess.run(
            [sys.executable, '-c',
             'from tests.unit.nova_shim.fencing import test_agent_threads '
             'as m; m.%s()' % name],
            capture_output=True, text=True, timeout=4 * WAIT)
        self.assertEqual(0, proc.returncode, proc.stderr)

    def test_switchover_then_fenced_failover(self):
        self.run_scenario('switchover_then_fenced_failover')

    def test_sleep_and_wake_from_a_signal_handler(self):
        self.run_scenario('sleep_and_wake_from_a_signal_handler')
