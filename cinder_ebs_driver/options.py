"""Configuration options of the EBS volume driver.

The options are registered under ``backend_defaults`` and appended to each
backend section by the driver, the way in-tree Cinder drivers do it.
"""

from oslo_config import cfg

from cinder_ebs_driver.i18n import _

DISK_CATEGORIES = ('cloud_essd', 'cloud_auto', 'cloud_regional_disk_auto')
PERFORMANCE_LEVELS = ('PL0', 'PL1', 'PL2', 'PL3')

connection_opts = [
    cfg.StrOpt('ebs_endpoint',
               help=_('Host name (optionally host:port) of the ECS API '
                      'endpoint, for example ecs.cn-hangzhou.aliyuncs.com '
                      'or the endpoint of an Apsara Stack region.')),
    cfg.StrOpt('ebs_protocol',
               default='https',
               choices=[('https', _('TLS to a cloud or Apsara Stack '
                                    'endpoint.')),
                        ('http', _('Plain HTTP, for a local test backend '
                                   'such as ebs-emulator.'))],
               help=_('Protocol used to reach the ECS API endpoint. Use '
                      'http only for a local test backend.')),
    cfg.StrOpt('ebs_region_id',
               help=_('Region of the disks, for example cn-hangzhou.')),
    cfg.StrOpt('ebs_zone_id',
               help=_('Zone in which new disks are created. Disks can only '
                      'be attached to instances of the same zone.')),
    cfg.StrOpt('ebs_credential_type',
               default='access_key',
               choices=[
                   ('access_key', _('The static AccessKey pair of '
                                    'ebs_access_key_id and '
                                    'ebs_access_key_secret.')),
                   ('sts', _('An STS token given explicitly: '
                             'ebs_access_key_id, ebs_access_key_secret and '
                             'ebs_security_token, as STS issued them. It '
                             'is never renewed: replace it and restart '
                             'before it expires.')),
                   ('ram_role_arn', _('Assume the RAM role '
                                      'ebs_role_arn with STS AssumeRole, '
                                      'signed with the AccessKey pair of '
                                      'ebs_access_key_id and '
                                      'ebs_access_key_secret; the token is '
                                      'renewed before it expires.')),
                   ('ecs_ram_role', _('The RAM role attached to the ECS '
                                      'instance that runs cinder-volume, '
                                      'from the instance metadata service '
                                      '(100.100.100.200); no AccessKey on '
                                      'the host.')),
                   ('credentials_uri', _('Credentials served as JSON by '
                                         'the URL ebs_credentials_uri '
                                         '(AccessKeyId, AccessKeySecret, '
                                         'SecurityToken, Expiration, Code '
                                         '"Success"); renewed before they '
                                         'expire.'))],
               help=_('Kind of credentials the driver signs its ECS API '
                      'calls with. They are obtained and renewed by the '
                      'official alibabacloud_credentials library.')),
    cfg.StrOpt('ebs_access_key_id',
               help=_('AccessKey ID of the RAM user the driver acts as '
                      '(credential types access_key and sts), or of the '
                      'identity that assumes the role (ram_role_arn).')),
    cfg.StrOpt('ebs_access_key_secret',
               secret=True,
               help=_('AccessKey secret that goes with '
                      'ebs_access_key_id.')),
    cfg.StrOpt('ebs_security_token',
               secret=True,
               help=_('STS security token that goes with ebs_access_key_id '
                      'and ebs_access_key_secret (credential type sts).')),
    cfg.StrOpt('ebs_role_arn',
               help=_('ARN of the RAM role to assume (credential type '
                      'ram_role_arn), for example '
                      'acs:ram::123456789012****:role/cinder-ebs.')),
    cfg.StrOpt('ebs_role_session_name',
               default='cinder-ebs-driver',
               help=_('Session name of the assumed role, recorded in the '
                      'audit trail (credential type ram_role_arn): '
                      'letters, digits and the characters . @ - _.')),
    cfg.IntOpt('ebs_role_session_duration',
               default=3600,
               min=900,
               max=43200,
               help=_('Seconds an assumed role session is asked to last '
                      '(credential type ram_role_arn). At most the '
                      'role\'s maximum session duration. The credentials '
                      'library renews the token 15 minutes before it '
                      'expires, so a session of 900 seconds is renewed '
                      'with an AssumeRole call before every ECS call: '
                      'keep it well above that.')),
    cfg.StrOpt('ebs_sts_endpoint',
               help=_('STS endpoint for AssumeRole (credential type '
                      'ram_role_arn): a host name such as '
                      'sts.cn-hangzhou.aliyuncs.com or '
                      'sts-vpc.cn-hangzhou.aliyuncs.com (reached over '
                      'HTTPS), or a URL http://host:port of a local test '
                      'service. Unset: the STS endpoint of '
                      'ebs_region_id.')),
    cfg.StrOpt('ebs_ecs_role_name',
               help=_('Name of the RAM role attached to the instance '
                      '(credential type ecs_ram_role). Unset: the role '
                      'the metadata service lists. The metadata address '
                      '100.100.100.200 is fixed by the credentials '
                      'library.')),
    cfg.BoolOpt('ebs_metadata_token_required',
                default=False,
                help=_('Reach the instance metadata service only in its '
                       'token-protected (hardened) mode: never fall back '
                       'to plain requests when no metadata token can be '
                       'obtained (credential type ecs_ram_role).')),
    cfg.URIOpt('ebs_credentials_uri',
               schemes=['http', 'https'],
               help=_('URL serving the credentials (credential type '
                      'credentials_uri).')),
    cfg.IntOpt('ebs_api_timeout',
               default=30,
               min=1,
               help=_('Seconds to wait for one ECS API call to answer.')),
    cfg.IntOpt('ebs_api_retries',
               default=5,
               min=0,
               help=_('How many times a throttled, failed (5xx) or '
                      'unanswered ECS API call is retried, with '
                      'exponential backoff.')),
    cfg.FloatOpt('ebs_api_retry_interval',
                 default=1.0,
                 min=0,
                 help=_('Seconds before the first retry of a throttled, '
                        'failed or unanswered ECS API call. Each further '
                        'retry waits twice as long (at most 30 seconds), '
                        'plus a random jitter of up to this value.')),
]

disk_opts = [
    cfg.StrOpt('ebs_default_category',
               default='cloud_essd',
               choices=[
                   ('cloud_essd', _('ESSD disk.')),
                   ('cloud_auto', _('ESSD AutoPL disk.')),
                   ('cloud_regional_disk_auto',
                    _('Regional ESSD disk, replicated across zones.'))],
               help=_('Disk category used when the volume type has no '
                      'ebs:category extra spec.')),
    cfg.StrOpt('ebs_default_performance_level',
               default='PL1',
               choices=[
                   ('PL0', _('Up to 10,000 IOPS per disk.')),
                   ('PL1', _('Up to 50,000 IOPS per disk.')),
                   ('PL2', _('Up to 100,000 IOPS per disk.')),
                   ('PL3', _('Up to 1,000,000 IOPS per disk.'))],
               help=_('ESSD performance level used when the volume type '
                      'has no ebs:performance_level extra spec.')),
    cfg.IntOpt('ebs_pool_capacity_gb',
               default=0,
               min=0,
               help=_('Capacity in GiB reported to the scheduler for the '
                      'backend\'s pool. 0 reports infinite capacity: '
                      'the cloud account\'s quota is the real limit. '
                      'The free capacity is this value minus the size of '
                      'the disks in the zone.')),
    cfg.IntOpt('ebs_max_attach_hosts',
               default=16,
               min=1,
               max=16,
               help=_('Maximum number of distinct hosts a multi-attach '
                      'volume may be attached to at the same time.')),
    cfg.StrOpt('ebs_device_path_template',
               default='/dev/disk/by-id/'
                       'nvme-Alibaba_Cloud_Elastic_Block_Storage_{serial}',
               help=_('Where an attached disk appears on a compute host. '
                      'Placeholders: {disk_id}, {serial} (the disk id '
                      'without the "d-" prefix), {instance_id} and '
                      '{host}.')),
    cfg.DictOpt('ebs_host_instance_map',
                default={},
                help=_('Explicit map of compute host name to ECS instance '
                       'id, as host:instance pairs. Hosts that are not '
                       'listed are found by matching the connector\'s '
                       'system uuid against the instances\' serial '
                       'numbers.')),
    cfg.IntOpt('ebs_state_timeout',
               default=300,
               min=1,
               help=_('Seconds to wait for a disk, snapshot or attachment '
                      'to reach the expected state.')),
    cfg.IntOpt('ebs_stats_min_interval',
               default=30,
               min=0,
               help=_('Seconds during which a refresh of the backend '
                      'statistics answers the figures of the last listing '
                      'of the disks instead of listing them again '
                      '(cinder-volume asks for refreshes several times '
                      'while it starts and after every volume deletion). '
                      'The volumes this service creates, deletes or extends '
                      'meanwhile are counted in them; a manage, an '
                      'unmanage or a failed change makes the next '
                      'refresh list again. Keep it below '
                      'backend_stats_polling_interval; 0 lists the disks '
                      'on every refresh.')),
    cfg.BoolOpt('ebs_reconcile_attachments',
                default=True,
                help=_('With each listing of the backend\'s disks (the '
                       'statistics refresh, at start-up and then '
                       'periodically), detach a disk from an instance '
                       'that no attachment record of its volume accounts '
                       'for: what a volume service that died during an '
                       'attach or a detach left behind. Only volumes that '
                       'are available or in-use and not migrating are '
                       'looked at, and a host is left alone while a '
                       'recent reservation may be an attach to it.')),
    cfg.IntOpt('ebs_reconcile_max_repairs',
               default=20, min=1,
               help=_('The most attachments one reconciliation pass '
                      'detaches (see ebs_reconcile_attachments); the rest '
                      'are detached by the next passes. Each costs a '
                      'DetachDisk and the DescribeDisks calls that wait '
                      'for it, within the account\'s API throttling.')),
    cfg.FloatOpt('ebs_state_poll_interval',
                 default=1.0,
                 min=0.01,
                 help=_('Seconds between the first two state polls of a '
                        'wait (a quarter of it for a create, attach, '
                        'detach, delete or snapshot before the first one '
                        'of its kind was measured); the interval doubles '
                        'up to ten times this value. Waits for a '
                        'transition are first read when the last one of '
                        'their kind was seen done, and again a quarter of '
                        'that time later (between a twentieth of this '
                        'value and this value) when it is not done yet.')),
]

ebs_opts = connection_opts + disk_opts
