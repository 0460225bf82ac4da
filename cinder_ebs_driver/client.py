"""The EBS backend client: ECS disk API calls for the volume driver.

The driver reaches the backend only through :class:`EBSClient`: one method
per ECS action, built on the official SDK (``alibabacloud_ecs20140526``).
Every method

* answers plain dicts with the ECS key names (DiskId, Status, Attachments,
  ...), and list methods follow the pagination to the end;
* repeats a call that failed for a passing reason (throttling, HTTP 5xx,
  no answer) with exponential backoff, and never one the service refused;
* raises :mod:`cinder_ebs_driver.exceptions` errors carrying the ECS code
  and the RequestId;
* logs the action, its parameters, the RequestId and the duration at
  debug level.  The AccessKey secret never appears in a log line or an
  exception.

Creating calls take a ClientToken: a call repeated because its answer was
lost gets the same disk or snapshot back instead of a second one.  Attach,
detach, resize and spec changes have no such token; when one of them is
repeated and refused, the client checks whether the earlier attempt did the
job before reporting the refusal.

The waiters poll with an interval starting at ``ebs_state_poll_interval``
and doubling up to ten times that, and give up after ``ebs_state_timeout``
seconds with :class:`~cinder_ebs_driver.exceptions.EBSTimeout`.  A wait
for the end of a transition (an attach, a detach, a deletion, a snapshot)
reads the state first when the same kind of transition took to finish
last time (a little earlier, so that the estimate follows a backend that
became faster), not right after the call that started it.
"""

import functools
import json
import re
import time
import uuid

from alibabacloud_ecs20140526 import client as ecs_client
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import models as openapi_models
from cinder import exception as cinder_exception
from darabonba import exceptions as dara_exceptions
from oslo_log import log as logging
from Tea import exceptions as tea_exceptions

from cinder_ebs_driver import backoff
from cinder_ebs_driver import exceptions
from cinder_ebs_driver.i18n import _

LOG = logging.getLogger(__name__)

# The first read of a transition's wait comes at this share of the time
# the last transition of its kind took.
FIRST_POLL_SHARE = 0.8

# Largest page of the Describe* actions, and most ids in one DiskIds or
# SnapshotIds filter.
PAGE_SIZE = 100
MAX_IDS_PER_CALL = 100

MULTI_ATTACH_ENABLED = 'Enabled'
MULTI_ATTACH_DISABLED = 'Disabled'

# Disk statuses of ECS.
DISK_AVAILABLE = 'Available'
DISK_IN_USE = 'In_use'
DISK_ATTACHING = 'Attaching'
DISK_DETACHING = 'Detaching'
DISK_CREATING = 'Creating'
DISK_REINITING = 'ReIniting'

# Snapshot statuses of ECS.
SNAPSHOT_ACCOMPLISHED = 'accomplished'
SNAPSHOT_FAILED = 'failed'

# The refusal of a DetachDisk while the same detach is under way.
DETACHING_FROM_THIS_INSTANCE = 'InvalidOperation.DiskDetachingFromThisEcs'

RESOURCE_TYPE_DISK = 'disk'
RESOURCE_TYPE_SNAPSHOT = 'snapshot'

# Request parameters whose values are never logged.
_SENSITIVE_PARAMS = frozenset(['Password', 'AccessKeySecret',
                               'SecurityToken'])

_CAMEL_BOUNDARY = re.compile(r'(?<!^)(?=[A-Z])')

# What the SDK raises for a failed call: every error answer and every
# failure to get one is a TeaException (see exceptions.from_sdk_error);
# anything else is a bug and propagates untouched.
_SDK_ERRORS = (tea_exceptions.TeaException, dara_exceptions.RetryError,
               IOError)


def _method_name(action):
    """The SDK method of an action: ``CreateDisk`` -> ``create_disk``."""
    return _CAMEL_BOUNDARY.sub('_', action).lower()


def _conf_get(conf, name, default=None):
    """Option ``name`` of ``conf``, or ``default`` when unset or unknown."""
    try:
        value = getattr(conf, name)
    except AttributeError:
        # Also oslo.config's NoSuchOptError, an AttributeError.
        return default
    return default if value is None else value


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def attached_instance_ids(disk):
    """The ids of the instances a disk (a DescribeDisks item) is attached to.

    Reads ``Attachments`` (every attachment of a multi-attach disk) and,
    for answers that only name one instance, ``InstanceId``.
    """
    disk = disk or {}
    ids = []
    attachments = disk.get('Attachments') or {}
    if isinstance(attachments, dict):
        attachments = attachments.get('Attachment') or []
    for attachment in attachments:
        instance_id = attachment.get('InstanceId')
        if instance_id and instance_id not in ids:
            ids.append(instance_id)
    if disk.get('InstanceId') and disk['InstanceId'] not in ids:
        ids.append(disk['InstanceId'])
    return ids


def _describe_disk(disk):
    if disk is None:
        return _('disk deleted')
    return _('status %(status)s, attached to %(instances)s') % {
        'status': disk.get('Status'),
        'instances': ', '.join(attached_instance_ids(disk)) or _('nothing')}


class EBSClient(object):
    """ECS disk, snapshot and instance calls for one Cinder backend.

    :param conf: the backend's configuration: a Cinder ``Configuration``
        or an oslo.config group holding
        :data:`cinder_ebs_driver.options.ebs_opts` (read by attribute).
    :param retry_interval: base backoff between two attempts of a call,
        seconds; ``ebs_api_retry_interval`` by default.
    :param sleep: the function used to wait between attempts and polls
        (tenacity's, that is ``time.sleep``, by default).
    """

    # Items asked for per page of a Describe* action.
    page_size = PAGE_SIZE

    def __init__(self, conf, retry_interval=None, sleep=None):
        self._region_id = _conf_get(conf, 'ebs_region_id')
        self._zone_id = _conf_get(conf, 'ebs_zone_id')
        access_key_id = _conf_get(conf, 'ebs_access_key_id')
        access_key_secret = _conf_get(conf, 'ebs_access_key_secret')
        missing = [name for name, value in (
            ('ebs_region_id', self._region_id),
            ('ebs_access_key_id', access_key_id),
            ('ebs_access_key_secret', access_key_secret)) if not value]
        if missing:
            raise cinder_exception.InvalidConfigurationValue(
                _('The EBS backend needs %s.') % ', '.join(missing))
        self._secrets = (access_key_secret,)
        timeout_ms = int(_conf_get(conf, 'ebs_api_timeout', 30) * 1000)
        self._retries = int(_conf_get(conf, 'ebs_api_retries', 5))
        if retry_interval is None:
            retry_interval = _conf_get(conf, 'ebs_api_retry_interval', 1.0)
        self._retry_interval = float(retry_interval)
        self._poll_interval = float(
            _conf_get(conf, 'ebs_state_poll_interval', 1.0))
        self._state_timeout = float(_conf_get(conf, 'ebs_state_timeout', 300))
        self._sleep = sleep
        # Seconds the last transition of each kind took to be seen done.
        self._transition_times = {}
        self.endpoint = _conf_get(conf, 'ebs_endpoint')
        config = openapi_models.Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            region_id=self._region_id,
            endpoint=self.endpoint,
            protocol=_conf_get(conf, 'ebs_protocol', 'https'),
            read_timeout=timeout_ms,
            connect_timeout=timeout_ms)
        self._sdk = ecs_client.Client(config)

    # ------------------------------------------------------------------
    # Calling the API

    def _loggable(self, request):
        """The request's parameters, fit for a log line."""
        def clean(value):
            if isinstance(value, dict):
                return {key: (exceptions.REDACTED
                              if key in _SENSITIVE_PARAMS else clean(item))
                        for key, item in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(item) for item in value]
            if isinstance(value, str):
                return exceptions.redact(value, self._secrets)
            return value
        return {key: clean(value)
                for key, value in request.to_map().items()
                if value not in (None, [], {})}

    def _invoke(self, action, request, params):
        """One attempt of a call: the response body, or an EBSBackendError."""
        method = getattr(self._sdk, _method_name(action))
        start = time.monotonic()
        try:
            response = method(request)
        except _SDK_ERRORS as error:
            failure = exceptions.from_sdk_error(action, error, self._secrets)
            LOG.debug('ECS %(action)s %(params)s failed after %(duration).3f '
                      's: %(error)s',
                      {'action': action, 'params': params,
                       'duration': time.monotonic() - start,
                       'error': failure.msg})
            # The translation says all the SDK error said, secrets masked;
            # the SDK error itself (which holds the signed request) is not
            # chained so that no traceback prints it.
            raise failure from None
        body = response.body.to_map() if response.body is not None else {}
        LOG.debug('ECS %(action)s %(params)s: RequestId %(request_id)s, '
                  '%(duration).3f s',
                  {'action': action, 'params': params,
                   'request_id': body.get('RequestId'),
                   'duration': time.monotonic() - start})
        return body

    def _before_retry(self, action):
        def log(retry_state):
            error = retry_state.outcome.exception()
            LOG.warning('ECS %(action)s attempt %(attempt)d of %(attempts)d '
                        'failed (%(error)s); retrying in %(wait).2f s',
                        {'action': action,
                         'attempt': retry_state.attempt_number,
                         'attempts': self._retries + 1,
                         'error': getattr(error, 'msg', error),
                         'wait': retry_state.next_action.sleep})
        return log

    def _call(self, action, request, already_done=None):
        """Call ``action`` with retries; answer the response body dict.

        :param already_done: for calls without a ClientToken: a function
            of the refusal telling whether the effect of the call is already
            in place (or under way).  It is asked when a repeated attempt is
            refused, since the refusal may come from an earlier attempt that
            worked but whose answer was lost; when it says yes the call
            succeeds.
        """
        params = self._loggable(request)
        attempts = []

        def attempt():
            attempts.append(None)
            try:
                return self._invoke(action, request, params)
            except exceptions.EBSBackendError as error:
                if (len(attempts) > 1 and already_done is not None
                        and not error.retryable
                        and self._check_done(action, already_done,
                                             error)):
                    LOG.info('ECS %(action)s %(params)s: a repeated attempt '
                             'was refused (%(code)s), but an earlier one '
                             'did it.', {'action': action, 'params': params,
                                         'code': error.code})
                    return {}
                raise

        retrying = backoff.api_retrying(
            self._retries, self._retry_interval,
            before_sleep=self._before_retry(action), sleep=self._sleep)
        return retrying(attempt)

    @staticmethod
    def _check_done(action, already_done, refusal):
        try:
            return already_done(refusal)
        except exceptions.EBSBackendError as error:
            LOG.debug('Could not check whether ECS %(action)s is done: '
                      '%(error)s', {'action': action, 'error': error.msg})
            return False

    def _paginate(self, action, make_request, list_key, item_key, id_key):
        """Every item of a paginated Describe* action, in order.

        :param make_request: builds the request for a page:
            ``make_request(page_number, page_size)``.
        """
        items = []
        seen = set()
        page_number = 1
        while True:
            body = self._call(action,
                              make_request(page_number, self.page_size))
            batch = (body.get(list_key) or {}).get(item_key) or []
            for item in batch:
                # Items that moved between pages while paging come twice.
                if item.get(id_key) not in seen:
                    seen.add(item.get(id_key))
                    items.append(item)
            page_size = body.get('PageSize') or self.page_size
            total = body.get('TotalCount')
            if len(batch) < page_size:
                break
            if total is not None and page_number * page_size >= total:
                break
            page_number += 1
        return items

    @staticmethod
    def _tags(model, tags):
        if not tags:
            return None
        # A None value is left out: the filter then matches any value.
        return [model(key=key, value=value)
                for key, value in sorted(tags.items())]

    # ------------------------------------------------------------------
    # Disks

    def create_disk(self, name, size_gb, category, performance_level,
                    multi_attach, client_token, description=None, tags=None,
                    snapshot_id=None, encrypted=False):
        """Create a data disk in the configured zone; answer its id.

        :param size_gb: size in GiB; may be None with ``snapshot_id`` (the
            snapshot's size).
        :param performance_level: ``PL0``..``PL3`` or None.
        :param multi_attach: whether several instances may attach it; fixed
            for the disk's life.
        :param client_token: idempotency token (at most 64 ASCII
            characters), the same for every try of the same creation.
        :param tags: dict of tag key to value.
        """
        request = ecs_models.CreateDiskRequest(
            region_id=self._region_id,
            zone_id=self._zone_id,
            disk_name=name,
            size=size_gb,
            disk_category=category,
            performance_level=performance_level,
            multi_attach=(MULTI_ATTACH_ENABLED if multi_attach
                          else MULTI_ATTACH_DISABLED),
            client_token=client_token,
            description=description,
            tag=self._tags(ecs_models.CreateDiskRequestTag, tags),
            snapshot_id=snapshot_id,
            encrypted=True if encrypted else None)
        return self._call('CreateDisk', request)['DiskId']

    def delete_disk(self, disk_id):
        """Delete a disk.

        :raises EBSNotFound: when the disk does not exist (any more).
        """
        self._call('DeleteDisk', ecs_models.DeleteDiskRequest(disk_id=disk_id))

    def get_disk(self, disk_id):
        """The DescribeDisks item of a disk.

        :raises EBSNotFound: when the disk does not exist.
        """
        request = ecs_models.DescribeDisksRequest(
            region_id=self._region_id, disk_ids=json.dumps([disk_id]))
        body = self._call('DescribeDisks', request)
        for disk in (body.get('Disks') or {}).get('Disk') or []:
            if disk.get('DiskId') == disk_id:
                return disk
        raise exceptions.EBSNotFound(
            action='DescribeDisks', code='InvalidDiskId.NotFound',
            error_message=_('The disk %s does not exist.') % disk_id,
            request_id=body.get('RequestId'))

    def _find_disk(self, disk_id):
        """The disk, or None when it does not exist."""
        try:
            return self.get_disk(disk_id)
        except exceptions.EBSNotFound:
            return None

    def list_disks(self, disk_ids=None, tags=None, status=None):
        """DescribeDisks items of the region, every page.

        :param disk_ids: only these disks (an empty list: none).
        :param tags: dict of tag key to value that every disk must carry
            (a value of None: any value of that key).
        :param status: only disks in this status.
        """
        if disk_ids is not None:
            disks = []
            for chunk in _chunks(disk_ids, MAX_IDS_PER_CALL):
                disks.extend(self._list_disks(chunk, tags, status))
            return disks
        return self._list_disks(None, tags, status)

    def _list_disks(self, disk_ids, tags, status):
        def make_request(page_number, page_size):
            return ecs_models.DescribeDisksRequest(
                region_id=self._region_id,
                disk_ids=json.dumps(disk_ids) if disk_ids else None,
                tag=self._tags(ecs_models.DescribeDisksRequestTag, tags),
                status=status,
                page_number=page_number,
                page_size=page_size)
        return self._paginate('DescribeDisks', make_request, 'Disks', 'Disk',
                              'DiskId')

    def attach_disk(self, disk_id, instance_id):
        """Start attaching a disk to an instance (see wait_for_attachment)."""
        def already_done(error):
            disk = self.get_disk(disk_id)
            if (disk.get('Status') == DISK_ATTACHING
                    and instance_id not in attached_instance_ids(disk)):
                # An attachment in progress is not listed yet: it may be
                # the one of the earlier attempt.
                disk = self._poll(
                    functools.partial(self.get_disk, disk_id),
                    lambda d: d.get('Status') != DISK_ATTACHING,
                    _('disk %s to finish attaching') % disk_id,
                    _describe_disk, None)
            return instance_id in attached_instance_ids(disk)
        request = ecs_models.AttachDiskRequest(disk_id=disk_id,
                                               instance_id=instance_id)
        self._call('AttachDisk', request, already_done=already_done)

    def detach_disk(self, disk_id, instance_id):
        """Start detaching a disk from an instance."""
        def already_done(error):
            if error.code == DETACHING_FROM_THIS_INSTANCE:
                return True
            disk = self._find_disk(disk_id)
            return (disk is None
                    or instance_id not in attached_instance_ids(disk))
        request = ecs_models.DetachDiskRequest(disk_id=disk_id,
                                               instance_id=instance_id)
        self._call('DetachDisk', request, already_done=already_done)

    def resize_disk(self, disk_id, new_size_gb, online=False):
        """Grow a disk to ``new_size_gb`` GiB.

        :param online: resize an attached disk without restarting (the
            ``online`` type); otherwise ``offline``.
        """
        def already_done(error):
            return self.get_disk(disk_id).get('Size') == new_size_gb
        request = ecs_models.ResizeDiskRequest(
            disk_id=disk_id, new_size=new_size_gb,
            type='online' if online else 'offline',
            client_token=str(uuid.uuid4()))
        self._call('ResizeDisk', request, already_done=already_done)

    def modify_disk_spec(self, disk_id, performance_level=None,
                         category=None):
        """Change a disk's performance level or category in place."""
        def already_done(error):
            disk = self.get_disk(disk_id)
            return ((performance_level is None
                     or disk.get('PerformanceLevel') == performance_level)
                    and (category is None
                         or disk.get('Category') == category))
        request = ecs_models.ModifyDiskSpecRequest(
            disk_id=disk_id, performance_level=performance_level,
            disk_category=category)
        self._call('ModifyDiskSpec', request, already_done=already_done)

    def modify_disk_attribute(self, disk_id, name=None, description=None):
        """Rename a disk or change its description."""
        request = ecs_models.ModifyDiskAttributeRequest(
            disk_id=disk_id, disk_name=name, description=description)
        self._call('ModifyDiskAttribute', request)

    def _tag(self, resource_type, resource_id, tags):
        request = ecs_models.TagResourcesRequest(
            region_id=self._region_id, resource_type=resource_type,
            resource_id=[resource_id],
            tag=self._tags(ecs_models.TagResourcesRequestTag, tags))
        self._call('TagResources', request)

    def _untag(self, resource_type, resource_id, keys):
        request = ecs_models.UntagResourcesRequest(
            region_id=self._region_id, resource_type=resource_type,
            resource_id=[resource_id], tag_key=list(keys))
        self._call('UntagResources', request)

    def tag_disk(self, disk_id, tags):
        """Add or overwrite tags (dict of key to value) on a disk."""
        self._tag(RESOURCE_TYPE_DISK, disk_id, tags)

    def untag_disk(self, disk_id, keys):
        """Remove the tags with these keys from a disk."""
        self._untag(RESOURCE_TYPE_DISK, disk_id, keys)

    def tag_snapshot(self, snapshot_id, tags):
        """Add or overwrite tags (dict of key to value) on a snapshot."""
        self._tag(RESOURCE_TYPE_SNAPSHOT, snapshot_id, tags)

    def untag_snapshot(self, snapshot_id, keys):
        """Remove the tags with these keys from a snapshot."""
        self._untag(RESOURCE_TYPE_SNAPSHOT, snapshot_id, keys)

    def reset_disk(self, disk_id, snapshot_id):
        """Roll a disk back to one of its snapshots (disk not attached)."""
        request = ecs_models.ResetDiskRequest(disk_id=disk_id,
                                              snapshot_id=snapshot_id)
        self._call('ResetDisk', request)

    # ------------------------------------------------------------------
    # Snapshots

    def create_snapshot(self, disk_id, name, client_token, description=None,
                        tags=None):
        """Start a snapshot of a disk; answer its id.

        :param client_token: idempotency token, the same for every try of
            the same snapshot.
        """
        request = ecs_models.CreateSnapshotRequest(
            disk_id=disk_id, snapshot_name=name, client_token=client_token,
            description=description,
            tag=self._tags(ecs_models.CreateSnapshotRequestTag, tags))
        return self._call('CreateSnapshot', request)['SnapshotId']

    def delete_snapshot(self, snapshot_id):
        """Delete a snapshot.

        :raises EBSNotFound: when the snapshot does not exist (any more).
        """
        self._call('DeleteSnapshot',
                   ecs_models.DeleteSnapshotRequest(snapshot_id=snapshot_id))

    def get_snapshot(self, snapshot_id):
        """The DescribeSnapshots item of a snapshot.

        :raises EBSNotFound: when the snapshot does not exist.
        """
        request = ecs_models.DescribeSnapshotsRequest(
            region_id=self._region_id,
            snapshot_ids=json.dumps([snapshot_id]))
        body = self._call('DescribeSnapshots', request)
        for snapshot in (body.get('Snapshots') or {}).get('Snapshot') or []:
            if snapshot.get('SnapshotId') == snapshot_id:
                return snapshot
        raise exceptions.EBSNotFound(
            action='DescribeSnapshots', code='InvalidSnapshotId.NotFound',
            error_message=_('The snapshot %s does not exist.') % snapshot_id,
            request_id=body.get('RequestId'))

    def list_snapshots(self, disk_id=None, snapshot_ids=None, tags=None):
        """DescribeSnapshots items of the region, every page.

        :param disk_id: only snapshots of this disk.
        :param snapshot_ids: only these snapshots (an empty list: none).
        :param tags: dict of tag key to value that every snapshot carries.
        """
        if snapshot_ids is not None:
            snapshots = []
            for chunk in _chunks(snapshot_ids, MAX_IDS_PER_CALL):
                snapshots.extend(self._list_snapshots(disk_id, chunk, tags))
            return snapshots
        return self._list_snapshots(disk_id, None, tags)

    def _list_snapshots(self, disk_id, snapshot_ids, tags):
        def make_request(page_number, page_size):
            return ecs_models.DescribeSnapshotsRequest(
                region_id=self._region_id,
                disk_id=disk_id,
                snapshot_ids=(json.dumps(snapshot_ids) if snapshot_ids
                              else None),
                tag=self._tags(ecs_models.DescribeSnapshotsRequestTag, tags),
                page_number=page_number,
                page_size=page_size)
        return self._paginate('DescribeSnapshots', make_request, 'Snapshots',
                              'Snapshot', 'SnapshotId')

    # ------------------------------------------------------------------
    # Instances

    def list_instances(self):
        """DescribeInstances items of the region, every page."""
        def make_request(page_number, page_size):
            return ecs_models.DescribeInstancesRequest(
                region_id=self._region_id,
                page_number=page_number,
                page_size=page_size)
        return self._paginate('DescribeInstances', make_request, 'Instances',
                              'Instance', 'InstanceId')

    # ------------------------------------------------------------------
    # Waiters

    def _poll(self, fetch, done, waited_for, describe, timeout,
              transition=None):
        """Poll; ``transition`` names the kind of change waited for.

        The first read of a transition's wait comes at
        FIRST_POLL_SHARE of the time the last one of its kind took.
        """
        expected = self._transition_times.get(transition, 0.0)
        start = time.monotonic()
        result = backoff.poll(
            fetch, done, self._poll_interval,
            self._state_timeout if timeout is None else timeout,
            waited_for, describe=describe, sleep=self._sleep,
            first_delay=expected * FIRST_POLL_SHARE)
        if transition is not None:
            self._transition_times[transition] = time.monotonic() - start
        return result

    def wait_for_disk_status(self, disk_id, statuses, timeout=None,
                             transition=None):
        """Wait until a disk is in one of ``statuses``; answer the disk.

        :param statuses: a status or a collection of them.
        :param timeout: seconds; ``ebs_state_timeout`` by default.
        :param transition: the kind of change waited for (``'create'``
            ...), when a call just started one: the first read then comes
            when the last change of that kind was done.
        :raises EBSTimeout: not in time.
        :raises EBSNotFound: the disk disappeared.
        """
        if isinstance(statuses, str):
            statuses = (statuses,)
        statuses = tuple(statuses)
        return self._poll(
            lambda: self.get_disk(disk_id),
            lambda disk: disk.get('Status') in statuses,
            _('disk %(disk)s to reach status %(statuses)s') % {
                'disk': disk_id, 'statuses': ' or '.join(statuses)},
            _describe_disk, timeout, transition=transition)

    def wait_for_attachment(self, disk_id, instance_id, attached=True,
                            timeout=None):
        """Wait until a disk is attached to (or detached from) an instance.

        Attached means the instance is listed in the disk's attachments;
        detached means it is not listed (or the disk is gone).  A
        multi-attach disk lists an attachment once it is complete; for
        other disks the disk must also have left ``Attaching`` or
        ``Detaching``.  Answers the disk (None when waiting for a detach
        of a deleted disk).

        :raises EBSTimeout: not in time.
        """
        def settled(disk, transient):
            return (disk.get('MultiAttach') == MULTI_ATTACH_ENABLED
                    or disk.get('Status') != transient)

        if attached:
            def done(disk):
                return (instance_id in attached_instance_ids(disk)
                        and settled(disk, DISK_ATTACHING))
            fetch = functools.partial(self.get_disk, disk_id)
            waited_for = _('disk %(disk)s to be attached to %(instance)s')
            transition = 'attach'
        else:
            def done(disk):
                return disk is None or (
                    instance_id not in attached_instance_ids(disk)
                    and settled(disk, DISK_DETACHING))
            fetch = functools.partial(self._find_disk, disk_id)
            waited_for = _('disk %(disk)s to be detached from %(instance)s')
            transition = 'detach'
        return self._poll(
            fetch, done,
            waited_for % {'disk': disk_id, 'instance': instance_id},
            _describe_disk, timeout, transition=transition)

    def wait_for_snapshot(self, snapshot_id, timeout=None):
        """Wait until a snapshot is ``accomplished``; answer the snapshot.

        :raises EBSBackendError: the snapshot failed.
        :raises EBSTimeout: not in time.
        """
        def fetch():
            snapshot = self.get_snapshot(snapshot_id)
            if snapshot.get('Status') == SNAPSHOT_FAILED:
                raise exceptions.EBSBackendError(
                    action='CreateSnapshot', code='SnapshotFailed',
                    error_message=_('The snapshot %s failed.') % snapshot_id)
            return snapshot

        def describe(snapshot):
            return _('status %(status)s, progress %(progress)s') % {
                'status': snapshot.get('Status'),
                'progress': snapshot.get('Progress')}

        return self._poll(
            fetch,
            lambda snapshot: snapshot.get('Status') == SNAPSHOT_ACCOMPLISHED,
            _('snapshot %s to be accomplished') % snapshot_id,
            describe, timeout, transition='snapshot')

    def wait_for_disk_deleted(self, disk_id, timeout=None):
        """Wait until a disk is no longer listed.

        :raises EBSTimeout: not in time.
        """
        self._poll(
            lambda: self._find_disk(disk_id),
            lambda disk: disk is None,
            _('disk %s to be deleted') % disk_id,
            _describe_disk, timeout, transition='delete')
