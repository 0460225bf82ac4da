"""Live attach and detach of a volume, the way nova-compute does it.

Attach: reserved Cinder attachment -> attachment updated with the host
connector (os-brick) -> os-brick ``connect_volume`` -> ``<disk>`` XML ->
``attachDeviceFlags`` (LIVE on a running guest, CONFIG on a defined one) ->
attachment complete.

Detach, in reverse: volume marked detaching -> ``detachDeviceFlags`` with
the disk as found in the domain XML (it carries the ``ua-<volume id>``
alias) -> wait until the guest has released it -> os-brick
``disconnect_volume`` unless another guest of this host still uses the
same host device -> attachment delete.

The Cinder calls and their order are Nova's (see
:mod:`nova_shim.volume_api.base`); what is read from the domain XML and
decided from it is in :mod:`nova_shim.domain_disks`.
"""

import contextlib
import copy
import threading
import time

import libvirt
from oslo_concurrency import lockutils
from oslo_log import log as logging
from oslo_utils import excutils

from nova_shim import disk
from nova_shim import domain_disks
from nova_shim import exception
from nova_shim import guest as guest_mod
from nova_shim import host as host_mod
from nova_shim import timing

LOG = logging.getLogger(__name__)


class VolumeAttacher(object):
    """Attach and detach volumes of one compute host.

    :param conn: an open ``libvirt.virConnect`` to the host's hypervisor.
    :param volume_api: a :class:`nova_shim.volume_api.base.VolumeAPI`.
    :param host: the host name given to Cinder (default: the system's),
        so that one machine can play several compute hosts.
    :param my_ip: the address in the connector (default: this host's).
    :param root_helper: for os-brick; see :func:`host.init_privsep`, which
        the caller runs once per process.
    :param detach_timeout: seconds the guest has to release a disk.
    :param timer_factory: makes the :class:`nova_shim.timing.PhaseTimer`
        of each attach (a benchmark passes its own to read the phases).
    """

    def __init__(self, conn, volume_api, host=None, my_ip=None,
                 root_helper=None, bus='virtio', detach_timeout=30,
                 detach_attempts=3, timer_factory=timing.PhaseTimer):
        self.conn = conn
        self.volume_api = volume_api
        self.host = host
        self.my_ip = my_ip
        self.root_helper = root_helper
        self.bus = bus
        self.detach_timeout = detach_timeout
        self.detach_attempts = detach_attempts
        self.timer_factory = timer_factory
        self._connector = None
        # libvirt and QEMU keep their versions for the life of a
        # connection: the connection that passed the check.
        self._checked_conn = None
        self._timers = threading.local()

    def _phase(self, name):
        """Time a step of the attach in progress on this thread."""
        timer = getattr(self._timers, 'current', None)
        if timer is None:
            return contextlib.nullcontext()
        return timer.phase(name)

    @property
    def connector(self):
        with self._phase('connector'):
            if self._connector is None:
                self._connector = host_mod.get_host_connector(
                    host=self.host, my_ip=self.my_ip,
                    root_helper=self.root_helper)
            return self._connector

    def _check_can_share(self):
        if self._checked_conn is not self.conn:
            host_mod.check_can_share_disks(self.conn)
            self._checked_conn = self.conn

    def _brick(self, connection_info):
        return host_mod.get_volume_connector(
            connection_info['driver_volume_type'],
            root_helper=self.root_helper)

    def _other_guest_disks(self, guest):
        """{name: disks} of every other domain of this connection."""
        result = {}
        for dom in self.conn.listAllDomains(0):
            other = guest_mod.Guest(dom)
            if other.uuid == guest.uuid:
                continue
            disks = []
            try:
                for doc in other.xmls():
                    disks.extend(domain_disks.list_disks(doc))
            except libvirt.libvirtError as exc:
                # The domain went away while we looked.
                if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
            result[other.name] = disks
        return result

    # -- attach ------------------------------------------------------------
    def attach(self, instance, volume_id, mode='rw', target_dev=None):
        """Attach ``volume_id`` to the guest ``instance`` (name or UUID).

        :returns: ``{'attachment_id', 'target_dev', 'device_path',
            'disk_xml'}``.
        :raises VolumeNotShareable: another guest has the volume and it is
            not multi-attach.
        :raises HypervisorCannotShare: the volume is multi-attach and
            libvirt/QEMU are too old to share it.
        """
        timer = self.timer_factory()
        self._timers.current = timer
        try:
            with timer.phase('libvirt checks'):
                guest = guest_mod.Guest.lookup(self.conn, instance)
            with contextlib.ExitStack() as stack:
                with timer.phase('lock'):
                    stack.enter_context(
                        lockutils.lock('ebs-volume-%s' % volume_id))
                result = self._attach(guest, volume_id, mode, target_dev)
        finally:
            self._timers.current = None
        LOG.debug('Attach of volume %(vol)s: %(phases)s',
                  {'vol': volume_id, 'phases': timer.summary()})
        return result

    def _check_attachable(self, guest, volume, volume_id, docs):
        for doc in docs:
            found = domain_disks.find_volume_disk(doc, volume_id)
            if found:
                raise exception.VolumeAlreadyAttached(
                    volume_id, guest.name, found['target_dev'])
        if volume['multiattach']:
            self._check_can_share()
            return
        users = {a['instance_uuid'] for a in volume.get('attachments', ())
                 if a.get('instance_uuid') not in (None, guest.uuid)}
        users.update(domain_disks.guests_with_volume(
            self._other_guest_disks(guest), volume_id))
        if users:
            raise exception.VolumeNotShareable(volume_id, sorted(users))

    def _attach(self, guest, volume_id, mode, target_dev):
        volume = self.volume_api.get_volume(volume_id)
        with self._phase('libvirt checks'):
            # One read of the domain's documents serves both decisions.
            docs = guest.xmls()
            self._check_attachable(guest, volume, volume_id, docs)
            target_dev = target_dev or domain_disks.choose_target_dev(
                docs, self.bus)

        # Nova's order: a reserved attachment (no connector), then, as the
        # compute, the volume read again and the attachment updated with
        # the connector (Cinder exports the volume and answers the
        # connection info), connect, attach, complete.
        attachment_id = self.volume_api.attachment_create(
            volume_id, guest.uuid, mode)['id']
        connection_info = None
        brick = None
        attached_flags = 0
        try:
            volume = self.volume_api.get_volume(volume_id,
                                                shared_targets=True)
            attachment = self.volume_api.attachment_update(
                attachment_id, self.connector,
                mountpoint='/dev/%s' % target_dev)
            connection_info = copy.deepcopy(attachment['connection_info'])
            with self._phase('os-brick connect'):
                brick = self._brick(connection_info)
                device_info = brick.connect_volume(connection_info['data'])
            # What Nova's block device layer adds before building the XML.
            connection_info['data']['device_path'] = device_info['path']
            connection_info['serial'] = volume_id
            connection_info['multiattach'] = bool(volume['multiattach'])
            connection_info['attachment_id'] = attachment_id
            with self._phase('XML build'):
                disk_xml = disk.build_disk_xml(connection_info, target_dev,
                                               bus=self.bus)
            with self._phase('libvirt checks'):
                flags = guest.affect_flags()
            with self._phase('attachDeviceFlags'):
                guest.attach_device(disk_xml, flags)
            attached_flags = flags
            with self._phase('metadata record'):
                guest.set_volume_record(volume_id, {
                    'attachment': attachment_id,
                    'host': self.connector.get('host'),
                    'device-path': device_info['path'],
                    'driver-volume-type':
                        connection_info['driver_volume_type']})
            self.volume_api.attachment_complete(attachment_id)
        except Exception:
            LOG.exception('Attaching volume %(vol)s to %(guest)s failed; '
                          'rolling back', {'vol': volume_id,
                                           'guest': guest.name})
            self._rollback(guest, volume_id, attachment_id, connection_info,
                           brick, attached_flags)
            raise
        LOG.info('Attached volume %(vol)s to %(guest)s as %(dev)s '
                 '(attachment %(att)s)',
                 {'vol': volume_id, 'guest': guest.name, 'dev': target_dev,
                  'att': attachment_id})
        return {'attachment_id': attachment_id, 'target_dev': target_dev,
                'device_path': connection_info['data'].get('device_path'),
                'disk_xml': disk_xml}

    def _rollback(self, guest, volume_id, attachment_id, connection_info,
                  brick, attached_flags):
        try:
            if attached_flags:
                self._detach_device(guest, volume_id)
                guest.drop_volume_record(volume_id)
            if brick is not None:
                self._disconnect_unless_used(guest, volume_id,
                                             connection_info, brick)
        except Exception:
            LOG.exception('Cleanup after a failed attach of %s failed',
                          volume_id)
        try:
            self.volume_api.attachment_delete(attachment_id)
        except Exception:
            LOG.exception('Deleting attachment %s failed', attachment_id)

    # -- detach ------------------------------------------------------------
    def detach(self, instance, volume_id):
        """Detach ``volume_id`` from the guest ``instance``.

        :returns: ``{'attachment_id', 'disconnected': bool}`` where
            ``disconnected`` tells whether the host connection was dropped.
        """
        guest = guest_mod.Guest.lookup(self.conn, instance)
        with lockutils.lock('ebs-volume-%s' % volume_id):
            return self._detach(guest, volume_id)

    def _find_attachment(self, guest, volume):
        """The attachment id of the volume on this guest.

        From the guest's record, else from the volume's attachments (as
        Nova's API finds it).
        """
        record = guest.volume_records().get(volume['id'], {})
        if record.get('attachment'):
            return record['attachment']
        for att in volume.get('attachments', ()):
            if att.get('instance_uuid') == guest.uuid:
                return att['id']
        return None

    def _connection_info(self, guest, volume_id, attachment_id):
        """What os-brick needs to disconnect the volume.

        The guest's record has it for a ``local`` connection (its device
        path), so Cinder is not asked, as Nova keeps the connection info
        in its block device mapping; otherwise it is read from the
        attachment.
        """
        record = guest.volume_records().get(volume_id, {})
        volume_type = record.get('driver-volume-type')
        connection_info = None
        if attachment_id and volume_type != 'local':
            try:
                connection_info = copy.deepcopy(self.volume_api.attachment_get(
                    attachment_id)['connection_info'])
            except exception.AttachmentNotFound:
                LOG.warning('Attachment %s is gone from the volume service',
                            attachment_id)
        if not connection_info and record.get('device-path'):
            connection_info = {'driver_volume_type': volume_type or 'local',
                               'data': {}}
        if connection_info and record.get('device-path'):
            # The path os-brick gave at connect time.
            connection_info.setdefault('data', {})['device_path'] = (
                record['device-path'])
        return connection_info

    def _detach(self, guest, volume_id):
        if not any(domain_disks.find_volume_disk(doc, volume_id)
                   for doc in guest.xmls()):
            raise exception.VolumeNotAttached(volume_id, guest.name)
        # Nova's order: the volume read and marked detaching (its API),
        # then, as the compute, the volume read again, the disk detached
        # and disconnected, the attachment deleted. A failure before the
        # delete rolls the detaching back, as Nova's compute does.
        volume = self.volume_api.get_volume(volume_id)
        attachment_id = self._find_attachment(guest, volume)
        self.volume_api.begin_detaching(volume_id)
        try:
            volume = self.volume_api.get_volume(volume_id,
                                                shared_targets=True)
            connection_info = self._connection_info(guest, volume_id,
                                                    attachment_id)
            self._detach_device(guest, volume_id)
            guest.drop_volume_record(volume_id)
            disconnected = False
            if connection_info:
                connection_info['multiattach'] = volume['multiattach']
                disconnected = self._disconnect_unless_used(
                    guest, volume_id, connection_info,
                    self._brick(connection_info))
        except Exception:
            with excutils.save_and_reraise_exception():
                self.volume_api.roll_detaching(volume_id)
        if attachment_id:
            self.volume_api.attachment_delete(attachment_id)
        LOG.info('Detached volume %(vol)s from %(guest)s (attachment '
                 '%(att)s, host connection %(conn)s)',
                 {'vol': volume_id, 'guest': guest.name,
                  'att': attachment_id,
                  'conn': 'dropped' if disconnected else 'kept'})
        return {'attachment_id': attachment_id, 'disconnected': disconnected}

    def _detach_device(self, guest, volume_id):
        """Remove the disk from the config and the running guest."""
        if guest.is_persistent():
            found = domain_disks.find_volume_disk(guest.xml(inactive=True),
                                                  volume_id)
            if found:
                guest.detach_device(found['xml'],
                                    libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        if not guest.is_active():
            return
        wait = self.detach_timeout / max(1, self.detach_attempts)
        for attempt in range(1, self.detach_attempts + 1):
            found = domain_disks.find_volume_disk(guest.xml(), volume_id)
            if not found:
                return
            try:
                guest.detach_device(found['xml'],
                                    libvirt.VIR_DOMAIN_AFFECT_LIVE)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_DEVICE_MISSING:
                    raise
            if self._wait_gone(guest, volume_id, wait):
                return
            LOG.warning('Guest %(guest)s has not released volume %(vol)s '
                        'after attempt %(n)d', {'guest': guest.name,
                                                'vol': volume_id,
                                                'n': attempt})
        raise exception.DeviceDetachFailed(
            'guest %s did not release volume %s within %s s'
            % (guest.name, volume_id, self.detach_timeout))

    @staticmethod
    def _wait_gone(guest, volume_id, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if not domain_disks.find_volume_disk(guest.xml(), volume_id):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _disconnect_unless_used(self, guest, volume_id, connection_info,
                                brick):
        path = connection_info.get('data', {}).get('device_path')
        users = domain_disks.guests_using_device(
            self._other_guest_disks(guest), path)
        if connection_info.get('multiattach'):
            # Nova's libvirt driver asks Cinder which servers of this host
            # have the volume; so does the shim (besides its own guests).
            users = sorted(set(users).union(self._attached_on_this_host(
                guest, volume_id)))
        if users:
            LOG.info('Keeping the host connection of volume %(vol)s: still '
                     'used by %(users)s', {'vol': volume_id,
                                           'users': ', '.join(users)})
            return False
        brick.disconnect_volume(connection_info.get('data', {}), None)
        return True

    def _attached_on_this_host(self, guest, volume_id):
        """Other servers Cinder lists with the volume on this host."""
        host = self.connector.get('host')
        return [att['instance_uuid'] for att in self.volume_api.get_volume(
            volume_id).get('attachments', ())
            if att.get('host') == host and
            att.get('instance_uuid') not in (None, guest.uuid)]
