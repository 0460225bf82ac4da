"""Back-end QoS specs onto the performance of an ESSD disk.

ECS sells performance per disk (ESSD page, ESSD AutoPL page):

* an ESSD (``cloud_essd``) performs by its level and size: PL0
  min{1,800 + 12 x GiB, 10,000} IOPS and min{100 + 0.25 x GiB, 180} MB/s;
  PL1, PL2, PL3 min{1,800 + 50 x GiB, 50,000 / 100,000 / 1,000,000} IOPS
  and min{120 + 0.5 x GiB, 350 / 750 / 4,000} MB/s;
* an ESSD AutoPL disk (``cloud_auto``) has a PL1's baseline (the current
  page adds a floor of 3,000 IOPS and 125 MB/s, the older one does not)
  plus the ``ProvisionedIops`` bought on top, each adding 16 KB/s, at most
  min{1,000 x GiB - baseline, 50,000} and none up to 3 GiB;
* a Regional ESSD performs like a PL1.

A volume type's QoS specs with consumer ``back-end`` or ``both`` ask for
``total_iops_sec`` and ``total_bytes_sec`` (or their ``_per_gb`` forms,
multiplied by the size, with Cinder's ``_per_gb_min`` floor and ``_max``
cap). The disk chosen is the first of PL0, PL1, AutoPL with the fewest
provisioned IOPS that meet both, PL2, PL3 that meets them at the
volume's size (Alibaba prices the AutoPL baseline as a PL1, and what is
provisioned on top costs more; no page gives a price order beyond that).
An AutoPL disk reaches what a PL2 does, so a PL2 comes only when the
type names it.
A multi-attach volume tries the ESSD levels before AutoPL: CreateDisk's
page allows multi-attach on ESSD only. Extra specs that name the category
or the level narrow the choice; when nothing in it meets the specs, the
volume is refused with the limit that stops it. Where the two AutoPL
pages differ, the choice meets the specs under both: the baseline
without the floor, the provisioned maximum with it.

ECS cannot limit reads and writes apart: ``read_*`` and ``write_*`` keys
are refused. MB/s is counted in 1,024s (the AutoPL page's "16 KB x IOPS
/ 1,024"): ``total_bytes_sec`` = MB/s x 1,048,576.
"""

import collections
import math

from cinder import exception
from cinder.volume import qos_specs as cinder_qos_specs
from oslo_log import log as logging

from cinder_ebs_driver.i18n import _

LOG = logging.getLogger(__name__)

BACKEND_CONSUMERS = ('back-end', 'both')
MIB = 1024 * 1024

ESSD = 'cloud_essd'
AUTOPL = 'cloud_auto'
REGIONAL = 'cloud_regional_disk_auto'

Curve = collections.namedtuple(
    'Curve', ['iops_base', 'iops_per_gib', 'iops_cap', 'mbps_base',
              'mbps_per_gib', 'mbps_cap'])
LEVELS = collections.OrderedDict([
    ('PL0', Curve(1800, 12, 10000, 100, 0.25, 180)),
    ('PL1', Curve(1800, 50, 50000, 120, 0.5, 350)),
    ('PL2', Curve(1800, 50, 100000, 120, 0.5, 750)),
    ('PL3', Curve(1800, 50, 1000000, 120, 0.5, 4000)),
])
AUTOPL_FLOOR_IOPS = 3000
MAX_PROVISIONED_IOPS = 50000
MAX_IOPS_PER_GIB = 1000
KB_PER_PROVISIONED_IO = 16
SMALLEST_TUNABLE_SIZE = 3

# The keys the back-end honours, and the forms Cinder gives them.
LIMITS = ('total_iops_sec', 'total_bytes_sec')
SPLIT_PREFIXES = ('read_', 'write_')

Requirement = collections.namedtuple('Requirement', ['iops', 'mbps'])
Choice = collections.namedtuple(
    'Choice', ['category', 'performance_level', 'provisioned_iops'])


def _invalid(reason):
    LOG.error('Invalid back-end QoS specs: %s', reason)
    return exception.InvalidQoSSpecs(reason=reason)


def backend_specs(volume_type):
    """A volume type's back-end QoS specs ({} if none).

    :param volume_type: a volume type object or dict, or None.
    """
    if not volume_type:
        return {}
    if isinstance(volume_type, dict):
        qos_id = volume_type.get('qos_specs_id')
    else:
        qos_id = getattr(volume_type, 'qos_specs_id', None)
    if not qos_id:
        return {}
    found = cinder_qos_specs.get_qos_specs(None, qos_id)
    if found.consumer not in BACKEND_CONSUMERS:
        return {}
    return dict(found.specs or {})


def _number(specs, key):
    value = specs.get(key)
    if value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        number = -1
    if number < 0 or math.isnan(number) or math.isinf(number):
        raise _invalid(_('QoS spec %(key)s must be a non-negative number, '
                         'not %(value)r.') % {'key': key, 'value': value})
    return number


def _limit(specs, key, size):
    """One limit from its plain or per-GiB form, as Cinder computes it."""
    per_gb = _number(specs, key + '_per_gb')
    if per_gb is None:
        return _number(specs, key)
    value = per_gb * size
    floor = _number(specs, key + '_per_gb_min')
    cap = _number(specs, key + '_max')
    if floor is not None:
        value = max(value, floor)
    if cap is not None:
        value = min(value, cap)
    return value


def requirement(specs, size):
    """What back-end QoS specs ask of a disk of ``size`` GiB.

    :returns: a :class:`Requirement` (IOPS and MB/s, None where not
        asked), or None when the specs ask nothing of the back-end.
    :raises InvalidQoSSpecs: a read / write key or a malformed value.
    """
    split = sorted(key for key in specs if key.startswith(SPLIT_PREFIXES))
    if split:
        raise _invalid(_('ECS limits a disk\'s reads and writes together: '
                         '%s cannot be honoured; use total_iops_sec and '
                         'total_bytes_sec.') % ', '.join(split))
    iops = _limit(specs, 'total_iops_sec', size)
    bytes_sec = _limit(specs, 'total_bytes_sec', size)
    if iops is None and bytes_sec is None:
        return None
    return Requirement(
        None if iops is None else int(math.ceil(iops)),
        None if bytes_sec is None else int(math.ceil(bytes_sec / MIB)))


def _curve(curve, size):
    return (min(curve.iops_base + curve.iops_per_gib * size, curve.iops_cap),
            int(min(curve.mbps_base + curve.mbps_per_gib * size,
                    curve.mbps_cap)))


def level_performance(level, size):
    """(IOPS, MB/s) of an ESSD at ``level`` of ``size`` GiB."""
    return _curve(LEVELS[level], size)


def autopl_max_provisioned(size):
    """The provisioned IOPS ECS takes under both AutoPL pages."""
    if size <= SMALLEST_TUNABLE_SIZE:
        return 0
    baseline = max(level_performance('PL1', size)[0], AUTOPL_FLOOR_IOPS)
    return max(0, min(MAX_IOPS_PER_GIB * size - baseline,
                      MAX_PROVISIONED_IOPS))


def _meets(req, iops, mbps):
    return ((req.iops is None or iops >= req.iops) and
            (req.mbps is None or mbps >= req.mbps))


def _autopl(req, size):
    """The fewest provisioned IOPS an AutoPL disk needs, or None."""
    base_iops, base_mbps = level_performance('PL1', size)
    needed = 0
    if req.iops is not None:
        needed = max(needed, req.iops - base_iops)
    if req.mbps is not None:
        needed = max(needed, int(math.ceil(
            (req.mbps - base_mbps) * 1024.0 / KB_PER_PROVISIONED_IO)))
    if needed > autopl_max_provisioned(size):
        return None
    return needed


def _candidates(multiattach, category, level):
    if category == REGIONAL:
        return [(REGIONAL, None)]
    essd = [(ESSD, name) for name in LEVELS
            if level is None or name == level]
    if category == ESSD or level is not None:
        return essd
    if category == AUTOPL:
        return [(AUTOPL, None)]
    if multiattach:
        return essd + [(AUTOPL, None)]
    return essd[:2] + [(AUTOPL, None)] + essd[2:]


def _performance(category, level, size):
    """The most (IOPS, MB/s) a candidate gives at ``size`` GiB."""
    if category == AUTOPL:
        base_iops, base_mbps = level_performance('PL1', size)
        provisioned = autopl_max_provisioned(size)
        return (base_iops + provisioned,
                base_mbps + KB_PER_PROVISIONED_IO * provisioned // 1024)
    return level_performance(level or 'PL1', size)


def meets(req, category, level, provisioned_iops, size):
    """Whether a disk as it is meets ``req`` at ``size`` GiB.

    A category this module does not know is taken to meet it.
    """
    if category == AUTOPL:
        base_iops, base_mbps = level_performance('PL1', size)
        provisioned = provisioned_iops or 0
        return _meets(req, base_iops + provisioned,
                      base_mbps + KB_PER_PROVISIONED_IO * provisioned // 1024)
    if category == ESSD and level in LEVELS:
        return _meets(req, *level_performance(level, size))
    if category == REGIONAL:
        return _meets(req, *level_performance('PL1', size))
    return True


def choose(req, size, multiattach=False, category=None, level=None,
           min_sizes=None):
    """The first disk that meets ``req`` at ``size`` GiB.

    :param category: the category the volume type names, if any.
    :param level: the performance level it names, if any.
    :param min_sizes: smallest size per ESSD level (GiB).
    :returns: a :class:`Choice`.
    :raises InvalidQoSSpecs: nothing allowed meets the requirement.
    """
    choice, shortfall = _first_fit(req, size, multiattach, category, level,
                                   min_sizes)
    if choice is None:
        raise _invalid(
            _('the volume type\'s back-end QoS specs ask %(shortfall)s. '
              'Choose a larger size, lower specs or another volume type.')
            % {'shortfall': shortfall})
    return choice


def _first_fit(req, size, multiattach, category, level, min_sizes):
    """(the first Choice that meets ``req``, None) or (None, why not)."""
    min_sizes = min_sizes or {}
    allowed = [(cand_category, cand_level)
               for cand_category, cand_level in _candidates(
                   multiattach, category, level)
               if size >= min_sizes.get(cand_level, 0)]
    for cand_category, cand_level in allowed:
        if cand_category == AUTOPL:
            provisioned = _autopl(req, size)
            if provisioned is not None:
                return Choice(AUTOPL, None, provisioned), None
        elif _meets(req, *_performance(cand_category, cand_level, size)):
            return Choice(cand_category, cand_level, None), None
    best = [_performance(cand_category, cand_level, size)
            for cand_category, cand_level in allowed] or [(0, 0)]
    asked = ', '.join(part for part in (
        None if req.iops is None else _('%d IOPS') % req.iops,
        None if req.mbps is None else _('%d MB/s') % req.mbps) if part)
    return None, (
        _('%(asked)s of a %(size)d GiB disk; the most a disk of that size '
          'gives (%(what)s) is %(iops)d IOPS and %(mbps)d MB/s') %
        {'asked': asked, 'size': size,
         'what': ', '.join(('%s %s' % (cand_category, cand_level or '')
                            ).strip()
                           for cand_category, cand_level in allowed
                           ) or _('no disk of that size'),
         'iops': max(iops for iops, _mbps in best),
         'mbps': max(mbps for _iops, mbps in best)})


# Sizes tried for fixed specs when no volume size is known yet: each power
# of two, and the smallest size of each ESSD level (GiB).
SIZES_TRIED = sorted({2 ** n for n in range(17)} | {20, 461, 1261, 65536})


def unmet_at_every_size(specs, multiattach=False, category=None,
                        level=None, min_sizes=None):
    """Why no volume size lets a disk meet ``specs``, or None.

    For a volume type, before any volume has a size: the specs are refused
    when no disk the extra specs allow meets them at any size from 1 to
    65,536 GiB (performance and per-GiB specs both grow with the size).

    :returns: a message saying what the largest disk gives, or None.
    """
    # Fixed specs are met best by the largest disk; per-GiB ones (with a
    # floor or a cap) may be met only between two sizes: try them all.
    per_gb = any(key.endswith(('_per_gb', '_per_gb_min')) for key in specs)
    sizes = range(1, SIZES_TRIED[-1] + 1) if per_gb else SIZES_TRIED
    try:
        shortfall = None
        for size in sizes:
            required = requirement(specs, size)
            if required is None:
                return None
            choice, shortfall = _first_fit(required, size, multiattach,
                                           category, level, min_sizes)
            if choice is not None:
                return None
    except exception.InvalidQoSSpecs as error:
        return error.msg
    return (_('no disk the volume type allows meets its back-end QoS specs '
              'at any size up to %(max)d GiB: they ask %(shortfall)s.') %
            {'max': SIZES_TRIED[-1], 'shortfall': shortfall})
