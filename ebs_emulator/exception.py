"""ECS error codes returned by the emulator.

Every client error leaves the service as an :class:`EcsError`; the HTTP
layer turns it into the ECS error body ({'Code', 'Message', 'RequestId'})
with the matching HTTP status.  Codes, messages and statuses follow the
error tables of the ECS 2014-05-26 API reference (CreateDisk, AttachDisk,
DetachDisk, ResizeDisk, ResetDisk, CreateSnapshot ...); which rule answers
which error, and the page it comes from, is in :mod:`ebs_emulator.rules`.
"""


class EcsError(Exception):
    """A client-visible ECS error: code, message and HTTP status."""

    def __init__(self, code, message, http_status=400):
        super().__init__('%s: %s' % (code, message))
        self.code = code
        self.message = message
        self.http_status = http_status


def _error(code, http_status, default_message):
    """Build a factory for one documented error code."""
    def factory(message=None):
        return EcsError(code, message or default_message, http_status)
    factory.code = code
    factory.http_status = http_status
    factory.__name__ = code.replace('.', '_')
    return factory


# -- request level -----------------------------------------------------------
invalid_action = _error(
    'InvalidAction.NotFound', 404,
    'Specified api is not found, please check your url and method.')
# The API gateway's common answer (as in faults.KNOWN_CODES).
internal_error = _error(
    'InternalError', 500,
    'The request processing has failed due to some unknown error, '
    'exception or failure.')
invalid_region = _error(
    'InvalidRegionId.NotFound', 404, 'The specified RegionId does not exist.')
invalid_zone = _error(
    'InvalidZoneId.NotFound', 404, 'The specified zone does not exist.')
api_not_found = _error(
    'InvalidApi.NotFound', 404,
    'Specified api is not found, please check your url and method.')
missing_action = _error(
    'MissingAction', 400, 'Action is mandatory for this action.')


def unsupported_method(method):
    return EcsError(
        'UnsupportedHTTPMethod',
        'Specified http method %s is not supported.' % method, 400)


def no_such_version(version, supported):
    return EcsError(
        'NoSuchVersion',
        'The specified version does not exist: %s (this service speaks '
        'ECS %s).' % (version, supported), 400)


def invalid_body(detail):
    return EcsError(
        'InvalidParameter',
        'The request is not well formed: %s' % detail, 400)


def body_too_large(limit):
    return EcsError(
        'InvalidParameter',
        'The request body exceeds %d bytes.' % limit, 413)


# A ClientToken used again with other parameters: the idempotence page and
# CreateSnapshot's table name IdempotentParameterMismatch (403); the pages
# of RunInstances, CreateImage and RenewDedicatedHosts name
# IdempotenceParamNotMatch (400).  See rules.DISPUTES.
token_mismatch = _error(
    'IdempotentParameterMismatch', 403, 'The specified clientToken is used.')
idempotent_mismatch = _error(
    'IdempotenceParamNotMatch', 400,
    'Request uses a client token in a previous request but is not '
    'identical to that request.')


def missing_parameter(name):
    return EcsError(
        'MissingParameter',
        'The input parameter "%s" that is mandatory for processing this '
        'request is not supplied.' % name, 400)


def invalid_parameter(name, why=None):
    message = 'The specified parameter "%s" is not valid.' % name
    if why:
        message = '%s %s' % (message, why)
    return EcsError('InvalidParameter', message, 400)


def invalid_parameter_factory(name):
    """The error factory of an invalid ``name`` (for the rule book)."""
    def factory(message=None):
        return invalid_parameter(name, message)
    factory.code = 'InvalidParameter'
    factory.http_status = 400
    factory.__name__ = 'invalid_' + name
    return factory


def missing_parameter_factory(name):
    """The error factory of a missing ``name`` (for the rule book)."""
    def factory(message=None):
        error = missing_parameter(name)
        if message:
            error.message = message
        return error
    factory.code = 'MissingParameter'
    factory.http_status = 400
    factory.__name__ = 'missing_' + name
    return factory


# -- disks --------------------------------------------------------------------
disk_not_found = _error(
    'InvalidDiskId.NotFound', 404, 'The specified disk does not exist.')
incorrect_disk_status = _error(
    'IncorrectDiskStatus', 403,
    'The current disk status does not support this operation.')
invalid_disk_ids = _error(
    'InvalidDiskIds.Malformed', 403,
    'The amount of specified disk Ids exceeds the limit.')
invalid_category = _error(
    'InvalidDiskCategory.ValueNotSupported', 400,
    'The specified parameter "DiskCategory" is not valid.')
category_not_supported = _error(
    'InvalidDiskCategory.NotSupported', 403,
    'The specified disk category is not supported.')
invalid_performance_level = _error(
    'InvalidPerformanceLevel.Malformed', 400,
    'The specified parameter PerformanceLevel is not valid.')
performance_level_mismatch = _error(
    'OperationDenied.PerformanceLevelNotMatch', 403,
    'The specified PerformanceLevel and Size do not match.')
invalid_size = _error(
    'InvalidSize.ValueNotSupported', 400,
    'The specified parameter Size is not valid.')
size_out_of_range = _error(
    'InvalidDataDiskSize.ValueNotSupported', 403,
    'The specified disk size is beyond the permitted range, or the snapshot '
    'capacity exceeds the size limit for the specified disk category.')
new_size_too_small = _error(
    'InvalidDiskSize.TooSmall', 403,
    'Specified new disk size is less than the original disk size.')
new_size_not_bigger = _error(
    'InvalidDiskSize', 403,
    'Specified new disk size is less than or equal the original disk size.')
new_size_too_large = _error(
    'InvalidDiskSize.TooLarge', 403,
    'Specified new disk size is beyond the permitted range.')
invalid_disk_name = _error(
    'InvalidDiskName.Malformed', 400,
    'The specified disk name is wrongly formed.')
invalid_description = _error(
    'InvalidDescription.Malformed', 400,
    'The specified description is wrongly formed.')
invalid_multi_attach = _error(
    'InvalidParameter.MultiAttach', 403,
    'The specified param MultiAttach is not valid.')
multi_attach_category = _error(
    'InvalidParameter.DiskCategoryAndMultiAttachNotMatch', 403,
    'The specified disk category does not support multi attach enabled.')
provisioned_iops_category = _error(
    'ProvisionedIopsForDiskCategoryUnsupported', 400,
    'The specified disk category does not support provisioned iops.')
provisioned_iops_limit = _error(
    'InvalidProvisionedIops.LimitExceed', 400,
    'The provisioned iops exceeds the limit.')
bursting_category = _error(
    'BurstingEnabledForDiskCategoryUnsupported', 400,
    'The specified disk category does not support bursting enabled.')
bursting_multi_attach = _error(
    'BurstingEnabledForMultiAttachDiskUnsupported', 400,
    'The multi attach disk does not support bursting enabled.')
bursting_size = _error(
    'InvalidBurstingEnabled.DiskSizeTooSmall', 400,
    'The disk size must be greater than 3 GiB to enable burst.')
size_or_snapshot = _error(
    'MissingParameter', 400,
    'The input parameter either "SnapshotId" or "Size" should be specified.')
size_below_snapshot = _error(
    'InvalidDiskSize.TooSmall', 403,
    'Specified disk size is less than the size of snapshot.')
disk_creating_snapshot = _error(
    'DiskCreatingSnapshot', 403,
    'The operation is denied due to a snapshot of the specified disk is not '
    'completed yet.')
multi_attach_disk = _error(
    'InvalidOperation.MultiAttachDisk', 403,
    'Multi attach disk does not support this operation.')
level_needs_essd = _error(
    'InvalidPerformanceLevelParam.Mismatch', 400,
    'The specified parameter PerformanceLevel should be null when '
    'DiskCategory is not cloud_essd.')
multi_attach_no_online_resize = _error(
    'InvalidOperation.MultiAttachDiskNotSupportResizeOnline', 403,
    'Multi attach disk does not support resize online.')

# -- attachments --------------------------------------------------------------
instance_not_found = _error(
    'InvalidInstanceId.NotFound', 404,
    'The specified InstanceId does not exist.')
not_same_zone = _error(
    'ResourcesNotInSameZone', 403,
    'The specified instance and disk are not in the same zone.')
attach_limit = _error(
    'DiskAttachedNumberExceeded', 403,
    'The attaching times of the specified disk exceeded.')
instance_disk_limit = _error(
    'InstanceDiskLimitExceeded', 403,
    'The amount of the disk on instance in question reach its limits.')
delete_with_instance_conflict = _error(
    'DeleteWithInstance.Conflict', 403,
    'Multi attach disk cannot be set to DeleteWithInstance attribute.')
multi_attach_system_disk = _error(
    'InvalidOperation.CanNotAttachMultiAttachDiskAsSystemDisk', 403,
    'Multi attach disk can not be attached as system disk.')
already_detached = _error(
    'InvalidDisk.AlreadyDetached', 404,
    'The specified disk has been detached.')
not_attached = _error(
    'DependencyViolation', 403,
    'The specified disk has not been attached on the specified instance.')
detaching_from_instance = _error(
    'InvalidOperation.DiskDetachingFromThisEcs', 403,
    'The specified disk is detaching from this ecs.')

# -- snapshots ----------------------------------------------------------------
snapshot_not_found = _error(
    'InvalidSnapshotId.NotFound', 404,
    'The specified SnapshotId does not exist.')
snapshot_not_ready = _error(
    'InvalidSnapshotId.NotReady', 403,
    'The specified snapshot has not completed yet.')
snapshot_in_progress = _error(
    'IncorrectDiskStatus.CreatingSnapshot', 403,
    'A previous snapshot creation is in process.')
snapshot_never_attached = _error(
    'IncorrectDiskStatus.NeverAttached', 403,
    'The specified disk has never been attached to any instance.')
snapshot_created_disk = _error(
    'SnapshotCreatedDisk', 403,
    'The snapshot has been used to create disk(s).')
unfinished_snapshot = _error(
    'IncorrectDiskStatus.HasUnfinishedSnapshot', 403,
    'The current disk has unfinished snapshot.')
invalid_snapshot_name = _error(
    'InvalidSnapshotName.Malformed', 400,
    'Specified snapshot name is not valid.')
snapshot_not_from_disk = _error(
    'InvalidParameter.Mismatch', 403,
    'The specified snapshot is not created from the specified disk.')
invalid_snapshot_ids = _error(
    'InvalidSnapshotIds.Malformed', 403,
    'The amount of specified snapshot Ids exceeds the limit.')

# -- tags ---------------------------------------------------------------------
invalid_tag_key = _error(
    'InvalidTagKey.Malformed', 400, 'The specified Tag.n.Key is not valid.')
invalid_tag_value = _error(
    'InvalidTagValue.Malformed', 400,
    'The specified Tag.n.Value is not valid.')
duplicate_tag_key = _error(
    'Duplicate.TagKey', 400, 'The Tag.N.Key contain duplicate key.')
too_many_tags = _error(
    'QuotaExceed.Tags', 403,
    'The number of tags on the resource exceeds the limit of 20.')
invalid_resource_type = _error(
    'InvalidResourceType.NotFound', 404,
    'The specified ResourceType does not exist.')
resource_not_found = _error(
    'InvalidResourceId.NotFound', 404,
    'The specified ResourceIds are not found in our records.')


# -- short-lived credentials (STS, instance metadata) ------------------------
# Alibaba Cloud's public error codes list the three InvalidSecurityToken
# codes and MissingSecurityToken without HTTP statuses: the emulator
# answers 400 (see rules.SILENT).
security_token_expired = _error(
    'InvalidSecurityToken.Expired', 400, 'Specified SecurityToken is expired.')
security_token_mismatch = _error(
    'InvalidSecurityToken.MismatchWithAccessKey', 400,
    'Specified SecurityToken mismatch with the AccessKey.')
security_token_malformed = _error(
    'InvalidSecurityToken.Malformed', 400,
    'Specified SecurityToken is malformed.')
security_token_missing = _error(
    'MissingSecurityToken', 400, 'SecurityToken is mandatory for this action.')
# AssumeRole (the STS common-errors page; no HTTP statuses there either).
assume_role_no_permission = _error(
    'NoPermission', 403,
    'No permission perform sts:AssumeRole on this Role. Maybe you have not '
    'been authorized to assume this role, or the role does not exist.')
assume_role_duration = _error(
    'InvalidParameter.DurationSeconds', 400,
    'The Min/Max value of DurationSeconds is 15min/1hr.')
assume_role_session_name = _error(
    'InvalidParameter.RoleSessionName', 400,
    'The parameter RoleSessionName is wrongly formed.')
assume_role_policy = _error(
    'InvalidParameter.PolicyGrammar', 400,
    'The parameter Policy has not passed grammar check.')
rpc_signature_mismatch = _error(
    'SignatureDoesNotMatch', 400,
    'Specified signature is not matched with our calculation.')
