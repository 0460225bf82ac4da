"""``ebs-allinone failover``: the fenced failover with real guests.

The first two hosts each boot a guest that writes records all the time;
then the steps of :mod:`ebs_allinone.scenarios.failover_steps` run the
failover and check the fencing.
"""

from ebs_allinone.scenarios import demo as demo_mod
from ebs_allinone.scenarios import failover_steps


class FailoverDemo(demo_mod.Demo):
    """``ebs-allinone failover``: the failover with real guests."""

    def steps(self):
        hosts = self.stack.names
        steps = self.startup.steps() + [
            ('Create a multi-attach volume type at microversion %s'
             % demo_mod.AT, self.create_type),
            ('Create a %d GiB multi-attach volume' % demo_mod.SIZE_GB,
             self.create_volume),
        ]
        if not self.degraded:
            steps.append(('Boot a guest that writes all the time on %s'
                          % ' and '.join(hosts[:2]), self.boot_appenders))
        for name in hosts:
            steps.append(('Attach the volume on %s' % name,
                          lambda name=name: self.attach(name)))
        self.failover = failover_steps.FailoverSteps(
            self, guest_apps=not self.degraded)
        steps += self.failover.steps()
        for name in hosts:
            steps.append(('Detach the volume from %s' % name,
                          lambda name=name: self.detach(name)))
        steps += [
            ('Delete the volume and the type', self.delete_all),
            ('The EBS backend is empty', self.backend_empty),
        ]
        return steps

    def run(self):
        if self.fencing_unavailable:
            self.out.say('Cannot fail over here: persistent reservations '
                         'are not enforced (%s).' % self.fencing_unavailable)
            return False
        return super().run()

    def boot_appenders(self):
        for index, host in enumerate(self.stack.hosts[:2]):
            host.define_guest('appender', self.volume.id,
                              'guest-%s' % host.name,
                              offset=failover_steps.APP_OFFSETS[index],
                              interval_ms=failover_steps.APP_INTERVAL_MS)
            host.boot_guest()
        for host in self.stack.hosts[:2]:
            seconds = host.wait_guest(
                self.out.progress_for('booting %s' % host.guest_name))
            self.out.detail('%s: guest %s (writes every %d ms) booted in '
                            '%.1f s' % (host.name, host.guest_name,
                                        failover_steps.APP_INTERVAL_MS,
                                        seconds))
