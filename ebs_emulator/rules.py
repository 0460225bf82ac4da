"""The rule book: every ECS rule the emulator enforces, with its source.

The emulator stands in for Alibaba Cloud's ECS 2014-05-26 disk API, so
each precondition it checks is one of the real service's, found on the
page cited here (the API reference page of the action, the multi-attach
guide, the idempotence page).  The actions raise these rules' errors
(``raise rules.X.error()``); the unit tests trigger every rule through the
official SDK; ``ebs-emulator rules --rst`` writes the documentation page
from this table, and a test checks the committed page against it.

Where Alibaba's pages disagree with each other, the rule belongs to a
:class:`Dispute` with one reading per page, and the emulator enforces the
reading it was started with (``--reading DISPUTE=READING``;
``--strict-readings`` picks every dispute's strict reading).  A
:class:`Scope` entry is not an ECS rule but a limit of the emulator,
listed so that nobody takes it for one.
"""

import collections
import dataclasses

from ebs_emulator import exception

_API = 'https://www.alibabacloud.com/help/en/ecs/developer-reference/'
CREATE_DISK = 'https://alibabacloud.com/help/doc-detail/25513.htm'
DELETE_DISK = 'https://alibabacloud.com/help/en/ecs/api-deletedisk'
ATTACH_DISK = 'https://alibabacloud.com/help/en/ecs/api-attachdisk'
DETACH_DISK = 'https://alibabacloud.com/help/en/ecs/api-detachdisk'
DESCRIBE_DISKS = 'https://alibabacloud.com/help/en/ecs/api-describedisks'
RESIZE_DISK = 'https://alibabacloud.com/help/doc-detail/25522.htm'
MODIFY_DISK_SPEC = _API + 'api-ecs-2014-05-26-modifydiskspec'
MODIFY_DISK_ATTRIBUTE = 'https://alibabacloud.com/help/doc-detail/25517.htm'
CREATE_SNAPSHOT = 'https://alibabacloud.com/help/en/doc-detail/25524.htm'
DELETE_SNAPSHOT = 'https://alibabacloud.com/help/en/ecs/api-deletesnapshot'
DESCRIBE_SNAPSHOTS = 'https://alibabacloud.com/help/doc-detail/25526.htm'
RESET_DISK = 'https://alibabacloud.com/help/en/ecs/api-resetdisk'
DESCRIBE_INSTANCES = 'https://www.alibabacloud.com/help/doc-detail/25506.html'
TAG_RESOURCES = 'https://www.alibabacloud.com/help/doc-detail/110424.html'
UNTAG_RESOURCES = 'https://alibabacloud.com/help/tc/ecs/api-untagresources'
IDEMPOTENCE = 'https://alibabacloud.com/help/en/doc-detail/25693.html'
THROTTLING = 'https://www.alibabacloud.com/help/doc-detail/437902.htm'
PUBLIC_ERRORS = 'https://error-center.alibabacloud.com/status/product/Public'
STS_ERRORS = 'https://www.alibabacloud.com/help/doc-detail/42775.htm'
RPC_SIGNATURE = 'https://www.alibabacloud.com/help/doc-detail/196741.htm'
METADATA = ('https://www.alibabacloud.com/help/en/ecs/user-guide/'
            'view-instance-metadata/')
METADATA_OPTIONS = (_API + 'api-ecs-2014-05-26-modifyinstancemetadataoptions')
MULTI_ATTACH_GUIDE = ('https://www.alibabacloud.com/help/en/ecs/user-guide/'
                      'enable-multi-attach')
ESSD_PAGE = 'https://www.alibabacloud.com/help/doc-detail/122389.html'
AUTOPL_PAGE = ('https://alibabacloud.com/help/en/ecs/user-guide/'
               'essd-autopl-disks')
AUTOPL_OLD_PAGE = ('https://www.alibabacloud.com/help/en/'
                   'elastic-compute-service/latest/essd-autopl')
BLOCK_STORAGE_PERFORMANCE = ('https://www.alibabacloud.com/help/en/ecs/'
                             'user-guide/block-storage-performance')


@dataclasses.dataclass(frozen=True)
class Dispute(object):
    """Two Alibaba pages that say different things about one rule."""

    key: str
    question: str
    # reading name -> (what that page says, its URL)
    readings: dict
    default: str
    strict: str


@dataclasses.dataclass(frozen=True)
class Rule(object):
    """One rule of the real service.

    :ivar refusal: the error the service answers, or None for a rule
        about how it answers (a repeated token, paging, a missing id).
    :ivar dispute: the :class:`Dispute` the rule depends on, if any.
    :ivar reading: the reading of that dispute under which it applies.
    """

    key: str
    action: str
    text: str
    source: str
    refusal: object = None
    dispute: str = None
    reading: str = None

    def applies(self, readings):
        """Whether the rule holds under these readings of the disputes."""
        return self.dispute is None or readings[self.dispute] == self.reading

    def error(self, message=None):
        return self.refusal(message)


@dataclasses.dataclass(frozen=True)
class Scope(object):
    """A limit of the emulator that is not a rule of ECS."""

    action: str
    text: str


DISPUTES = collections.OrderedDict((d.key, d) for d in (
    Dispute(
        'multi-attach-categories',
        'Which disk categories can enable multi-attach?',
        {'guide': ('ESSD, ESSD AutoPL and Regional ESSD (the multi-attach '
                   'guide)', MULTI_ATTACH_GUIDE),
         'createdisk': ('ESSD only (CreateDisk, parameter MultiAttach)',
                        CREATE_DISK)},
        default='guide', strict='createdisk'),
    Dispute(
        'multi-attach-online-resize',
        'Can an attached multi-attach disk be resized online?',
        {'description': ('yes: "you can resize the disk online or offline" '
                         '(ResizeDisk, operation description)', RESIZE_DISK),
         'error-table': ('no: InvalidOperation.MultiAttachDiskNotSupport'
                         'ResizeOnline (ResizeDisk, error table)',
                         RESIZE_DISK)},
        default='description', strict='error-table'),
    Dispute(
        'size-below-snapshot',
        'CreateDisk with a Size smaller than the snapshot\'s?',
        {'parameter': ('the disk takes the snapshot\'s size (CreateDisk, '
                       'parameter SnapshotId)', CREATE_DISK),
         'error-table': ('refused with InvalidDiskSize.TooSmall (CreateDisk, '
                         'error table)', CREATE_DISK)},
        default='parameter', strict='error-table'),
    Dispute(
        'delete-missing',
        'DeleteDisk or DeleteSnapshot of an id that does not exist?',
        {'ignored': ('the request is ignored (DeleteDisk and DeleteSnapshot, '
                     'operation descriptions)', DELETE_SNAPSHOT),
         'not-found': ('InvalidDiskId.NotFound / InvalidSnapshotId.NotFound, '
                       '404 (their error tables)', DELETE_DISK)},
        default='ignored', strict='not-found'),
    Dispute(
        'token-mismatch-code',
        'The answer to a ClientToken used again with other parameters?',
        {'idempotence-page': ('IdempotentParameterMismatch, 403 (the '
                              'idempotence page; CreateSnapshot\'s error '
                              'table)', IDEMPOTENCE),
         'instance-pages': ('IdempotenceParamNotMatch, 400 (RunInstances, '
                            'CreateImage, RenewDedicatedHosts)',
                            IDEMPOTENCE)},
        default='idempotence-page', strict='instance-pages'),
    Dispute(
        'autopl-baseline',
        'Has an ESSD AutoPL disk\'s baseline a floor?',
        {'current-guide': ('yes: max{min{1,800 + 50 x Size, 50,000}, 3,000} '
                           'IOPS and max{min{120 + 0.5 x Size, 350}, 125} '
                           'MB/s; CreateDisk\'s ProvisionedIops range '
                           'uses it (the AutoPL page of 2026)', AUTOPL_PAGE),
         'older-guide': ('no: min{1,800 + 50 x Size, 50,000} IOPS and '
                         'min{120 + 0.5 x Size, 350} MB/s, a PL1 ESSD\'s '
                         '(the AutoPL page of 2024; ModifyDiskSpec\'s '
                         'ProvisionedIops range)', AUTOPL_OLD_PAGE)},
        default='current-guide', strict='older-guide'),
))


def default_readings():
    return {key: dispute.default for key, dispute in DISPUTES.items()}


def strict_readings():
    return {key: dispute.strict for key, dispute in DISPUTES.items()}


def parse_readings(strict=False, overrides=()):
    """Readings from ``--strict-readings`` and ``--reading`` values.

    :raises ValueError: for an unknown dispute or reading.
    """
    readings = strict_readings() if strict else default_readings()
    for item in overrides or ():
        key, sep, reading = item.partition('=')
        dispute = DISPUTES.get(key.strip())
        if not sep or dispute is None:
            raise ValueError('unknown dispute in --reading %s (known: %s)'
                             % (item, ', '.join(DISPUTES)))
        if reading.strip() not in dispute.readings:
            raise ValueError('unknown reading in --reading %s (known: %s)'
                             % (item, ', '.join(dispute.readings)))
        readings[dispute.key] = reading.strip()
    return readings


RULES = []


def _rule(key, action, text, source, refusal=None, dispute=None,
          reading=None):
    rule = Rule(key, action, text, source, refusal, dispute, reading)
    RULES.append(rule)
    return rule


# -- every action ------------------------------------------------------------
REQUEST_ID = _rule(
    'request-id', '*', 'Every answer, error or not, carries a RequestId.',
    IDEMPOTENCE)
TOKEN_FORMAT = _rule(
    'token-format', '*', 'A ClientToken is at most 64 ASCII characters.',
    IDEMPOTENCE, exception.invalid_parameter_factory('ClientToken'))
TOKEN_SAME = _rule(
    'token-same', '*',
    'The same ClientToken with the same parameters answers the first '
    'request\'s result and changes nothing (CreateDisk, CreateSnapshot, '
    'ResizeDisk).', IDEMPOTENCE)
TOKEN_MISMATCH = _rule(
    'token-mismatch', '*',
    'The same ClientToken with other parameters is refused.', IDEMPOTENCE,
    exception.token_mismatch, 'token-mismatch-code', 'idempotence-page')
TOKEN_MISMATCH_OLD = _rule(
    'token-mismatch-old', '*',
    'The same ClientToken with other parameters is refused.', IDEMPOTENCE,
    exception.idempotent_mismatch, 'token-mismatch-code', 'instance-pages')
REGION = _rule(
    'region', '*', 'RegionId names the service\'s region.', CREATE_DISK,
    exception.invalid_region)
THROTTLED = _rule(
    'throttling', '*',
    'Calls are throttled per account, region and API each minute '
    '(Throttling; 403 in CreateSnapshot\'s table, 400 on other pages; the '
    'emulator throttles only when a fault rule asks).', THROTTLING)

# -- CreateDisk --------------------------------------------------------------
CREATE_ZONE = _rule(
    'create-zone', 'CreateDisk',
    'ZoneId is required, except for Regional ESSD.', CREATE_DISK,
    exception.missing_parameter_factory('ZoneId'))
CREATE_ZONE_EXISTS = _rule(
    'create-zone-exists', 'CreateDisk', 'ZoneId names a zone of the region.',
    CREATE_DISK, exception.invalid_zone)
CREATE_CATEGORY = _rule(
    'create-category', 'CreateDisk',
    'DiskCategory is one of the documented categories.', CREATE_DISK,
    exception.invalid_category)
CREATE_LEVEL = _rule(
    'create-level', 'CreateDisk', 'PerformanceLevel is PL0, PL1, PL2 or PL3.',
    CREATE_DISK, exception.invalid_performance_level)
CREATE_SIZE = _rule(
    'create-size', 'CreateDisk',
    'Size is within the category\'s range (cloud_essd 1-65536, cloud_auto '
    '1-65536, cloud_regional_disk_auto 10-65536, ... GiB).', CREATE_DISK,
    exception.size_out_of_range)
CREATE_SIZE_VALUE = _rule(
    'create-size-value', 'CreateDisk', 'Size is a positive whole number.',
    CREATE_DISK, exception.invalid_size)
CREATE_LEVEL_SIZE = _rule(
    'create-level-size', 'CreateDisk',
    'An ESSD\'s size fits its level: PL1 from 20 GiB, PL2 from 461, PL3 '
    'from 1261.', CREATE_DISK, exception.performance_level_mismatch)
CREATE_SIZE_OR_SNAPSHOT = _rule(
    'create-size-or-snapshot', 'CreateDisk',
    'Either SnapshotId or Size is given.', CREATE_DISK,
    exception.size_or_snapshot)
CREATE_SNAPSHOT_EXISTS = _rule(
    'create-snapshot-exists', 'CreateDisk', 'SnapshotId exists.',
    CREATE_DISK, exception.snapshot_not_found)
CREATE_SNAPSHOT_READY = _rule(
    'create-snapshot-ready', 'CreateDisk',
    'The snapshot has completed.', CREATE_DISK, exception.snapshot_not_ready)
CREATE_SIZE_RAISED = _rule(
    'create-size-raised', 'CreateDisk',
    'A Size smaller than the snapshot\'s becomes the snapshot\'s size.',
    CREATE_DISK, None, 'size-below-snapshot', 'parameter')
CREATE_SIZE_BELOW_SNAPSHOT = _rule(
    'create-size-below-snapshot', 'CreateDisk',
    'A Size smaller than the snapshot\'s is refused.', CREATE_DISK,
    exception.size_below_snapshot, 'size-below-snapshot', 'error-table')
CREATE_MULTI_ATTACH_VALUE = _rule(
    'create-multi-attach-value', 'CreateDisk',
    'MultiAttach is Enabled or Disabled.', CREATE_DISK,
    exception.invalid_multi_attach)
CREATE_MULTI_ATTACH_GUIDE = _rule(
    'create-multi-attach-guide', 'CreateDisk',
    'Multi-attach only for ESSD, ESSD AutoPL and Regional ESSD.',
    MULTI_ATTACH_GUIDE, exception.multi_attach_category,
    'multi-attach-categories', 'guide')
CREATE_MULTI_ATTACH_ESSD = _rule(
    'create-multi-attach-essd', 'CreateDisk', 'Multi-attach only for ESSD.',
    CREATE_DISK, exception.multi_attach_category, 'multi-attach-categories',
    'createdisk')
CREATE_PROVISIONED_CATEGORY = _rule(
    'create-provisioned-category', 'CreateDisk',
    'ProvisionedIops only for ESSD AutoPL (cloud_auto).', CREATE_DISK,
    exception.provisioned_iops_category)
CREATE_PROVISIONED_LIMIT = _rule(
    'create-provisioned-limit', 'CreateDisk',
    'ProvisionedIops is 0 to min{1,000 x Size - baseline IOPS, 50,000}; '
    'none up to 3 GiB.', AUTOPL_PAGE, exception.provisioned_iops_limit)
CREATE_BURSTING_CATEGORY = _rule(
    'create-bursting-category', 'CreateDisk',
    'BurstingEnabled only for ESSD AutoPL (cloud_auto).', CREATE_DISK,
    exception.bursting_category)
CREATE_BURSTING_MULTI_ATTACH = _rule(
    'create-bursting-multi-attach', 'CreateDisk',
    'No BurstingEnabled on a multi-attach disk.', AUTOPL_OLD_PAGE,
    exception.bursting_multi_attach)
CREATE_BURSTING_SIZE = _rule(
    'create-bursting-size', 'CreateDisk',
    'BurstingEnabled only for a disk larger than 3 GiB.', AUTOPL_PAGE,
    exception.bursting_size)
CREATE_NAME = _rule(
    'create-name', 'CreateDisk',
    'DiskName: 2-128 characters, starting with a letter; letters, digits, '
    '":", "_", ".", "-".', CREATE_DISK, exception.invalid_disk_name)
CREATE_DESCRIPTION = _rule(
    'create-description', 'CreateDisk',
    'Description: 2-256 characters, not starting with http:// or https://.',
    CREATE_DISK, exception.invalid_description)
CREATE_TAGS = _rule(
    'create-tags', 'CreateDisk',
    'At most 20 tags; a key of 1-128 characters, not starting with acs: or '
    'aliyun and without http(s)://; a value of at most 128.', CREATE_DISK,
    exception.invalid_tag_key)

# -- DeleteDisk --------------------------------------------------------------
DELETE_DISK_EXISTS = _rule(
    'delete-disk-exists', 'DeleteDisk', 'The disk exists.', DELETE_DISK,
    exception.disk_not_found, 'delete-missing', 'not-found')
DELETE_DISK_IGNORED = _rule(
    'delete-disk-ignored', 'DeleteDisk',
    'A disk that does not exist: the request is ignored.', DELETE_DISK,
    None, 'delete-missing', 'ignored')
DELETE_DISK_AVAILABLE = _rule(
    'delete-disk-available', 'DeleteDisk',
    'The disk is Available (not attached, not in a transition).',
    DELETE_DISK, exception.incorrect_disk_status)

# -- AttachDisk --------------------------------------------------------------
ATTACH_DISK_EXISTS = _rule(
    'attach-disk-exists', 'AttachDisk', 'The disk exists.', ATTACH_DISK,
    exception.disk_not_found)
ATTACH_INSTANCE_EXISTS = _rule(
    'attach-instance-exists', 'AttachDisk', 'The instance exists.',
    ATTACH_DISK, exception.instance_not_found)
ATTACH_SAME_ZONE = _rule(
    'attach-same-zone', 'AttachDisk',
    'The instance is in the disk\'s zone (a Regional ESSD attaches in any '
    'zone of its region).', ATTACH_DISK, exception.not_same_zone)
ATTACH_AVAILABLE = _rule(
    'attach-available', 'AttachDisk',
    'The disk is Available; a multi-attach disk may also be In_use on '
    'other instances.', ATTACH_DISK, exception.incorrect_disk_status)
ATTACH_MAX_INSTANCES = _rule(
    'attach-max-instances', 'AttachDisk',
    'A multi-attach disk is attached to at most 16 instances.',
    MULTI_ATTACH_GUIDE, exception.attach_limit)
ATTACH_MULTI_NO_DELETE_WITH_INSTANCE = _rule(
    'attach-multi-no-delete-with-instance', 'AttachDisk',
    'A multi-attach disk cannot be released with the instance '
    '(DeleteWithInstance).', ATTACH_DISK,
    exception.delete_with_instance_conflict)
ATTACH_MULTI_DATA_ONLY = _rule(
    'attach-multi-data-only', 'AttachDisk',
    'A multi-attach disk is attached as a data disk only.', ATTACH_DISK,
    exception.multi_attach_system_disk)
ATTACH_INSTANCE_DISKS = _rule(
    'attach-instance-disks', 'AttachDisk',
    'An instance holds a limited number of disks.', ATTACH_DISK,
    exception.instance_disk_limit)

# -- DetachDisk --------------------------------------------------------------
DETACH_ATTACHED = _rule(
    'detach-attached', 'DetachDisk',
    'The disk is attached to the instance named.', DETACH_DISK,
    exception.not_attached)
DETACH_ALREADY_DETACHED = _rule(
    'detach-already-detached', 'DetachDisk',
    'A disk attached to no instance has been detached already.',
    DETACH_DISK, exception.already_detached)
DETACH_NOT_TWICE = _rule(
    'detach-not-twice', 'DetachDisk',
    'A detach from this instance is not already in progress.', DETACH_DISK,
    exception.detaching_from_instance)
DETACH_IN_USE = _rule(
    'detach-in-use', 'DetachDisk',
    'The attachment is complete (the disk is In_use there).', DETACH_DISK,
    exception.incorrect_disk_status)

# -- DescribeDisks / DescribeSnapshots ---------------------------------------
DESCRIBE_DISK_IDS = _rule(
    'describe-disk-ids', 'DescribeDisks', 'DiskIds holds at most 100 ids.',
    DESCRIBE_DISKS, exception.invalid_disk_ids)
DESCRIBE_MAX_RESULTS = _rule(
    'describe-max-results', 'DescribeDisks',
    'MaxResults below 10 reads as 10, above 500 as 500; a NextToken pages '
    'on.', DESCRIBE_DISKS)
DESCRIBE_PAGE_SIZE = _rule(
    'describe-page-size', 'DescribeDisks',
    'PageSize is 1-100 (default 10) and PageNumber starts at 1 (the older '
    'page; the current one gives no bounds).', DESCRIBE_DISKS,
    exception.invalid_parameter_factory('PageSize'))
DESCRIBE_ESSD_PERFORMANCE = _rule(
    'describe-essd-performance', 'DescribeDisks',
    'An ESSD\'s IOPS and Throughput follow its level: PL0 min{1,800 + 12 x '
    'Size, 10,000} IOPS and min{100 + 0.25 x Size, 180} MB/s; PL1, PL2, PL3 '
    'min{1,800 + 50 x Size, 50,000 / 100,000 / 1,000,000} IOPS and '
    'min{120 + 0.5 x Size, 350 / 750 / 4,000} MB/s.', ESSD_PAGE)
DESCRIBE_AUTOPL_PERFORMANCE = _rule(
    'describe-autopl-performance', 'DescribeDisks',
    'An ESSD AutoPL disk\'s IOPS is its baseline plus its ProvisionedIops, '
    'its Throughput the baseline\'s plus 16 KB/s per provisioned IOPS; '
    'ProvisionedIops and BurstingEnabled are reported.', AUTOPL_PAGE)
DESCRIBE_AUTOPL_FLOOR = _rule(
    'describe-autopl-floor', 'DescribeDisks',
    'An AutoPL baseline is at least 3,000 IOPS and 125 MB/s.', AUTOPL_PAGE,
    None, 'autopl-baseline', 'current-guide')
DESCRIBE_AUTOPL_NO_FLOOR = _rule(
    'describe-autopl-no-floor', 'DescribeDisks',
    'An AutoPL baseline is a PL1 ESSD\'s, with no floor.', AUTOPL_OLD_PAGE,
    None, 'autopl-baseline', 'older-guide')
DESCRIBE_REGIONAL_PERFORMANCE = _rule(
    'describe-regional-performance', 'DescribeDisks',
    'A Regional ESSD performs like a PL1 ESSD: min{1,800 + 50 x Size, '
    '50,000} IOPS, min{120 + 0.5 x Size, 350} MB/s.',
    BLOCK_STORAGE_PERFORMANCE)
DESCRIBE_SNAPSHOT_IDS = _rule(
    'describe-snapshot-ids', 'DescribeSnapshots',
    'SnapshotIds holds at most 100 ids.', DESCRIBE_SNAPSHOTS,
    exception.invalid_snapshot_ids)
DESCRIBE_SNAPSHOTS_MAX = _rule(
    'describe-snapshots-max-results', 'DescribeSnapshots',
    'MaxResults is at most 100 (default 10).', DESCRIBE_SNAPSHOTS,
    exception.invalid_parameter_factory('MaxResults'))

# -- ResizeDisk --------------------------------------------------------------
RESIZE_BIGGER = _rule(
    'resize-bigger', 'ResizeDisk',
    'NewSize is larger than the disk\'s size.', RESIZE_DISK,
    exception.new_size_not_bigger)
RESIZE_SMALLER = _rule(
    'resize-smaller', 'ResizeDisk', 'A disk never shrinks.', RESIZE_DISK,
    exception.new_size_too_small)
RESIZE_MAX = _rule(
    'resize-max', 'ResizeDisk', 'NewSize is within the category\'s range.',
    RESIZE_DISK, exception.new_size_too_large)
RESIZE_SNAPSHOT_IN_PROGRESS = _rule(
    'resize-snapshot-in-progress', 'ResizeDisk',
    'No resize while a snapshot of the disk is being created.', RESIZE_DISK,
    exception.disk_creating_snapshot)
RESIZE_ONLINE_IN_USE = _rule(
    'resize-online-in-use', 'ResizeDisk',
    'An online resize needs an attached (In_use) disk.', RESIZE_DISK,
    exception.incorrect_disk_status)
RESIZE_MULTI_ATTACH_ONLINE_ALLOWED = _rule(
    'resize-multi-attach-online-allowed', 'ResizeDisk',
    'An attached multi-attach disk is resized online.', RESIZE_DISK, None,
    'multi-attach-online-resize', 'description')
RESIZE_MULTI_ATTACH_ONLINE = _rule(
    'resize-multi-attach-online', 'ResizeDisk',
    'A multi-attach disk is not resized online.', RESIZE_DISK,
    exception.multi_attach_no_online_resize, 'multi-attach-online-resize',
    'error-table')

# -- ModifyDiskSpec / ModifyDiskAttribute ------------------------------------
SPEC_MULTI_ATTACH = _rule(
    'spec-multi-attach', 'ModifyDiskSpec',
    'A multi-attach disk cannot change its category or its ESSD '
    'performance level.', MULTI_ATTACH_GUIDE, exception.multi_attach_disk)
SPEC_STATUS = _rule(
    'spec-status', 'ModifyDiskSpec', 'The disk is In_use or Available.',
    MODIFY_DISK_SPEC, exception.incorrect_disk_status)
SPEC_SNAPSHOT_IN_PROGRESS = _rule(
    'spec-snapshot-in-progress', 'ModifyDiskSpec',
    'No change while a snapshot of the disk is being created.',
    MODIFY_DISK_SPEC, exception.disk_creating_snapshot)
SPEC_LEVEL_ESSD = _rule(
    'spec-level-essd', 'ModifyDiskSpec',
    'PerformanceLevel is given only for cloud_essd.', MODIFY_DISK_SPEC,
    exception.level_needs_essd)
SPEC_PROVISIONED_CATEGORY = _rule(
    'spec-provisioned-category', 'ModifyDiskSpec',
    'ProvisionedIops only for a disk that is (or becomes) ESSD AutoPL.',
    MODIFY_DISK_SPEC, exception.provisioned_iops_category)
SPEC_PROVISIONED_LIMIT = _rule(
    'spec-provisioned-limit', 'ModifyDiskSpec',
    'ProvisionedIops is 0 to min{50,000, 1,000 x Size - baseline IOPS}.',
    MODIFY_DISK_SPEC, exception.provisioned_iops_limit)
SPEC_LEVEL_SIZE = _rule(
    'spec-level-size', 'ModifyDiskSpec',
    'The disk\'s size fits the new level (resize first).', MODIFY_DISK_SPEC,
    exception.performance_level_mismatch)
ATTRIBUTE_DELETE_WITH_INSTANCE = _rule(
    'attribute-delete-with-instance', 'ModifyDiskAttribute',
    'DeleteWithInstance cannot be set on a multi-attach disk.',
    MODIFY_DISK_ATTRIBUTE, exception.delete_with_instance_conflict)

# -- CreateSnapshot ----------------------------------------------------------
SNAPSHOT_NEVER_ATTACHED = _rule(
    'snapshot-never-attached', 'CreateSnapshot',
    'A disk that has never been attached to an instance cannot be '
    'snapshotted (also one created from a snapshot: the page makes no '
    'exception).', CREATE_SNAPSHOT, exception.snapshot_never_attached)
SNAPSHOT_STATUS = _rule(
    'snapshot-status', 'CreateSnapshot',
    'The disk is In_use or Available.', CREATE_SNAPSHOT,
    exception.incorrect_disk_status)
SNAPSHOT_ONE_AT_A_TIME = _rule(
    'snapshot-one-at-a-time', 'CreateSnapshot',
    'One snapshot of a disk at a time.', CREATE_SNAPSHOT,
    exception.snapshot_in_progress)
SNAPSHOT_NAME = _rule(
    'snapshot-name', 'CreateSnapshot',
    'SnapshotName: 2-128 characters starting with a letter, not with '
    '"auto" or http(s)://.', CREATE_SNAPSHOT, exception.invalid_snapshot_name)

# -- DeleteSnapshot ----------------------------------------------------------
DELETE_SNAPSHOT_USED = _rule(
    'delete-snapshot-used', 'DeleteSnapshot',
    'A snapshot disks were created from is deleted only with Force=true '
    '(the disks keep their data but can no longer be re-initialised).',
    DELETE_SNAPSHOT, exception.snapshot_created_disk)
DELETE_SNAPSHOT_EXISTS = _rule(
    'delete-snapshot-exists', 'DeleteSnapshot', 'The snapshot exists.',
    DELETE_SNAPSHOT, exception.snapshot_not_found, 'delete-missing',
    'not-found')
DELETE_SNAPSHOT_IGNORED = _rule(
    'delete-snapshot-ignored', 'DeleteSnapshot',
    'A snapshot that does not exist: the request is ignored.',
    DELETE_SNAPSHOT, None, 'delete-missing', 'ignored')

# -- ResetDisk ---------------------------------------------------------------
RESET_OWN_SNAPSHOT = _rule(
    'reset-own-snapshot', 'ResetDisk',
    'The snapshot was created from this disk.', RESET_DISK,
    exception.snapshot_not_from_disk)
RESET_SNAPSHOT_READY = _rule(
    'reset-snapshot-ready', 'ResetDisk', 'The snapshot has completed.',
    RESET_DISK, exception.snapshot_not_ready)
RESET_NO_SNAPSHOT_IN_PROGRESS = _rule(
    'reset-no-snapshot-in-progress', 'ResetDisk',
    'The disk has no unfinished snapshot.', RESET_DISK,
    exception.unfinished_snapshot)
RESET_STATUS = _rule(
    'reset-status', 'ResetDisk',
    'The disk is not attached (ECS: its instance is Stopped; the '
    'emulator\'s instances always run).', RESET_DISK,
    exception.incorrect_disk_status)

# -- DescribeInstances / tags ------------------------------------------------
INSTANCE_IDS = _rule(
    'instance-ids', 'DescribeInstances', 'InstanceIds holds at most 100 ids.',
    DESCRIBE_INSTANCES, exception.invalid_parameter_factory('InstanceIds'))
TAG_RESOURCE_TYPE = _rule(
    'tag-resource-type', 'TagResources',
    'ResourceType is one the service knows (disk, snapshot, instance ...).',
    TAG_RESOURCES, exception.invalid_resource_type)
TAG_RESOURCE_EXISTS = _rule(
    'tag-resource-exists', 'TagResources', 'Every ResourceId exists.',
    TAG_RESOURCES, exception.resource_not_found)
TAG_QUOTA = _rule(
    'tag-quota', 'TagResources', 'A resource carries at most 20 tags.',
    TAG_RESOURCES, exception.too_many_tags)
TAG_DUPLICATE = _rule(
    'tag-duplicate', 'TagResources', 'No key twice in one request.',
    TAG_RESOURCES, exception.duplicate_tag_key)

UNTAG_RESOURCE_TYPE = _rule(
    'untag-resource-type', 'UntagResources',
    'ResourceType is one the page lists (disk, snapshot, instance ...); '
    'answered as TagResources does.', UNTAG_RESOURCES,
    exception.invalid_resource_type)
UNTAG_RESOURCE_EXISTS = _rule(
    'untag-resource-exists', 'UntagResources',
    'Every ResourceId exists; answered as TagResources does.',
    UNTAG_RESOURCES, exception.resource_not_found)

# -- requests signed with STS credentials -----------------------------------
TOKEN_MISSING = _rule(
    'token-missing', 'Every action (STS key)',
    'A request signed with an STS AccessKey carries its security token '
    '(the ECS API: the x-acs-security-token header; STS: SecurityToken).',
    STS_ERRORS, exception.security_token_missing)
TOKEN_MALFORMED = _rule(
    'token-malformed', 'Every action (STS key)',
    'The security token is one that STS issued.', PUBLIC_ERRORS,
    exception.security_token_malformed)
TOKEN_MISMATCH_KEY = _rule(
    'token-mismatch-key', 'Every action (STS key)',
    'The security token is the one issued with the AccessKey that signed '
    'the request.', PUBLIC_ERRORS, exception.security_token_mismatch)
TOKEN_EXPIRED = _rule(
    'token-expired', 'Every action (STS key)',
    'The security token has not expired (its Expiration has not passed).',
    PUBLIC_ERRORS, exception.security_token_expired)

# -- STS AssumeRole (2015-04-01) ---------------------------------------------
ASSUME_ROLE_SIGNATURE = _rule(
    'assume-role-signature', 'AssumeRole',
    'RPC-style request: every parameter in the query string, signed with '
    'HMAC-SHA1 over the sorted, percent-encoded parameters with the '
    'AccessKey secret followed by "&" as the key.', RPC_SIGNATURE,
    exception.rpc_signature_mismatch)
ASSUME_ROLE_DURATION = _rule(
    'assume-role-duration', 'AssumeRole',
    'DurationSeconds is 900 to 3600.', STS_ERRORS,
    exception.assume_role_duration)
ASSUME_ROLE_SESSION_NAME = _rule(
    'assume-role-session-name', 'AssumeRole',
    'RoleSessionName is 2 to 32 letters, digits and . @ - _.', STS_ERRORS,
    exception.assume_role_session_name)
ASSUME_ROLE_POLICY = _rule(
    'assume-role-policy', 'AssumeRole',
    'A Policy given passes the grammar check (here: it is JSON).',
    STS_ERRORS, exception.assume_role_policy)
ASSUME_ROLE_PERMISSION = _rule(
    'assume-role-permission', 'AssumeRole',
    'The caller may assume the role and the role exists (here: RoleArn '
    'is acs:ram::<account>:role/<name> and the role is not revoked).',
    STS_ERRORS, exception.assume_role_no_permission)

# -- instance metadata (100.100.100.200) -------------------------------------
METADATA_CREDENTIALS = _rule(
    'metadata-credentials', 'Instance metadata',
    '/latest/meta-data/ram/security-credentials/ lists the instance\'s RAM '
    'role; .../<role> answers its STS credentials as JSON (AccessKeyId, '
    'AccessKeySecret, SecurityToken, Expiration, LastUpdated, Code '
    '"Success").', METADATA)
METADATA_TOKEN_TTL = _rule(
    'metadata-token-ttl', 'Instance metadata',
    'PUT /latest/api/token with X-aliyun-ecs-metadata-token-ttl-seconds '
    'of 1 to 21600 answers a token (security hardening mode), sent back '
    'in X-aliyun-ecs-metadata-token.', METADATA)
METADATA_TOKEN_REQUIRED = _rule(
    'metadata-token-required', 'Instance metadata',
    'With HttpTokens required (--metadata-token-required), metadata is '
    'not served without a valid token.', METADATA_OPTIONS)

BY_KEY = collections.OrderedDict((rule.key, rule) for rule in RULES)

SCOPE = (
    Scope('CreateDisk', 'Only pay-as-you-go data disks: InstanceId '
          '(subscription disks) is refused.'),
    Scope('AttachDisk, DetachDisk, ResizeDisk, ResetDisk', 'Instances are '
          'always Running; rules about Stopped instances, NVMe instance '
          'types and security locks are not modelled.  An offline resize '
          'needs a disk that is not attached (ECS applies it at the '
          'instance\'s next restart).'),
    Scope('DeleteDisk', 'Not refused while a snapshot of the disk is '
          'being created: the DeleteDisk table lists DiskCreatingSnapshot, '
          'the CreateSnapshot page says such a snapshot is deleted with its '
          'disk.'),
    Scope('CloneDisks, ReInitDisk, CreateSnapshotGroup', 'Not provided.'),
    Scope('Quotas', 'No account quotas (disk count, capacity, snapshots per '
          'disk).'),
    Scope('Data path', 'A disk\'s IOPS and throughput are enforced only '
          'with --performance-scale and the FUSE data path, shared by all '
          'its instances; an instance type\'s own limits are not '
          'modelled.'),
    Scope('AssumeRole', 'Every configured AccessKey is a RAM user allowed to '
          'assume any role of the form acs:ram::<account>:role/<name> that '
          'is not revoked: no root accounts, trust policies, role maximum '
          'session durations, ExternalId checks or policy evaluation.'),
    Scope('Permissions', 'A request signed with STS credentials may call '
          'every action: the role\'s policy is not evaluated.'),
)

SILENT = (
    'Whether a disk created from a snapshot and never attached counts as '
    'never attached for CreateSnapshot: the page makes no exception, so the '
    'emulator refuses it.',
    'What AttachedTime and DetachedTime hold for a disk never attached: the '
    'emulator answers empty strings.',
    'How long ECS remembers a ClientToken: the emulator remembers it for '
    'the life of its state.',
    'Whether a snapshot whose disks were all released still needs Force: '
    'the emulator asks for it only while such a disk exists.',
    'Whether ResetDisk (roll back to a snapshot) works on a multi-attach '
    'disk: the guide forbids re-initialising only; the emulator allows it.',
    'Whether CreateSnapshot of a multi-attach disk works: the guide forbids '
    'snapshot-consistent groups only; the emulator allows it.',
    'Whether AttachDisk, DetachDisk, DeleteDisk and DeleteSnapshot are '
    'idempotent: they take no ClientToken; the emulator refuses a repeated '
    'call by the state it finds.',
    'Whether DescribeDisks\' IOPS and Throughput include provisioned and '
    'burst performance: the emulator reports the baseline plus the '
    'provisioned performance, never the burst.',
    'Whether MB/s counts 10^6 or 2^20 bytes: the AutoPL page\'s "16 KB x '
    'IOPS / 1,024" counts in 1,024s, and so does the emulator.',
    'The IOPS and Throughput of categories other than ESSD, ESSD AutoPL and '
    'Regional ESSD: the emulator reports 0 (and does not limit them).',
    'How a burst plays out over time: with --performance-scale, the '
    'emulator lets a bursting AutoPL disk run at its burst ceiling '
    '(min{1,000,000, 1,000 x Size} IOPS) whenever it is asked to.',
    'The HTTP status of the InvalidSecurityToken codes, of '
    'MissingSecurityToken and of the AssumeRole errors: the pages list '
    'codes only; the emulator answers 400, and 403 for NoPermission.',
    'In which order ECS checks the token and the signature of a request '
    'signed with STS credentials: the emulator checks the token first.',
    'What ECS answers for a token whose role was deleted or revoked before '
    'the token expired: the emulator refuses it as '
    'InvalidSecurityToken.Expired, so that a revocation takes effect at '
    'once.',
    'How long the credentials of the instance metadata service live and '
    'when they are renewed: the emulator serves new ones on every request, '
    'valid 3600 seconds (or --sts-token-lifetime).',
    'What the metadata service answers for a missing, expired or unknown '
    'metadata token, a TTL out of range, an unknown role or a request '
    'without token when tokens are required: the emulator answers 401, '
    '400, 404 and 403 with an empty body.',
)
