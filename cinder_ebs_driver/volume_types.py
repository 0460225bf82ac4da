"""Volume type extra specs of the EBS driver: parsing and validation.

Recognised extra specs (scope ``ebs:``):

``ebs:category``
    ``cloud_essd`` (ESSD, the default), ``cloud_auto`` (ESSD AutoPL) or
    ``cloud_regional_disk_auto`` (regional ESSD).
``ebs:performance_level``
    ``PL0`` .. ``PL3``; ESSD (``cloud_essd``) only.

Back-end QoS specs on the type choose the category, level and provisioned
IOPS within what these name (:mod:`cinder_ebs_driver.qos`).

Multi-attach is Cinder's own ``multiattach="<is> True"`` spec; the driver
trusts ``volume.multiattach`` for existing volumes and parses the spec only
for a retype target.
"""

import collections

from cinder import exception
from oslo_log import log as logging

from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import options
from cinder_ebs_driver import qos

LOG = logging.getLogger(__name__)

SCOPE = 'ebs:'
CATEGORY_KEY = 'ebs:category'
PERFORMANCE_LEVEL_KEY = 'ebs:performance_level'
KNOWN_KEYS = (CATEGORY_KEY, PERFORMANCE_LEVEL_KEY)

# Categories whose performance is set with a performance level.
PL_CATEGORIES = ('cloud_essd',)
# ECS allows multi-attach on the ESSD family only.
MULTIATTACH_CATEGORIES = ('cloud_essd', 'cloud_auto',
                          'cloud_regional_disk_auto')
# Categories not bound to one zone of the region.
REGIONAL_CATEGORIES = ('cloud_regional_disk_auto',)
# migration_status of the volume Cinder creates as a migration target.
MIGRATION_TARGET = 'target:'
# Category changes ECS performs in place (ModifyDiskSpec); any other change
# needs a new disk, i.e. a migration.
IN_PLACE_CATEGORY_CHANGES = frozenset([('cloud_essd', 'cloud_auto'),
                                       ('cloud_auto', 'cloud_essd')])

# Smallest disk ECS creates, GiB: per category, and per performance level
# for ESSD.
MIN_SIZE = {'cloud_essd': 1, 'cloud_auto': 1, 'cloud_regional_disk_auto': 10}
ESSD_MIN_SIZE = {'PL0': 1, 'PL1': 20, 'PL2': 461, 'PL3': 1261}

# provisioned_iops: ESSD AutoPL's ProvisionedIops, when back-end QoS specs
# ask for it (see cinder_ebs_driver.qos).
DiskSpec = collections.namedtuple(
    'DiskSpec', ['category', 'performance_level', 'multiattach',
                 'provisioned_iops'], defaults=(None,))


def _invalid(reason):
    LOG.error('Invalid EBS volume type: %s', reason)
    return exception.InvalidVolumeType(reason=reason)


def extra_specs_of(volume_type):
    """Return the extra specs of a volume type object or dict (or {})."""
    if not volume_type:
        return {}
    try:
        specs = volume_type['extra_specs']
    except (KeyError, TypeError):
        specs = getattr(volume_type, 'extra_specs', None)
    return dict(specs or {})


def parse_bool_spec(value):
    """Parse a Cinder boolean extra spec (``<is> True``, ``True``...)."""
    if value is None:
        return False
    text = str(value).strip()
    if text.lower().startswith('<is>'):
        text = text[4:].strip()
    return text.lower() in ('true', '1', 'yes', 'on')


def is_multiattach_type(volume_type):
    return parse_bool_spec(extra_specs_of(volume_type).get('multiattach'))


def parse_extra_specs(extra_specs, conf, multiattach=False, qos_specs=None,
                      size=None):
    """Turn extra specs into a :class:`DiskSpec`, or raise a clear error.

    :param extra_specs: the volume type's extra specs (dict)
    :param conf: the backend configuration (defaults)
    :param multiattach: whether the volume is multi-attach
    :param qos_specs: the volume type's back-end QoS specs; with ``size``
        they choose the category, level and provisioned IOPS within what
        the extra specs name (:mod:`cinder_ebs_driver.qos`).
    :param size: the disk's size in GiB.
    :raises InvalidVolumeType: unknown ``ebs:`` key, unknown or malformed
        value, or a combination ECS does not support
    :raises InvalidQoSSpecs: QoS specs no allowed disk meets
    """
    extra_specs = extra_specs or {}
    for key in extra_specs:
        if key.startswith(SCOPE) and key not in KNOWN_KEYS:
            raise _invalid(
                _('unknown extra spec "%(key)s"; the EBS driver knows '
                  '%(known)s.') % {'key': key,
                                   'known': ', '.join(KNOWN_KEYS)})

    category = extra_specs.get(CATEGORY_KEY)
    named_category = category is not None
    if category is None:
        category = conf.ebs_default_category
    elif not isinstance(category, str) or not category.strip():
        raise _invalid(_('extra spec %s is empty.') % CATEGORY_KEY)
    category = category.strip().lower()
    if category not in options.DISK_CATEGORIES:
        raise _invalid(
            _('unknown disk category "%(value)s" in %(key)s; supported '
              'categories: %(known)s.') % {
                'value': category, 'key': CATEGORY_KEY,
                'known': ', '.join(options.DISK_CATEGORIES)})

    level = extra_specs.get(PERFORMANCE_LEVEL_KEY)
    if level is not None:
        if not isinstance(level, str) or not level.strip():
            raise _invalid(_('extra spec %s is empty.')
                           % PERFORMANCE_LEVEL_KEY)
        level = level.strip().upper()
        if level not in options.PERFORMANCE_LEVELS:
            raise _invalid(
                _('unknown performance level "%(value)s" in %(key)s; '
                  'supported levels: %(known)s.') % {
                    'value': level, 'key': PERFORMANCE_LEVEL_KEY,
                    'known': ', '.join(options.PERFORMANCE_LEVELS)})
        if category not in PL_CATEGORIES:
            raise _invalid(
                _('%(key)s applies to ESSD (cloud_essd) disks only, not '
                  'to %(category)s.') % {'key': PERFORMANCE_LEVEL_KEY,
                                         'category': category})
    elif category in PL_CATEGORIES:
        level = conf.ebs_default_performance_level
    else:
        level = None

    if multiattach and category not in MULTIATTACH_CATEGORIES:
        raise _invalid(
            _('disk category %s does not support multi-attach.')
            % category)
    required = (qos.requirement(qos_specs, size)
                if qos_specs and size else None)
    if required is None:
        return DiskSpec(category, level, bool(multiattach))
    # A Regional default stays Regional: QoS specs never make a volume of
    # a regional backend zonal.
    choice = qos.choose(
        required, size, multiattach,
        category=(category if named_category or
                  category in REGIONAL_CATEGORIES else None),
        level=extra_specs.get(PERFORMANCE_LEVEL_KEY) and level,
        min_sizes=ESSD_MIN_SIZE)
    return DiskSpec(choice.category, choice.performance_level,
                    bool(multiattach), choice.provisioned_iops)


def volume_multiattach(volume):
    """Whether the disk of a volume must be multi-attach.

    Cinder sets ``volume.multiattach`` from the volume type when it creates
    a volume, so it is trusted, except for the target of a migration: Cinder
    creates it with the source volume's flag as it was before the retype
    that started the migration (the retype request changes the flag in the
    database only), so a retype to a multi-attach type would get a
    single-attach disk. For a migration target the type decides.
    """
    migration = volume.migration_status or ''
    if migration.startswith(MIGRATION_TARGET) and volume.volume_type:
        return is_multiattach_type(volume.volume_type)
    return bool(volume.multiattach)


def spec_for_volume(volume, conf, size=None):
    """Return the :class:`DiskSpec` of a Cinder volume.

    :param size: the size to choose the performance for (the volume's by
        default).
    """
    return parse_extra_specs(extra_specs_of(volume.volume_type), conf,
                             multiattach=volume_multiattach(volume),
                             qos_specs=qos.backend_specs(volume.volume_type),
                             size=size or volume.size)


def check_not_encrypted_multiattach(volume, multiattach=None):
    """Refuse a multi-attach volume that is encrypted.

    Several hosts cannot share one front-end encrypted (LUKS) device safely,
    so Cinder volumes that are both are refused in every path that creates
    or changes a volume.
    """
    if multiattach is None:
        multiattach = volume_multiattach(volume)
    if multiattach and volume.encryption_key_id:
        msg = (_('Volume %s is both multi-attach and encrypted; '
                 'multi-attach volumes cannot be encrypted.') % volume.id)
        LOG.error(msg)
        raise exception.InvalidVolume(reason=msg)


def category_change_in_place(old, new):
    """Whether ECS can change the disk category without a new disk."""
    return old == new or (old, new) in IN_PLACE_CATEGORY_CHANGES


def check_size(spec, size):
    """Refuse a size ECS would refuse for the category / level."""
    minimum = MIN_SIZE.get(spec.category, 1)
    if spec.category in PL_CATEGORIES and spec.performance_level:
        minimum = max(minimum, ESSD_MIN_SIZE[spec.performance_level])
    if size < minimum:
        what = spec.category
        if spec.category in PL_CATEGORIES and spec.performance_level:
            what = '%s %s' % (spec.category, spec.performance_level)
        msg = (_('%(what)s disks must be at least %(min)d GiB; %(size)d '
                 'GiB requested. Choose a larger size or another '
                 'performance level (ebs:performance_level).') %
               {'what': what, 'min': minimum, 'size': size})
        LOG.error(msg)
        raise exception.InvalidInput(reason=msg)
