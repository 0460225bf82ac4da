"""Multi-attach rules: which hosts hold a disk and when to detach it.

Cinder tracks attachments per instance (``volume.volume_attachment``); ECS
tracks them per host instance. Several Cinder attachments may share one
host (two guests on one compute node), so a disk is attached to a host once
and detached from it only when no other attachment of the volume on that
host remains.

An :class:`Attacher` sends one AttachDisk per host and reads the disk
only when the answer decides what to do: before the call when the host
may have the disk already (then a read is all a repeated attach costs)
or when the count of hosts decides whether to send it, after the call
when ECS refused it for a reason its error code does not name.
"""

import collections
import threading

from cinder import exception
from oslo_log import log as logging
from oslo_utils import excutils

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import exception as ebs_exc
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import naming

LOG = logging.getLogger(__name__)

# Attachments in these states no longer hold a connection on their host.
RELEASED_STATUSES = ('detached', 'deleted')
ATTACHED = 'attached'
# ECS attaches a multi-attach (NVMe) disk to at most this many instances,
# and refuses one more with this code.
ECS_MAX_INSTANCES_PER_DISK = 16
ATTACH_LIMIT_CODE = 'DiskAttachedNumberExceeded'
# ECS attaches a zonal disk only to instances of its zone.
OTHER_ZONE_CODE = 'ResourcesNotInSameZone'
# How many (disk, instance) attachments an Attacher remembers having made.
REMEMBERED_ATTACHMENTS = 4096


class AttachedElsewhere(exception.InvalidVolume):
    """A single-attach disk is attached to other instances on the backend.

    :ivar instances: the ids of the instances ECS lists for the disk.
    :ivar reason: the refusal's text.
    """

    def __init__(self, instances=(), reason=''):
        self.instances = list(instances)
        self.reason = reason
        super().__init__(reason=reason)


def field(attachment, name):
    """A field of an attachment, given as an object or as a dict."""
    if isinstance(attachment, dict):
        return attachment.get(name)
    return getattr(attachment, name, None)


def attachment_host(attachment):
    """The host an attachment record is (or is being) connected on."""
    connector = field(attachment, 'connector')
    if connector and connector.get('host'):
        return connector['host']
    return field(attachment, 'attached_host')


def held_hosts(volume):
    """The hosts on which an attachment of the volume holds the disk."""
    return {attachment_host(attachment)
            for attachment in volume.volume_attachment or []
            if field(attachment, 'attach_status') not in RELEASED_STATUSES
            and attachment_host(attachment)}


def holds_host(attachment, host):
    """Whether an attachment record holds the connection on ``host``."""
    return (field(attachment, 'attach_status') not in RELEASED_STATUSES
            and attachment_host(attachment) == host)


def host_holds_connection(volume, host):
    """Whether an attachment of the volume on this host is ``attached``.

    The disk is then probably attached to the host already: a further
    attachment there (a second guest on the same compute node) reads the
    disk first, and sends no AttachDisk when the host has it. Only
    probably: Cinder updates an attachment's record after the driver
    detached it, so a detach of the other attachment may have run.
    """
    return any(field(attachment, 'attach_status') == ATTACHED and
               attachment_host(attachment) == host
               for attachment in volume.volume_attachment or [])


class Attacher(object):
    """Attaches and detaches one disk to host instances on the backend.

    It remembers the attachments it made (and forgets the ones it
    detached): only as a hint of where to look first, never instead of
    looking, since another volume service may have detached the disk
    since.
    """

    def __init__(self, client, conf):
        self._client = client
        self._conf = conf
        self._made = collections.OrderedDict()
        self._made_lock = threading.Lock()

    def _max_hosts(self):
        return self._conf.safe_get('ebs_max_attach_hosts') or 16

    def counts_hosts(self):
        """Whether a count of the disk's hosts decides if AttachDisk is sent.

        True when ``ebs_max_attach_hosts`` is below ECS's own limit. The
        count read from DescribeDisks leaves out attachments in progress,
        so the caller must then keep other attachments of the volume from
        running at the same time (see :mod:`cinder_ebs_driver.attach_locks`).
        """
        return self._max_hosts() < ECS_MAX_INSTANCES_PER_DISK

    # -- what this attacher did ------------------------------------------

    def _remember(self, disk_id, instance_id):
        with self._made_lock:
            self._made[(disk_id, instance_id)] = True
            self._made.move_to_end((disk_id, instance_id))
            while len(self._made) > REMEMBERED_ATTACHMENTS:
                self._made.popitem(last=False)

    def _forget(self, disk_id, instance_id):
        with self._made_lock:
            self._made.pop((disk_id, instance_id), None)

    def _made_here(self, disk_id, instance_id):
        with self._made_lock:
            return (disk_id, instance_id) in self._made

    # -- attach ----------------------------------------------------------

    def attach(self, volume, disk_id, instance_id, maybe_attached=False):
        """Attach a disk to an instance unless that instance has it.

        Sends AttachDisk straight away, except:

        * when the instance may have the disk already (``maybe_attached``:
          another attachment on its host is attached, or this attacher
          attached it before), the disk is read first and nothing more is
          sent when it is there;
        * when ``ebs_max_attach_hosts`` is below ECS's own limit, the disk
          is read first, since the count then decides whether to send.

        ECS refuses a second attachment to the same instance, an
        attachment of a single-attach disk that is in use and one past its
        16 instances: the last has its own error code; for the others the
        disk is read to tell which. Waits until DescribeDisks lists the
        instance in the disk's Attachments; the disk is detached again
        when it does not show up.

        :raises InvalidVolume: the disk may not be attached there.
        """
        if self.counts_hosts():
            disk = self._client.get_disk(disk_id)
            if self._refusal_reason(volume, disk, instance_id) is not None:
                self._remember(disk_id, instance_id)
                return
        elif maybe_attached or self._made_here(disk_id, instance_id):
            disk = self._client.get_disk(disk_id)
            if instance_id in ebs_client.attached_instance_ids(disk):
                LOG.debug('Disk %(disk)s is already attached to %(inst)s.',
                          {'disk': disk_id, 'inst': instance_id})
                self._remember(disk_id, instance_id)
                return
        LOG.info('Attaching disk %(disk)s of volume %(vol)s to instance '
                 '%(inst)s.', {'disk': disk_id, 'vol': volume.id,
                               'inst': instance_id})
        try:
            self._client.attach_disk(disk_id, instance_id)
        except ebs_exc.EBSBackendError as error:
            if not error.retryable:
                self._explain_refusal(volume, disk_id, instance_id, error)
                self._remember(disk_id, instance_id)
                return
            # No answer in the end: the call may have worked.
            with excutils.save_and_reraise_exception():
                self._rollback_attach(disk_id, instance_id)
        try:
            self._client.wait_for_attachment(disk_id, instance_id,
                                             attached=True)
        except Exception:
            with excutils.save_and_reraise_exception():
                LOG.error('Attaching disk %(disk)s to %(inst)s failed; '
                          'detaching it again.',
                          {'disk': disk_id, 'inst': instance_id})
                self._rollback_attach(disk_id, instance_id)
        self._remember(disk_id, instance_id)

    def _explain_refusal(self, volume, disk_id, instance_id, error):
        """Return when a refused AttachDisk finds the disk attached there.

        :raises InvalidVolume: the disk may not be attached there.
        :raises EBSBackendError: ``error``, refused for another reason.
        """
        if error.code == ATTACH_LIMIT_CODE:
            raise self._too_many_hosts(volume, disk_id,
                                       ECS_MAX_INSTANCES_PER_DISK,
                                       ECS_MAX_INSTANCES_PER_DISK)
        disk = self._client.get_disk(disk_id)
        if error.code == OTHER_ZONE_CODE:
            msg = (_('Volume %(vol)s (disk %(disk)s) is in zone %(zone)s; '
                     'ECS attaches it only to instances of that zone, and '
                     'instance %(inst)s is not (%(code)s, request '
                     '%(request)s). Attach it from a host of zone '
                     '%(zone)s, or create the volume in the availability '
                     'zone of the host.') %
                   {'vol': volume.id, 'disk': disk_id,
                    'zone': disk.get('ZoneId'), 'inst': instance_id,
                    'code': error.code, 'request': error.request_id})
            LOG.error(msg)
            raise exception.InvalidVolume(reason=msg)
        if self._refusal_reason(volume, disk, instance_id) is None:
            raise error

    @staticmethod
    def _too_many_hosts(volume, disk_id, count, max_hosts):
        msg = (_('Volume %(vol)s (disk %(disk)s) is already attached '
                 'to %(count)d hosts, the maximum '
                 '(ebs_max_attach_hosts=%(max)d); detach it from a '
                 'host before attaching it to another one.') %
               {'vol': volume.id, 'disk': disk_id, 'count': count,
                'max': max_hosts})
        LOG.error(msg)
        return exception.InvalidVolume(reason=msg)

    def _refusal_reason(self, volume, disk, instance_id):
        """None when the instance may get the disk, else why not.

        :returns: ``'attached'`` when the instance has the disk already.
        :raises InvalidVolume: when the disk may not be attached to it.
        """
        disk_id = disk.get('DiskId')
        instances = ebs_client.attached_instance_ids(disk)
        if instance_id in instances:
            LOG.debug('Disk %(disk)s is already attached to %(inst)s.',
                      {'disk': disk_id, 'inst': instance_id})
            return 'attached'
        if instances and not naming.is_multiattach_disk(disk):
            msg = (_('Volume %(vol)s (disk %(disk)s) is attached to '
                     'instance %(other)s and is not a multi-attach disk; '
                     'it cannot be attached to %(inst)s too.') %
                   {'vol': volume.id, 'disk': disk_id,
                    'other': ', '.join(instances), 'inst': instance_id})
            raise AttachedElsewhere(instances, reason=msg)
        max_hosts = self._max_hosts()
        if len(instances) >= max_hosts:
            raise self._too_many_hosts(volume, disk_id, len(instances),
                                       max_hosts)
        return None

    def _rollback_attach(self, disk_id, instance_id):
        try:
            self.detach(disk_id, instance_id)
        except Exception as err:
            LOG.warning('Could not detach disk %(disk)s from %(inst)s '
                        'after a failed attach: %(err)s',
                        {'disk': disk_id, 'inst': instance_id, 'err': err})

    def detach(self, disk_id, instance_id):
        """Detach a disk from an instance; a no-op if it is not attached.

        Sends DetachDisk straight away; the disk is read only when ECS
        refuses it, to tell a disk that is not attached there (done) from
        a real failure.
        """
        LOG.info('Detaching disk %(disk)s from instance %(inst)s.',
                 {'disk': disk_id, 'inst': instance_id})
        self._forget(disk_id, instance_id)
        try:
            self._client.detach_disk(disk_id, instance_id)
        except ebs_exc.EBSNotFound:
            LOG.info('Disk %(disk)s is gone or was not attached to '
                     '%(inst)s.', {'disk': disk_id, 'inst': instance_id})
            return
        except ebs_exc.EBSBackendError as error:
            if error.retryable:
                raise
            try:
                disk = self._client.get_disk(disk_id)
            except ebs_exc.EBSNotFound:
                LOG.info('Disk %s is gone; nothing to detach.', disk_id)
                return
            if instance_id not in ebs_client.attached_instance_ids(disk):
                LOG.info('Disk %(disk)s is not attached to %(inst)s.',
                         {'disk': disk_id, 'inst': instance_id})
                return
            raise
        self._client.wait_for_attachment(disk_id, instance_id,
                                         attached=False)

    def detach_all(self, disk_id):
        """Detach a disk from every instance it is attached to."""
        try:
            disk = self._client.get_disk(disk_id)
        except ebs_exc.EBSNotFound:
            return []
        instances = ebs_client.attached_instance_ids(disk)
        for instance_id in instances:
            self.detach(disk_id, instance_id)
        return instances
