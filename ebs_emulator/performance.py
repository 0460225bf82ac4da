"""What a disk performs: its IOPS and throughput limits.

The formulas of Alibaba's disk pages, by category: ESSD per performance
level (the ESSD page), ESSD AutoPL as a baseline that grows with the size
plus the provisioned IOPS bought on top (the AutoPL page), Regional ESSD
like a PL1 ESSD (the block storage performance page). Throughput is in
MB/s, which these pages count in units of 1,024 (the AutoPL page's
"16 KB x IOPS / 1,024"). The two versions of the AutoPL page disagree on
a floor under the baseline: a dispute of the rule book
(:data:`ebs_emulator.rules.DISPUTES`, ``autopl-baseline``).
"""

import collections

Curve = collections.namedtuple(
    'Curve', ['iops_base', 'iops_per_gib', 'iops_cap', 'mbps_base',
              'mbps_per_gib', 'mbps_cap'])

# min{base + per GiB x size, cap}, for IOPS and for MB/s.
ESSD_LEVELS = {
    'PL0': Curve(1800, 12, 10000, 100, 0.25, 180),
    'PL1': Curve(1800, 50, 50000, 120, 0.5, 350),
    'PL2': Curve(1800, 50, 100000, 120, 0.5, 750),
    'PL3': Curve(1800, 50, 1000000, 120, 0.5, 4000),
}
# The AutoPL baseline and the Regional ESSD are a PL1's.
AUTOPL_BASELINE = ESSD_LEVELS['PL1']
REGIONAL = ESSD_LEVELS['PL1']
# The current AutoPL page's floor under the baseline (IOPS, MB/s).
AUTOPL_FLOOR = (3000, 125)
MAX_PROVISIONED_IOPS = 50000
# Performance density cap of an AutoPL disk, IOPS per GiB.
MAX_IOPS_PER_GIB = 1000
# Each provisioned IOPS adds this many KB/s of throughput.
KB_PER_PROVISIONED_IO = 16
# Provisioned IOPS and bursting need a larger disk than this (GiB).
SMALLEST_TUNABLE_SIZE = 3
# An AutoPL disk's burst ceiling: IOPS, and MB/s.
MAX_BURST_IOPS = 1000000
MAX_BURST_MBPS = 4096

AUTOPL = 'cloud_auto'
# Bytes in the pages' MB.
MIB = 1024 * 1024
ESSD = 'cloud_essd'
REGIONAL_ESSD = 'cloud_regional_disk_auto'


def _curve(curve, size):
    return (min(curve.iops_base + curve.iops_per_gib * size, curve.iops_cap),
            int(min(curve.mbps_base + curve.mbps_per_gib * size,
                    curve.mbps_cap)))


def autopl_baseline(size, readings):
    """(IOPS, MB/s) an AutoPL disk of ``size`` GiB gets without extras."""
    iops, mbps = _curve(AUTOPL_BASELINE, size)
    if readings['autopl-baseline'] == 'current-guide':
        iops, mbps = max(iops, AUTOPL_FLOOR[0]), max(mbps, AUTOPL_FLOOR[1])
    return iops, mbps


def max_provisioned_iops(size, readings):
    """The most ProvisionedIops an AutoPL disk of ``size`` GiB takes."""
    if size <= SMALLEST_TUNABLE_SIZE:
        return 0
    baseline, _mbps = autopl_baseline(size, readings)
    return max(0, min(MAX_IOPS_PER_GIB * size - baseline,
                      MAX_PROVISIONED_IOPS))


def provisioned_mbps(provisioned_iops):
    return KB_PER_PROVISIONED_IO * (provisioned_iops or 0) // 1024


def limits(category, level, size, provisioned_iops, readings):
    """(IOPS, MB/s) of a disk, or (0, 0) for a category not modelled."""
    if category == ESSD and level in ESSD_LEVELS:
        return _curve(ESSD_LEVELS[level], size)
    if category == AUTOPL:
        iops, mbps = autopl_baseline(size, readings)
        return (iops + (provisioned_iops or 0),
                mbps + provisioned_mbps(provisioned_iops))
    if category == REGIONAL_ESSD:
        return _curve(REGIONAL, size)
    return 0, 0


def burst_ceiling(size, iops, mbps):
    """What a bursting AutoPL disk reaches, from its IOPS and MB/s.

    min{1,000,000, 1,000 x size} IOPS and max{min{16 KB x IOPS / 1,024,
    4 GB/s}, baseline + provisioned} MB/s (the AutoPL page).
    """
    burst_iops = min(MAX_BURST_IOPS, MAX_IOPS_PER_GIB * size)
    return (max(iops, burst_iops),
            max(mbps, min(KB_PER_PROVISIONED_IO * burst_iops // 1024,
                          MAX_BURST_MBPS)))


def ceiling(category, level, size, provisioned_iops, bursting, readings):
    """(IOPS, MB/s) the data path holds a disk to.

    Its limits, or its burst ceiling when it bursts.
    """
    iops, mbps = limits(category, level, size, provisioned_iops, readings)
    if category == AUTOPL and bursting:
        return burst_ceiling(size, iops, mbps)
    return iops, mbps
