"""A fenced failover between hosts sharing one disk, run and measured.

Every host runs a lease agent (``ebs-lease-agent``, as separate
processes) on its own view of the shared disk, plus an application that
writes to the disk all the time: a guest under QEMU, or
:mod:`ebs_allinone.hosts.appwriter`. One failover:

1. the primary host is frozen: SIGSTOP of its agent and its application
   (the guest's QEMU), as when a host hangs;
2. the standby's agent sees the heartbeat stop, preempts the primary's
   key and reserves the disk; the takeover time is measured from the
   freeze to the first write from the standby's host that the emulator
   accepts (polled from its reservation counters);
3. the old primary is resumed (SIGCONT): its agent's next write is
   refused, it demotes and exits; its application keeps writing. Every
   write from that host after the preempt must be refused: the emulator
   counts them (attempted, refused), and any accepted one is a
   split-brain write.
"""

import json
import os
import signal
import subprocess
import sys
import time

from ebs_allinone.daemons import process

# Exit status of an agent that lost the lease (nova_shim.fencing.agent).
EXIT_DEMOTED = 3
POLL = 0.005
AGENT_START_TIMEOUT = 30


class FailoverError(Exception):
    """A failover did not go as it must."""


def accepted(counts):
    return counts.get('writes', 0) - counts.get('writes_refused', 0)


class LeaseAgentProcess(object):
    """``ebs-lease-agent`` for one host, as its own process."""

    def __init__(self, host, device, workdir, refresh_interval=None,
                 takeover_timeout=None):
        self.host = host
        self.device = device
        self.state_file = os.path.join(workdir, 'lease-%s.json' % host)
        self.log_path = os.path.join(workdir, 'lease-%s.log' % host)
        self.argv = [
            sys.executable, '-m', 'nova_shim.fencing.cmd',
            '--device', device, '--host-name', host,
            # Each host its own identity, hence its own reservation key.
            '--host-nqn', 'nqn.2014-08.org.openstack:ebs-allinone:%s' % host,
            '--state-file', self.state_file]
        if refresh_interval is not None:
            self.argv += ['--refresh-interval', str(refresh_interval)]
        if takeover_timeout is not None:
            self.argv += ['--takeover-timeout', str(takeover_timeout)]
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        try:
            os.unlink(self.state_file)
        except FileNotFoundError:
            pass
        log = open(self.log_path, 'ab')
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()

    def state(self):
        try:
            with open(self.state_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def wait_state(self, wanted, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state().get('state')
            if state == wanted:
                return self.state()
            if self.proc.poll() is not None:
                raise FailoverError('the lease agent of %s exited with %s '
                                    'before becoming %s; %s' % (
                                        self.host, process.exit_status(
                                            self.proc.returncode),
                                        wanted, self.log_tail()))
            time.sleep(0.02)
        raise FailoverError('the lease agent of %s is %s, not %s, after '
                            '%ds' % (self.host, self.state().get('state'),
                                     wanted, timeout))

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise FailoverError('the lease agent of %s did not exit within '
                                '%ds' % (self.host, timeout))

    def log_tail(self):
        """``the last lines of its log PATH:`` and those lines."""
        return 'the last lines of its log %s:\n%s' % (
            self.log_path, '\n'.join(process.last_lines(self.log_path)))

    def stop(self):
        """SIGTERM (a primary hands over); SIGCONT first if frozen."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        process.stop_process(self.proc, 'lease agent of %s' % self.host,
                             timeout=15)
        return self.proc.returncode


class FailoverHost(object):
    """What a failover needs of one host.

    :param app_pids: callable returning the PIDs of the host's
        application (frozen with the agent).
    """

    def __init__(self, name, instance_id, device_path, agent, app_pids):
        self.name = name
        self.instance_id = instance_id
        self.device_path = device_path
        self.agent = agent
        self.app_pids = app_pids

    def signal_all(self, signum):
        for pid in [self.agent.pid] + list(self.app_pids()):
            if pid:
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass


def start_agents(primary, standby, timeout=AGENT_START_TIMEOUT):
    """Start the agents of two hosts: the first becomes primary.

    :returns: the state files' contents of both once settled.
    """
    primary.agent.start()
    primary_state = primary.agent.wait_state('primary', timeout)
    standby.agent.start()
    return primary_state, standby.agent.wait_state('standby', timeout)


class Failover(object):
    """Failovers on one disk between :class:`FailoverHost` objects.

    :param counters: callable returning ``{instance id: {counter: n}}``
        of the disk (the emulator's reservation report).
    """

    def __init__(self, counters, refresh_interval, takeover_timeout,
                 settle=1.0):
        self.counters = counters
        self.refresh_interval = refresh_interval
        self.takeover_timeout = takeover_timeout
        self.settle = settle

    @property
    def bound(self):
        """The longest takeover that counts as on time."""
        return self.takeover_timeout + self.refresh_interval

    def _counts(self, host):
        return self.counters().get(host.instance_id, {})

    def run(self, primary, standby):
        """Fail over from ``primary`` to ``standby``; return the figures."""
        before = accepted(self._counts(standby))
        frozen_at = time.monotonic()
        primary.signal_all(signal.SIGSTOP)
        try:
            deadline = frozen_at + 3 * self.bound + 10
            while accepted(self._counts(standby)) <= before:
                if time.monotonic() > deadline:
                    raise FailoverError(
                        '%s did not take over within %.0fs; %s' % (
                            standby.name, deadline - frozen_at,
                            standby.agent.log_tail()))
                time.sleep(POLL)
            takeover = time.monotonic() - frozen_at
            fenced = self._counts(primary)
            standby.agent.wait_state('primary', 10)
        finally:
            primary.signal_all(signal.SIGCONT)
        status = primary.agent.wait_exit(max(10, 5 * self.bound))
        # The old primary's application goes on trying for a while.
        time.sleep(self.settle)
        after = self._counts(primary)
        attempted = after.get('writes', 0) - fenced.get('writes', 0)
        refused = (after.get('writes_refused', 0) -
                   fenced.get('writes_refused', 0))
        return {
            'from': primary.name, 'to': standby.name,
            'takeover_seconds': takeover,
            'on_time': takeover <= self.bound,
            'fenced_writes_attempted': attempted,
            'fenced_writes_refused': refused,
            'split_brain_writes': attempted - refused,
            'old_primary_exit_status': status,
            'new_primary': standby.agent.state(),
        }

    @staticmethod
    def held(result):
        """True when the failover is correct and on time."""
        return (result['split_brain_writes'] == 0 and
                result['fenced_writes_attempted'] > 0 and
                result['old_primary_exit_status'] == EXIT_DEMOTED and
                result['on_time'])
