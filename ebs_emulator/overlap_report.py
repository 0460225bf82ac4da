"""``ebs-emulator overlaps``: conflicting mutating calls on one disk.

Reads the running emulator's ``/_emulator/overlaps`` and prints each pair
of mutating calls that were in flight on one disk at the same time in
conflict (the rule is in :mod:`ebs_emulator.overlaps`), then what is in
flight now. Exits with 0 when there is no such pair, 3 when there is.

Example::

    ebs-emulator overlaps --url http://127.0.0.1:8080 --disk d-123
"""

import argparse
import json
import sys
import time
import urllib.error

from ebs_emulator import resv_report

FOUND_OVERLAPS = 3


def _moment(stamp):
    if stamp is None:
        return 'in flight'
    return '%s.%03d' % (time.strftime('%H:%M:%S', time.gmtime(stamp)),
                        int(stamp * 1000) % 1000)


def format_operation(op):
    target = ' instance %s' % op['instance_id'] if op['instance_id'] else ''
    outcome = ' refused: %s' % op['error'] if op['error'] else ''
    return '%s%s %s .. %s%s' % (op['action'], target, _moment(op['started']),
                                _moment(op['ended']), outcome)


def format_report(report, disk=None):
    """The report as lines of text (times in UTC)."""
    pairs = [pair for pair in report['overlaps']
             if disk in (None, pair['disk_id'])]
    lines = ['%d conflicting overlap(s) among %d mutating call(s)' % (
        report['conflicts'], sum(report['recorded'].values()))]
    for pair in pairs:
        lines.append('disk %s: %s  overlaps  %s' % (
            pair['disk_id'], format_operation(pair['first']),
            format_operation(pair['second'])))
    flying = [op for op in report['in_flight']
              if disk in (None, op['disk_id'])]
    for op in flying:
        lines.append('in flight on %s: %s' % (op['disk_id'],
                                              format_operation(op)))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='ebs-emulator overlaps',
        description='Print the mutating calls that were in flight on one '
                    'disk at once in conflict.')
    parser.add_argument('--url', required=True,
                        help='The emulator, e.g. http://127.0.0.1:8080.')
    parser.add_argument('--disk', help='Only this disk id.')
    parser.add_argument('--json', action='store_true',
                        help='Print the report as JSON.')
    args = parser.parse_args(argv)
    try:
        report = resv_report.fetch(args.url, 'overlaps')
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print('ebs-emulator overlaps: %s' % exc, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(format_report(report, args.disk))
    found = [pair for pair in report['overlaps']
             if args.disk in (None, pair['disk_id'])]
    return FOUND_OVERLAPS if found or (
        args.disk is None and report['conflicts']) else 0
