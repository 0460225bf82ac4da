"""Disk categories, performance levels and their size limits.

The limits are those of the CreateDisk reference (sizes in GiB).
"""

from ebs_emulator import exception

ESSD = 'cloud_essd'
PERFORMANCE_LEVELS = ('PL0', 'PL1', 'PL2', 'PL3')
DEFAULT_PERFORMANCE_LEVEL = 'PL1'

# category -> (min GiB, max GiB)
_SIZE_LIMITS = {
    'cloud': (5, 2000),
    'cloud_efficiency': (20, 32768),
    'cloud_ssd': (20, 32768),
    'cloud_essd': (1, 65536),
    'cloud_auto': (1, 65536),
    'cloud_essd_entry': (10, 32768),
    'cloud_regional_disk_auto': (10, 65536),
}
# An ESSD's minimum size depends on its performance level.
_ESSD_MIN_SIZE = {'PL0': 1, 'PL1': 20, 'PL2': 461, 'PL3': 1261}

CATEGORIES = tuple(sorted(_SIZE_LIMITS))
# Multi-attach in the multi-attach guide's reading.
MULTI_ATTACH_CATEGORIES = ('cloud_essd', 'cloud_auto',
                           'cloud_regional_disk_auto')
# Regional disks are not bound to one zone of the region.
REGIONAL_CATEGORIES = ('cloud_regional_disk_auto',)


def validate_category(category):
    if category not in _SIZE_LIMITS:
        raise exception.invalid_category()
    return category


def performance_level_for(category, requested):
    """The PerformanceLevel a disk of this category gets ('' if none)."""
    if requested is not None and requested not in PERFORMANCE_LEVELS:
        raise exception.invalid_performance_level()
    if category != ESSD:
        return ''
    return requested or DEFAULT_PERFORMANCE_LEVEL


def max_size(category):
    return _SIZE_LIMITS[category][1]


def check_size(category, performance_level, size):
    """Raise the documented error when size does not fit the category."""
    low, high = _SIZE_LIMITS[category]
    if not low <= size <= high:
        raise exception.size_out_of_range()
    if category == ESSD and size < _ESSD_MIN_SIZE[performance_level]:
        raise exception.performance_level_mismatch()


def supports_multi_attach(category, readings):
    """Whether a disk of this category can enable multi-attach.

    Alibaba's pages disagree (see ebs_emulator.rules): the multi-attach
    guide allows ESSD, ESSD AutoPL and Regional ESSD, CreateDisk ESSD only.
    """
    if readings['multi-attach-categories'] == 'createdisk':
        return category == ESSD
    return category in MULTI_ATTACH_CATEGORIES
