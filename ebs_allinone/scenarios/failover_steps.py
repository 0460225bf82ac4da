"""The fenced failover as steps of the all-in-one.

Used twice: as a short part at the end of ``ebs-allinone demo`` (the
applications are writer processes on the hosts' device paths) and by
``ebs-allinone failover`` (:mod:`ebs_allinone.scenarios.failover`), where
each host's application is a guest that writes records all the time.
Either way the first two hosts share the volume, each runs a lease agent
on its own view of the disk, and
:class:`ebs_allinone.scenarios.failover_run.Failover` freezes the primary
and measures the takeover and the fencing.
"""

import os
import signal

from ebs_allinone.daemons import process
from ebs_allinone.hosts import appwriter
from ebs_allinone.scenarios import failover_run
from ebs_allinone.scenarios.report import StepFailed
from ebs_emulator import resv_report

# Where each host's application writes; the lease record is in the last
# block of the disk.
APP_OFFSETS = (1 << 20, 2 << 20)
APP_INTERVAL_MS = 20
REFRESH_INTERVAL = 0.5
TAKEOVER_TIMEOUT = 2.0


class FailoverSteps(object):
    """Agents on the first two hosts, a failover, the fencing checked.

    :param demo: the running :class:`ebs_allinone.scenarios.demo.Demo` (volume
        attached on every host, ``device_paths`` filled in).
    :param guest_apps: the hosts' guests are the applications (role
        ``appender``); else writer processes are started.
    """

    def __init__(self, demo, guest_apps=False):
        self.demo = demo
        self.guest_apps = guest_apps
        self.hosts = []
        self.writers = []
        self.result = None

    @property
    def names(self):
        return self.demo.names[:2]

    def steps(self):
        primary, standby = self.names
        return [
            ('Lease agents: %s primary, %s standby'
             % (primary, standby), self.start_agents),
            ('Freeze %s; %s takes over the disk' % (primary, standby),
             self.fail_over),
            ('Resume %s: it is fenced, its writes are refused' % primary,
             self.check_fenced),
            ('Stop the lease agents (%s hands over)' % standby,
             self.stop_agents),
        ]

    def enforced(self):
        state = self.demo.stack.emulator.state().get('service', {})
        return bool(state.get('reservations_enforced'))

    def _counters(self):
        return (self._report() or {}).get('counters', {})

    def start_agents(self):
        workdir = self.demo.stack.path('failover')
        os.makedirs(workdir, exist_ok=True)
        for index, name in enumerate(self.names):
            host = self.demo.stack.host(name)
            device = self.demo.device_paths[name]
            agent = failover_run.LeaseAgentProcess(
                name, device, workdir, REFRESH_INTERVAL, TAKEOVER_TIMEOUT)
            if self.guest_apps:
                app_pids = (lambda host=host: [host.guest.qemu_pid])
            else:
                writer = appwriter.start(
                    device, APP_OFFSETS[index], 'app-%s' % name,
                    APP_INTERVAL_MS, os.path.join(workdir, 'app-%s.log'
                                                  % name))
                self.writers.append(writer)
                self.demo.stack.pids['%s application' % name] = writer.pid
                app_pids = (lambda writer=writer: [writer.pid])
            self.hosts.append(failover_run.FailoverHost(
                name, host.instance_id, device, agent, app_pids))
        primary, standby = self.hosts
        states = failover_run.start_agents(primary, standby)
        for host in self.hosts:
            self.demo.stack.pids['%s lease agent' % host.name] = (
                host.agent.pid)
        self.demo.out.detail('%s: primary, epoch %s, key %s' % (
            primary.name, states[0]['epoch'], states[0]['own_key']))
        self.demo.out.detail('%s: standby, key %s (one key per host)' % (
            standby.name, states[1]['own_key']))
        self._show_reservations()

    def fail_over(self):
        primary, standby = self.hosts
        run = failover_run.Failover(self._counters, REFRESH_INTERVAL,
                                    TAKEOVER_TIMEOUT)
        self.result = result = run.run(primary, standby)
        self.demo.out.detail(
            'froze %s (its lease agent and %s); %s took over in %.2f s '
            '(takeover timeout %.1f s + refresh interval %.1f s = %.1f s)'
            % (primary.name, 'its guest' if self.guest_apps else
               'its application', standby.name, result['takeover_seconds'],
               TAKEOVER_TIMEOUT, REFRESH_INTERVAL, run.bound))
        self.demo.out.detail('new primary %s, epoch %s' % (
            standby.name, result['new_primary'].get('epoch')))
        if not result['on_time']:
            raise StepFailed('the takeover took %.2f s, more than %.1f s'
                             % (result['takeover_seconds'], run.bound))

    def check_fenced(self):
        result = self.result
        if result is None:
            raise StepFailed('no failover ran')
        primary = self.hosts[0]
        self.demo.out.detail(
            '%s after the preempt: %d writes attempted, %d refused by the '
            'emulator, %d accepted (split-brain)' % (
                primary.name, result['fenced_writes_attempted'],
                result['fenced_writes_refused'],
                result['split_brain_writes']))
        self.demo.out.detail('the lease agent of %s exited with status %s '
                             '(3: fenced, demoted)' % (
                                 primary.name,
                                 result['old_primary_exit_status']))
        if self.guest_apps:
            for host in self.hosts:
                console = self.demo.stack.host(host.name).guest.console()
                self.demo.out.detail('%s guest: last write %s' % (
                    host.name, _last_write(console)))
        self._show_reservations()
        if result['split_brain_writes']:
            raise StepFailed('%d writes of the fenced host were accepted'
                             % result['split_brain_writes'])
        if not result['fenced_writes_attempted']:
            raise StepFailed('the fenced host attempted no write')
        if result['old_primary_exit_status'] != failover_run.EXIT_DEMOTED:
            raise StepFailed('the old primary exited with %s, not %d'
                             % (result['old_primary_exit_status'],
                                failover_run.EXIT_DEMOTED))

    def stop_agents(self):
        statuses = [(host.name, host.agent.stop()) for host in self.hosts]
        self._stop_writers()
        self.demo.out.detail('agents stopped: %s' % ', '.join(
            '%s exit %s' % item for item in statuses))
        self._show_reservations()
        entry = self._report()
        if entry and entry.get('type'):
            raise StepFailed('the disk is still reserved after the agents '
                             'stopped: %s' % entry)

    def _stop_writers(self):
        for writer in self.writers:
            try:
                os.kill(writer.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            process.stop_process(writer, 'application writer')
        self.writers = []

    def cleanup(self):
        for host in self.hosts:
            host.agent.stop()
        self._stop_writers()

    def _report(self):
        report = self.demo.stack.emulator.admin('GET', 'reservations')
        return report['disks'].get(self.demo.disk_id)

    def _show_reservations(self):
        entry = self._report()
        if entry:
            for line in resv_report.format_disk(
                    self.demo.disk_id, entry).splitlines():
                self.demo.out.detail(line)


def _last_write(console):
    for line in reversed(console.splitlines()):
        if line.startswith('EBS-GUEST-WRITE-'):
            return line.split('EBS-GUEST-', 1)[1]
    return 'none'
