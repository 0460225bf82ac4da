"""AttachDisk and DetachDisk.

An attachment goes attaching -> attached -> detaching -> gone; the
transition worker moves it on after the configured delay and creates or
removes the instance's device path at that moment.

Concurrent AttachDisk calls on one multi-attach disk
----------------------------------------------------

ECS does not document a rule for them. What is documented: a
multi-attach (shared NVMe) disk may be attached to up to 16 instances at
once, AttachDisk asks for a disk in the ``Available`` state, and it
refuses an attachment past the limit (``DiskAttachedNumberExceeded``).
What the clients maintained by the cloud provider do: its Kubernetes CSI
driver attaches a multi-attach disk to each node with no lock per disk
(one AttachDisk per node, concurrently) and only serializes the attach
and detach calls of one *instance*, backing off when that instance's call
is refused with ``InvalidOperation.Conflict`` or ``IncorrectDiskStatus``;
its Terraform provider retries AttachDisk on ``IncorrectDiskStatus``,
``OperationConflict`` and ``InvalidOperation.Conflict`` for every disk,
shared or not, which tells nothing specific to shared disks. Nothing
shows ECS refusing attachments of one shared disk to different
instances because another one is in progress.

The model here follows that evidence:

* attachments of one disk to different instances proceed concurrently,
  each with its own ``attaching`` -> ``attached`` transition;
* the instance count, attachments in progress included, is checked in
  the same database transaction that adds the attachment (requests are
  served one at a time), so of 17 AttachDisk calls arriving at once
  exactly 16 are accepted and the 17th gets ``DiskAttachedNumberExceeded``;
* a repeated AttachDisk for an instance that is attaching or attached
  is refused with ``IncorrectDiskStatus``, as is an attachment of a
  single-attach disk that is not ``Available``;
* DescribeDisks lists an attachment in ``Attachments`` once it is
  complete, and the disk is ``Attaching`` while any attachment is in
  progress.
"""

import string

from ebs_emulator import categories
from ebs_emulator import db
from ebs_emulator import exception
from ebs_emulator import lookup
from ebs_emulator import rules

# An NVMe multi-attach disk can be attached to at most 16 instances.
MAX_INSTANCES_PER_DISK = 16
MAX_DISKS_PER_INSTANCE = 64


def _device_names():
    letters = string.ascii_lowercase
    names = ['/dev/xvd%s' % c for c in letters[1:]]
    names += ['/dev/xvd%s%s' % (a, b) for a in letters for b in letters]
    return names[:MAX_DISKS_PER_INSTANCE]


DEVICE_NAMES = _device_names()


def _free_device(session, instance_id):
    used = {row.device for row in
            session.query(db.Attachment).filter_by(instance_id=instance_id)}
    for name in DEVICE_NAMES:
        if name not in used:
            return name
    raise rules.ATTACH_INSTANCE_DISKS.error()


def attach_disk(request):
    params = request.params
    disk = lookup.get_disk(request)
    instance = lookup.get_instance(request)
    instance_id = instance['InstanceId']
    if params.bool('Bootable', default=False):
        if disk.multi_attach:
            raise rules.ATTACH_MULTI_DATA_ONLY.error()
        raise exception.invalid_parameter(
            'Bootable', 'Only data disks can be attached here.')
    delete_with_instance = params.bool('DeleteWithInstance', default=False)
    if delete_with_instance and disk.multi_attach:
        raise rules.ATTACH_MULTI_NO_DELETE_WITH_INSTANCE.error()
    if (disk.category not in categories.REGIONAL_CATEGORIES and
            instance['ZoneId'] != disk.zone_id):
        raise rules.ATTACH_SAME_ZONE.error()
    if disk.status != 'Available':
        raise rules.ATTACH_AVAILABLE.error(
            'The disk is %s; it cannot be attached now.' % disk.status)
    attached_to = {row.instance_id for row in disk.attachments}
    if instance_id in attached_to:
        raise rules.ATTACH_AVAILABLE.error(
            'The disk is already attached to instance %s.' % instance_id)
    if attached_to and not disk.multi_attach:
        raise rules.ATTACH_AVAILABLE.error(
            'The current status of the disk does not support this '
            'operation. The expected disk status is Available.')
    if len(attached_to) >= MAX_INSTANCES_PER_DISK:
        raise rules.ATTACH_MAX_INSTANCES.error(
            'The disk is already attached to %d instances, the maximum.'
            % MAX_INSTANCES_PER_DISK)
    request.session.add(db.Attachment(
        disk_id=disk.id, instance_id=instance_id, state='attaching',
        due_at=request.due(), attached_at=request.now,
        device=_free_device(request.session, instance_id),
        delete_with_instance=delete_with_instance))
    return {}


def detach_disk(request):
    params = request.params
    disk = lookup.get_disk(request)
    instance_id = lookup.get_instance(request)['InstanceId']
    if params.bool('DeleteWithInstance') and disk.multi_attach:
        raise rules.ATTACH_MULTI_NO_DELETE_WITH_INSTANCE.error()
    attachment = request.session.get(db.Attachment, (disk.id, instance_id))
    if attachment is None:
        if not disk.attachments:
            raise rules.DETACH_ALREADY_DETACHED.error()
        raise rules.DETACH_ATTACHED.error()
    if attachment.state == 'detaching':
        raise rules.DETACH_NOT_TWICE.error()
    if attachment.state != 'attached':
        raise rules.DETACH_IN_USE.error(
            'The disk is still being attached to instance %s.' % instance_id)
    attachment.state = 'detaching'
    attachment.due_at = request.due()
    return {}


ACTIONS = {
    'AttachDisk': attach_disk,
    'DetachDisk': detach_disk,
}
