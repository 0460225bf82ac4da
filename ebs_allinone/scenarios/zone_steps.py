"""The demo's steps with several zones (``demo --zones N``).

One volume per availability zone, each checked to be on its zone's
backend and its disk in the backend's emulator zone; the volume of the
last zone is refused, clearly, by a host of the first zone (nothing
attached on the backend) and attaches on a host of its own zone.
"""

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.hosts import device
from ebs_allinone.scenarios.report import StepFailed

SIZE_GB = 1


def check(condition, message, *args):
    if not condition:
        raise StepFailed(message % args if args else message)


class ZoneSteps(object):
    """Steps of a :class:`ebs_allinone.scenarios.demo.Demo` with zones."""

    def __init__(self, demo):
        self.demo = demo
        self.stack = demo.stack
        # {zone: volume}
        self.volumes = {}

    @property
    def cinder(self):
        return self.demo.cinder

    def steps(self):
        zones = self.stack.zones
        last = zones[-1]
        first_host = self.stack.zone_hosts(zones[0])[0]
        own_host = self.stack.zone_hosts(last)[0]
        return [
            ('Availability zones %s: a volume in each lands on its backend'
             % ', '.join(z.availability_zone for z in zones),
             self.volume_per_zone),
            ('A volume of %s does not attach on %s (%s), it does on %s'
             % (last.availability_zone, first_host,
                zones[0].availability_zone, own_host),
             lambda: self.cross_zone(last, first_host, own_host)),
        ]

    def volume_per_zone(self):
        listed = {az.zoneName for az in self.cinder.availability_zones.list()
                  if az.zoneState.get('available')}
        wanted = {z.availability_zone for z in self.stack.zones}
        check(wanted <= listed, 'availability zones %s, expected %s',
              sorted(listed), sorted(wanted))
        for zone in self.stack.zones:
            volume = self.cinder.volumes.create(
                SIZE_GB, volume_type=self.demo.type.id,
                availability_zone=zone.availability_zone,
                name='ebs-allinone-%s' % zone.availability_zone)
            self.demo.volumes.append(volume)
            volume = cinder_api.wait_for_status(
                self.cinder.volumes, volume.id, ('available',),
                progress=self.demo.out.progress_for(
                    'waiting for the volume in %s' % zone.availability_zone))
            self.volumes[zone] = volume
            host = getattr(volume, 'os-vol-host-attr:host')
            own = self.stack.zone_backend_names(zone)
            check(any('@%s#' % backend in host for backend in own),
                  'volume %s in %s is on %s', volume.id,
                  zone.availability_zone, host)
            disk = self.demo.backend.disk_of_volume(volume.id)
            check(disk is not None and disk['ZoneId'] == zone.emulator_zone,
                  'the disk of volume %s is %s', volume.id, disk)
            self.demo.out.detail('%s: volume %s on %s, disk %s in %s' % (
                zone.availability_zone, volume.id, host, disk['DiskId'],
                disk['ZoneId']))

    def cross_zone(self, zone, other_host, own_host):
        """Attach through Cinder's API with each host's connector.

        As ``serve`` shows it (``attachment-create --connect``), not into
        a guest: the guests of the demo hold its shared volume.
        """
        volume = self.volumes[zone]
        service = self.stack.client(cinder_api.MULTIATTACH_VERSION,
                                    service=True)
        try:
            attachment = service.attachments.create(
                volume.id, connector(other_host),
                device.server_id_for(other_host))
        except Exception as exc:
            message = str(exc)
        else:
            service.attachments.delete(attachment['id'])
            raise StepFailed('%s attached volume %s of %s' % (
                other_host, volume.id, zone.availability_zone))
        disk = self.demo.backend.disk_of_volume(volume.id)
        check(not self.demo.backend.attached_instances(disk),
              'disk %s is attached on the backend', disk['DiskId'])
        self.demo.out.detail('%s refused: %s' % (other_host, message))
        # Cinder keeps the attachment it reserved for the request; the
        # compute service deletes it, as Nova does after a failed attach.
        for left in service.attachments.list(
                search_opts={'volume_id': volume.id}):
            service.attachments.delete(left.id)
        cinder_api.wait_for_status(
            self.cinder.volumes, volume.id, ('available',),
            progress=self.demo.out.progress_for('waiting for the volume'))
        attachment = service.attachments.create(
            volume.id, connector(own_host), device.server_id_for(own_host))
        attached = self.demo.backend.attached_instances(
            self.demo.backend.disk_of_volume(volume.id))
        instance_id = self.stack.host_instances[own_host]
        check(attached == [instance_id], 'backend attachments %s', attached)
        service.attachments.delete(attachment['id'])
        cinder_api.wait_for_status(
            self.cinder.volumes, volume.id, ('available',),
            progress=self.demo.out.progress_for('waiting for the detach'))
        check(not self.demo.backend.attached_instances(
            self.demo.backend.disk_of_volume(volume.id)),
            'disk %s is still attached on the backend', disk['DiskId'])
        self.demo.out.detail('%s (instance %s in %s) attached and detached '
                             'it' % (own_host, instance_id,
                                     zone.emulator_zone))


def connector(host):
    """A compute host's connector as os-brick makes it (by ``host``)."""
    return {'host': host, 'ip': '127.0.0.1', 'platform': 'x86_64',
            'os_type': 'linux', 'multipath': False,
            'initiator': 'iqn.2004-10.org.example:%s' % host}
