"""``ebs-allinone demo``: the whole multi-attach workflow, checked.

Every step is checked against Cinder's API and against the EBS backend
(the emulator, through the ECS API). The run stops at the first step that
does not hold; whatever it created is deleted and every service stopped
anyway, and the summary says which steps passed.
"""

import functools
import uuid

from cinderclient import exceptions as cinder_exc
from oslo_log import log as logging

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.scenarios import failover_steps
from ebs_allinone.scenarios.report import StepFailed
from ebs_allinone.scenarios import startup
from ebs_allinone.scenarios import zone_steps

LOG = logging.getLogger(__name__)

MULTIATTACH_SPEC = {'multiattach': '<is> True'}
# PL0 ESSD disks can be as small as 1 GiB (PL1 starts at 20 GiB).
VOLUME_TYPE_SPECS = dict(MULTIATTACH_SPEC, **{'ebs:performance_level': 'PL0'})
ENCRYPTION = {'provider': 'luks', 'control_location': 'front-end',
              'cipher': 'aes-xts-plain64', 'key_size': 256}
BELOW = '3.49'
AT = cinder_api.MULTIATTACH_VERSION
SIZE_GB = 1
EXTENDED_GB = 2


def check(condition, message, *args):
    if not condition:
        raise StepFailed(message % args if args else message)


def expect_refused(call, what):
    """Run ``call``; it must fail with HTTP 400. Return Cinder's message."""
    try:
        call()
    except cinder_exc.BadRequest as exc:
        return exc.message
    raise StepFailed('%s was accepted; expected HTTP 400' % what)


class Demo(object):
    """The workflow on a started-to-be :class:`stack.AllInOne`.

    :param stack: the services (not started yet).
    :param reporter: a :class:`report.Reporter`.
    :param degraded: why there are no guests (None: real guests).
    """

    def __init__(self, stack, reporter, degraded=None):
        self.stack = stack
        self.out = reporter
        self.degraded = degraded
        self.record = 'ebs-allinone-record-%s' % uuid.uuid4().hex[:12]
        self.types = []
        self.volumes = []
        self.snapshots = []
        self.volume = None
        self.device_paths = {}
        self.failover = None
        self.startup = startup.Startup(stack, reporter)

    @property
    def cinder(self):
        return self.startup.cinder

    @property
    def backend(self):
        return self.startup.backend

    @property
    def names(self):
        """The hosts that share the volume: those of the first zone."""
        return self.stack.zone_hosts()

    @property
    def hosts(self):
        return [self.stack.host(name) for name in self.names]

    # -- the plan ---------------------------------------------------------
    def steps(self):
        hosts = self.names
        steps = self.startup.steps() + [
            ('Create a multi-attach volume type at microversion %s' % AT,
             self.create_type),
            ('Microversion %s cannot create a multi-attach volume' % BELOW,
             self.refuse_old_microversion),
            ('A multi-attach volume type cannot be encrypted',
             self.refuse_encryption),
            ('Create a %d GiB multi-attach volume' % SIZE_GB,
             self.create_volume),
        ]
        if not self.degraded:
            where = ('every host of %s' % self.stack.zones[0].availability_zone
                     if len(self.stack.zones) > 1 else 'every host')
            steps.append(('Boot a tiny guest on %s' % where,
                          self.boot_guests))
        for name in hosts:
            steps.append(('Attach the volume on %s' % name,
                          lambda name=name: self.attach(name)))
        steps.append(('%s writes a record, %s reads it back (O_DIRECT)'
                      % (hosts[0], ', '.join(hosts[1:])), self.share_data))
        if not self.fencing_unavailable:
            self.failover = failover_steps.FailoverSteps(self)
            steps += self.failover.steps()
        for name in hosts:
            steps.append(('Detach the volume from %s' % name,
                          lambda name=name: self.detach(name)))
        if len(self.stack.zones) > 1:
            steps += zone_steps.ZoneSteps(self).steps()
        steps += [
            ('Snapshot the volume', self.snapshot),
            ('Clone the volume', self.clone),
            ('Extend the volume to %d GiB' % EXTENDED_GB, self.extend),
            ('Delete volumes, snapshot and types', self.delete_all),
            ('The EBS backend is empty', self.backend_empty),
            ('No conflicting ECS calls on one disk in flight at once',
             self.no_overlaps),
        ]
        if getattr(self.stack, 'credentials', None) == 'sts':
            steps.append(('The driver signed with STS tokens, none refused',
                          self.sts_tokens))
        return steps

    @functools.cached_property
    def fencing_unavailable(self):
        """Why the failover part cannot run here, or None."""
        from ebs_emulator import datapath
        return datapath.unavailable_reason()

    def run(self):
        """Run every step; return True when all held."""
        if self.failover is None and self.fencing_unavailable:
            self.out.say('No failover part: persistent reservations are not '
                         'enforced here (%s).' % self.fencing_unavailable)
        if self.degraded:
            self.out.say('DEGRADED MODE: no guests (%s).' % self.degraded)
            self.out.say('Volumes are attached through Cinder to each '
                         'simulated host and the record is written and '
                         'read with O_DIRECT on the host device paths.')
            self.out.say()
        steps = self.steps()
        for index, (title, func) in enumerate(steps):
            try:
                with self.out.step(title):
                    func()
            except BaseException as exc:
                self.out.not_run([t for t, _f in steps[index + 1:]])
                self._cleanup()
                if not isinstance(exc, Exception):
                    raise
                LOG.debug('Step %r failed', title, exc_info=True)
                return False
        return True

    # -- types ------------------------------------------------------------
    def create_type(self):
        vtype = self.cinder.volume_types.create('ebs-multiattach')
        self.types.append(vtype)
        vtype.set_keys(VOLUME_TYPE_SPECS)
        specs = self.cinder.volume_types.get(vtype.id).get_keys()
        check(specs == VOLUME_TYPE_SPECS, 'extra specs are %s', specs)
        self.type = vtype
        self.out.detail('type %s (%s) extra specs %s' % (vtype.name,
                                                         vtype.id, specs))

    def refuse_old_microversion(self):
        old = self.stack.client(BELOW)
        message = expect_refused(
            lambda: old.volumes.create(SIZE_GB, volume_type=self.type.id,
                                       name='ebs-allinone-old'),
            'creating a multi-attach volume at %s' % BELOW)
        check('3.50' in message, 'the refusal does not name 3.50: %s',
              message)
        check(not self.cinder.volumes.list(), 'a volume was created anyway')
        self.out.detail('HTTP 400: %s' % message)

    def refuse_encryption(self):
        vtype = self.cinder.volume_types.create('ebs-multiattach-encrypted')
        self.types.append(vtype)
        vtype.set_keys(MULTIATTACH_SPEC)
        message = expect_refused(
            lambda: self.cinder.volume_encryption_types.create(
                vtype, ENCRYPTION),
            'encryption on a multi-attach type')
        self.out.detail('encryption on a multi-attach type: HTTP 400: %s'
                        % message)
        plain = self.cinder.volume_types.create('ebs-encrypted')
        self.types.append(plain)
        self.cinder.volume_encryption_types.create(plain, ENCRYPTION)
        message = expect_refused(lambda: plain.set_keys(MULTIATTACH_SPEC),
                                 'multiattach on an encrypted type')
        self.out.detail('multiattach on an encrypted type: HTTP 400: %s'
                        % message)

    # -- volume -----------------------------------------------------------
    def _wait_available(self, manager, resource_id, what):
        return cinder_api.wait_for_status(
            manager, resource_id, ('available',),
            progress=self.out.progress_for('waiting for %s' % what))

    def create_volume(self):
        volume = self.cinder.volumes.create(SIZE_GB, volume_type=self.type.id,
                                            name='ebs-allinone-shared')
        self.volumes.append(volume)
        volume = self._wait_available(self.cinder.volumes, volume.id,
                                      'the volume')
        check(volume.multiattach, 'the volume is not multi-attach')
        disk = self.backend.disk_of_volume(volume.id)
        check(disk is not None, 'no EBS disk for volume %s', volume.id)
        check(disk.get('MultiAttach') == 'Enabled',
              'disk %s has MultiAttach=%s', disk['DiskId'],
              disk.get('MultiAttach'))
        self.volume = volume
        self.disk_id = disk['DiskId']
        self.out.detail('volume %s -> disk %s (%s, %s GiB, MultiAttach %s)'
                        % (volume.id, disk['DiskId'], disk.get('Category'),
                           disk.get('Size'), disk.get('MultiAttach')))

    def boot_guests(self):
        hosts = self.hosts
        roles = ['writer'] + ['reader'] * (len(hosts) - 1)
        for host, role in zip(hosts, roles):
            host.define_guest(role, self.volume.id, self.record)
            host.boot_guest()
        for host in hosts:
            seconds = host.wait_guest(
                self.out.progress_for('booting %s' % host.guest_name))
            self.out.detail('%s: guest %s (%s) booted in %.1f s' % (
                host.name, host.guest_name, host.guest_role, seconds))

    def _attached_instances(self):
        return self.backend.attached_instances(
            self.backend.disk_of_volume(self.volume.id))

    def attach(self, name):
        host = self.stack.host(name)
        result = host.attach(self.volume.id)
        self.device_paths[name] = result['device_path']
        volume = self.cinder.volumes.get(self.volume.id)
        check(volume.status == 'in-use', 'volume status is %s',
              volume.status)
        attached = self._attached_instances()
        check(host.instance_id in attached,
              'the disk is not attached to %s on the backend (%s)',
              host.instance_id, attached)
        self.out.detail('attachment %s, %s on %s' % (
            result['attachment_id'], result['target_dev'],
            result['device_path']))
        if result.get('guest_line'):
            self.out.detail('guest console: %s' % result['guest_line'])
        self.out.detail('backend: disk %s attached to %s'
                        % (self.disk_id, ', '.join(attached)))
        self.out.detail(result['disk_xml'].rstrip())

    def share_data(self):
        writer, readers = self.hosts[0], self.hosts[1:]
        self.out.detail('%s: %s' % (writer.name, writer.write_record(
            self.volume.id, self.record,
            progress=self.out.progress_for('waiting for %s to write'
                                           % writer.name))))
        for reader in readers:
            self.out.detail('%s: %s' % (reader.name, reader.read_record(
                self.volume.id, self.record,
                progress=self.out.progress_for('waiting for %s to read'
                                               % reader.name))))

    def detach(self, name):
        host = self.stack.host(name)
        host.detach(self.volume.id)
        remaining = [h for h in self.hosts
                     if h.name != name and h.has_volume(self.volume.id)]
        attached = self._attached_instances()
        expected = sorted(h.instance_id for h in remaining)
        check(attached == expected, 'backend attachments %s, expected %s',
              attached, expected)
        volume = self.cinder.volumes.get(self.volume.id)
        status = 'in-use' if remaining else 'available'
        check(volume.status == status, 'volume status is %s, expected %s',
              volume.status, status)
        self.out.detail('volume %s, backend attachments: %s' % (
            volume.status, ', '.join(attached) or 'none'))

    def snapshot(self):
        snap = self.cinder.volume_snapshots.create(self.volume.id,
                                                   name='ebs-allinone-snap')
        self.snapshots.append(snap)
        snap = self._wait_available(self.cinder.volume_snapshots, snap.id,
                                    'the snapshot')
        backend_snap = self.backend.snapshot_of(snap.id)
        check(backend_snap is not None, 'no EBS snapshot for %s', snap.id)
        self.out.detail('snapshot %s -> %s (%s)' % (
            snap.id, backend_snap['SnapshotId'], backend_snap.get('Status')))

    def clone(self):
        clone = self.cinder.volumes.create(
            SIZE_GB, source_volid=self.volume.id, name='ebs-allinone-clone')
        self.volumes.append(clone)
        clone = self._wait_available(self.cinder.volumes, clone.id,
                                     'the clone')
        disk = self.backend.disk_of_volume(clone.id)
        check(disk is not None, 'no EBS disk for the clone %s', clone.id)
        self.out.detail('clone %s -> disk %s (multi-attach %s)' % (
            clone.id, disk['DiskId'], clone.multiattach))

    def extend(self):
        self.cinder.volumes.extend(self.volume.id, EXTENDED_GB)
        volume = self._wait_available(self.cinder.volumes, self.volume.id,
                                      'the extend')
        check(volume.size == EXTENDED_GB, 'volume size is %s', volume.size)
        disk = self.backend.disk_of_volume(self.volume.id)
        check(int(disk['Size']) == EXTENDED_GB, 'disk size is %s',
              disk['Size'])
        self.out.detail('volume and disk %s are %d GiB' % (disk['DiskId'],
                                                           EXTENDED_GB))

    def delete_all(self):
        progress = self.out.progress_for('waiting for deletions')
        for snap in self.snapshots:
            self.cinder.volume_snapshots.delete(snap.id)
            cinder_api.wait_for_deleted(self.cinder.volume_snapshots,
                                        snap.id, progress=progress)
        self.snapshots = []
        for volume in reversed(self.volumes):
            self.cinder.volumes.delete(volume.id)
            cinder_api.wait_for_deleted(self.cinder.volumes, volume.id,
                                        progress=progress)
        self.volumes = []
        for vtype in self.types:
            self._delete_type(vtype)
        self.types = []
        self.out.detail('Cinder: %d volumes, %d snapshots left' % (
            len(self.cinder.volumes.list()),
            len(self.cinder.volume_snapshots.list())))

    def _delete_attachments(self):
        """Delete the attachments left on our volumes, as Nova would."""
        service = self.stack.client(AT, service=True)
        for volume in self.volumes:
            for att in service.attachments.list(
                    search_opts={'volume_id': volume.id}):
                service.attachments.delete(att.id)
            cinder_api.wait_for_status(
                self.cinder.volumes, volume.id, ('available', 'error'),
                progress=self.out.progress_for('waiting for detaches'))

    def _delete_type(self, vtype):
        try:
            self.cinder.volume_encryption_types.delete(vtype)
        except cinder_exc.NotFound:
            pass
        self.cinder.volume_types.delete(vtype.id)

    def backend_empty(self):
        disks, snaps, counts = self.backend.contents()
        check(not disks and not snaps, 'disks %s and snapshots %s are left',
              disks, snaps)
        check(not counts.get('attachments') and not counts.get('exposed'),
              'the emulator still has attachments: %s', counts)
        self.out.detail('DescribeDisks: 0 disks, DescribeSnapshots: 0 '
                        'snapshots; emulator counts %s' % {
                            k: counts.get(k) for k in (
                                'disks', 'snapshots', 'attachments',
                                'chunks')})

    def no_overlaps(self):
        report = self.stack.emulator.overlaps()
        check(not report['conflicts'], '%d conflicting overlaps, such as %s',
              report['conflicts'], report['overlaps'][:2])
        self.out.detail('%d mutating ECS calls, none in conflict with '
                        'another one on its disk (emulator record)'
                        % sum(report['recorded'].values()))

    def sts_tokens(self):
        report = self.stack.emulator.admin('GET', 'credentials')
        issued = report['issued'].get('AssumeRole', 0)
        check(issued > 0, 'no STS token was issued: %s', report)
        check(not report['refused'], 'calls were refused for their token: '
              '%s', report['refused'])
        self.out.detail('%d tokens issued by AssumeRole (each living %d s), '
                        '0 calls refused for their token' % (
                            issued, report['lifetime']))

    # -- after a failure --------------------------------------------------
    def _cleanup(self):
        """Best effort: detach, delete what was created."""
        if self.failover is not None:
            self.failover.cleanup()
        if self.cinder is None:
            return
        self.out.say('Cleaning up after the failure...')
        for host in self.stack.hosts:
            host.detach_all()
        try:
            self._delete_attachments()
            self.delete_all()
        except Exception as exc:
            self.out.say('cleanup incomplete: %s' % exc)
