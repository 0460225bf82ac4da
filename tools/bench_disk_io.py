#!/usr/bin/env python3
"""``io='native'`` against QEMU's default I/O mode, measured in a guest.

One private libvirtd and one tiny TCG guest (role ``iobench``, see
``ebs_allinone/hosts/guest_iobench.py``). The shim's ``<disk>`` element
(``cache='none'``) is hot-plugged with ``io='native'`` and without an
``io`` attribute (QEMU's default, a thread pool: ``io='threads'``),
alternating, on each backing the volume's host path can be: a loop
device, a regular file and, where the emulator's FUSE data path runs, the
emulator's FUSE view of a disk. Each time, the guest measures the disk
with O_DIRECT (4 KiB latency at queue depth 1, 4 KiB operations per
second at queue depth 4, 1 MiB MB/s) and the figures are collected from
its console (after one pass, not counted, that allocates the blocks of a
sparse backing). Prints the median of the rounds per backing and mode, and
the ratio native / default.

It also asks libvirt for ``io='native'`` with a host page cache
(``cache='writeback'``), to show what QEMU does when native AIO cannot
have O_DIRECT. Figures only; nothing is asserted. Needs root::

    .tox/py3/bin/python tools/bench_disk_io.py [--rounds 3]
        [--backings loop,file,fuse]
"""

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import libvirt  # noqa: E402
from lxml import etree  # noqa: E402
from oslo_utils import uuidutils  # noqa: E402

from ebs_allinone.hosts import guest_image  # noqa: E402
from ebs_allinone.hosts import guest_iobench  # noqa: E402
from ebs_allinone.hosts import guest_support  # noqa: E402
from nova_shim import disk  # noqa: E402
from nova_shim import guest as guest_mod  # noqa: E402
from tests.libvirt import daemons  # noqa: E402
from tests.libvirt import guests  # noqa: E402
from tests.libvirt import volumes  # noqa: E402

MODES = ('native', 'default')
BACKINGS = ('loop', 'file', 'fuse')
MIB = 64
RUN_TIMEOUT = 300
LABELS = {'w4k_us': '4 KiB write QD1, us', 'r4k_us': '4 KiB read QD1, us',
          'w4k_qd4_iops': '4 KiB write QD4, IOPS',
          'r4k_qd4_iops': '4 KiB read QD4, IOPS',
          'w1m_mbps': '1 MiB write, MB/s', 'r1m_mbps': '1 MiB read, MB/s'}


def disk_xml(path, volume_id, io=None, cache='none'):
    """The shim's ``<disk>`` for ``path``, with ``io`` and ``cache`` set."""
    info = {'driver_volume_type': 'local', 'serial': volume_id,
            'data': {'device_path': path, 'volume_id': volume_id,
                     'access_mode': 'rw', 'multiattach': True}}
    node = disk.build_disk_element(info, 'vdb')
    driver = node.find('driver')
    driver.set('cache', cache)
    if io:
        driver.set('io', io)
    elif 'io' in driver.attrib:
        del driver.attrib['io']
    return etree.tostring(node, encoding='unicode')


class Bench(object):
    """The guest and the hot-plug of one disk XML after another."""

    def __init__(self, stack, workdir, volume_id):
        self.volume_id = volume_id
        self.daemons = stack.enter_context(daemons.LibvirtDaemons(
            cache_dir=guest_image.qemu_cache_dir()))
        self.conn = libvirt.open(self.daemons.uri)
        stack.callback(self.conn.close)
        self.guest = stack.enter_context(guests.GuestFixture(
            self.conn, self.daemons, workdir, role='iobench',
            volume_id=volume_id, mib=MIB))

    def _wait(self, what, done, timeout):
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError('no %s within %d s; console:\n%s'
                                   % (what, timeout, self.guest.console()))
            time.sleep(0.05)

    def run(self, xml):
        """Hot-plug ``xml``, return the guest's figures and the live io."""
        console = self.guest.console()
        seen = len(guest_iobench.parse(console))
        gone = console.count('EBS-GUEST-DISK-GONE')
        dom = self.guest.domain
        dom.attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        try:
            live = etree.fromstring(dom.XMLDesc(0)).find(
                "./devices/disk[serial='%s']/driver" % self.volume_id)
            self._wait('figures', lambda: len(guest_iobench.parse(
                self.guest.console())) > seen or 'EBS-GUEST-ERROR' in
                self.guest.console()[len(console):], RUN_TIMEOUT)
        finally:
            dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            self._wait('detach', lambda: self.guest.console().count(
                'EBS-GUEST-DISK-GONE') > gone, 30)
        results = guest_iobench.parse(self.guest.console())
        if len(results) <= seen:
            raise RuntimeError('the guest failed:\n%s'
                               % self.guest.console()[len(console):])
        return results[-1], live.get('io')

    def try_attach(self, xml):
        """Hot-plug and unplug ``xml``: None, or libvirt's refusal."""
        dom = self.guest.domain
        console = self.guest.console()
        gone = console.count('EBS-GUEST-DISK-GONE')
        try:
            dom.attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        except libvirt.libvirtError as exc:
            return str(exc)
        live = etree.fromstring(dom.XMLDesc(0)).find(
            "./devices/disk[serial='%s']/driver" % self.volume_id)
        self._wait('figures', lambda: 'EBS-IOBENCH' in self.guest.console()[
            len(console):] or 'EBS-GUEST-ERROR' in self.guest.console()[
            len(console):], RUN_TIMEOUT)
        dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        self._wait('detach', lambda: self.guest.console().count(
            'EBS-GUEST-DISK-GONE') > gone, 30)
        return 'accepted, live driver element %s' % dict(live.attrib)


def backing_paths(stack, workdir, names):
    """{backing name: host path of the volume}; why others are missing."""
    paths, missing = {}, {}
    if 'loop' in names:
        paths['loop'] = stack.enter_context(volumes.LoopVolume(
            workdir, 'io-loop')).path
    if 'file' in names:
        paths['file'] = stack.enter_context(volumes.FileVolume(
            workdir, 'io-file')).path
    if 'fuse' in names:
        from ebs_allinone.hosts import shared_disk
        from ebs_emulator import datapath
        reason = datapath.unavailable_reason()
        if reason:
            missing['fuse'] = reason
        else:
            shared = stack.enter_context(shared_disk.SharedDisk(instances=1))
            paths['fuse'] = next(iter(shared.paths.values()))
    return paths, missing


def _fmt(values):
    return '%.0f (%.0f-%.0f)' % (statistics.median(values), min(values),
                                 max(values))


def report(figures):
    print('%-6s %-24s %-22s %-22s %s' % ('disk', 'figure', 'io=native',
                                         'no io (threads)', 'native/default'))
    for backing, modes in figures.items():
        for field in guest_iobench.FIELDS:
            native = [r[field] for r in modes['native']]
            default = [r[field] for r in modes['default']]
            ratio = statistics.median(native) / statistics.median(default)
            print('%-6s %-24s %-22s %-22s %.2fx' % (
                backing, LABELS[field], _fmt(native), _fmt(default), ratio))


def run(args):
    reason = guest_support.unavailable_reason()
    if reason:
        print('bench_disk_io: cannot run here: %s' % reason)
        return 0
    guest_mod.silence_libvirt_errors()
    volume_id = uuidutils.generate_uuid()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        workdir = tempfile.mkdtemp(prefix='ebs-bench-io-')
        stack.callback(shutil.rmtree, workdir, True)
        paths, missing = backing_paths(stack, workdir, args.backings)
        bench = Bench(stack, workdir, volume_id)
        print('set-up: %.1f s' % (time.monotonic() - started))
        for backing, why in missing.items():
            print('%s: not measured: %s' % (backing, why))
        figures = {}
        for backing, path in paths.items():
            # A first pass, not counted, allocates the blocks of a sparse
            # backing so that no mode pays for it.
            bench.run(disk_xml(path, volume_id))
            figures[backing] = {mode: [] for mode in MODES}
            for index in range(args.rounds):
                order = MODES if index % 2 == 0 else MODES[::-1]
                for mode in order:
                    xml = disk_xml(path, volume_id,
                                   io='native' if mode == 'native' else None)
                    result, live_io = bench.run(xml)
                    figures[backing][mode].append(result)
                    if index == 0:
                        print('%s, %s: live driver io=%s'
                              % (backing, mode, live_io))
        for backing, path in paths.items():
            xml = disk_xml(path, volume_id, io='native', cache='writeback')
            print("%s, io='native' cache='writeback': %s"
                  % (backing, bench.try_attach(xml)))
    print('%d rounds per mode, alternating; O_DIRECT in a TCG guest; '
          'median (min-max); run took %.0f s'
          % (args.rounds, time.monotonic() - started))
    report(figures)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--backings', default=','.join(BACKINGS),
                        type=lambda text: text.split(','))
    return run(parser.parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
