"""``ebs-emulator resv-report``: a disk's persistent reservations.

The ECS API has no call for them, so this reads the running emulator's
admin endpoint (``/_emulator/reservations``) and prints each disk in the
shape of ``nvme resv-report``: generation, reservation type, number of
registered hosts and, per host, whether it holds the reservation and its
key, plus what the data path counted for each instance (reads, writes,
refused ones, reservation calls).

Example::

    ebs-emulator resv-report --url http://127.0.0.1:8080 --disk d-123
"""

import argparse
import json
import sys
import urllib.error
import urllib.request

from nova_shim.fencing import pr_abi


def _type_number(name):
    return int(pr_abi.PRType[name]) if name else 0


def format_disk(disk_id, entry):
    """The report of one disk as ``nvme resv-report`` lines."""
    lines = ['disk %s' % disk_id,
             'gen       : %d' % entry['generation'],
             'rtype     : %d%s' % (_type_number(entry['type']),
                                   ' (%s)' % entry['type']
                                   if entry['type'] else ''),
             'regctl    : %d' % len(entry['registrants'])]
    for index, reg in enumerate(entry['registrants']):
        lines += ['regctl[%d] :' % index,
                  '  host    : %s' % reg['host'],
                  '  rcsts   : %d' % int(reg['holds_reservation']),
                  '  rkey    : %s' % reg['key']]
    for instance, counts in sorted(entry.get('counters', {}).items()):
        lines.append('io[%s] : %s' % (instance, ' '.join(
            '%s=%d' % item for item in sorted(counts.items()))))
    return '\n'.join(lines)


def fetch(url, name='reservations', timeout=10):
    """GET a running emulator's ``/_emulator/<name>``; its JSON answer."""
    with urllib.request.urlopen('%s/_emulator/%s' % (url.rstrip('/'), name),
                                timeout=timeout) as r:
        return json.loads(r.read().decode('utf-8'))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='ebs-emulator resv-report',
        description='Print the persistent reservations of attached disks.')
    parser.add_argument('--url', required=True,
                        help='The emulator, e.g. http://127.0.0.1:8080.')
    parser.add_argument('--disk', help='Only this disk id.')
    parser.add_argument('--json', action='store_true',
                        help='Print the report as JSON.')
    args = parser.parse_args(argv)
    try:
        answer = fetch(args.url)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print('ebs-emulator resv-report: %s' % exc, file=sys.stderr)
        return 1
    if not answer.get('enforced'):
        print('ebs-emulator resv-report: this emulator does not enforce '
              'persistent reservations (no FUSE data path)',
              file=sys.stderr)
        return 3
    disks = answer['disks']
    if args.disk:
        if args.disk not in disks:
            print('ebs-emulator resv-report: %s is not attached anywhere '
                  '(no reservation state in use)' % args.disk,
                  file=sys.stderr)
            return 1
        disks = {args.disk: disks[args.disk]}
    if args.json:
        print(json.dumps(disks, indent=2, sort_keys=True))
    else:
        print('\n\n'.join(format_disk(disk, entry)
                          for disk, entry in sorted(disks.items())))
    return 0
