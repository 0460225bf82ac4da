#!/usr/bin/env python3
"""Where the time of the shim's attach into a real guest goes.

Every simulated compute host is a private libvirtd with one tiny guest
under QEMU (TCG), the ones of the libvirt tests. One multi-attach volume
(a loop device) is attached into every host's guest by
``nova_shim.attach.VolumeAttacher`` and detached again, ``rounds`` times.
Each attach is split into phases by the attacher's own phase timer:

* volume API: the calls to the volume service (Cinder's answers with
  ``--cinder``; else the in-process ``LocalVolumes`` of the tests);
* connector: os-brick's connector properties;
* libvirt checks: domain lookup, the domain's XML, the hypervisor versions,
  the device flags;
* os-brick connect, XML build, attachDeviceFlags, metadata record (the
  attachment's record in the domain's metadata), lock, and "other" (the
  rest of the call);
* guest notices: from attachDeviceFlags' return until the guest prints the
  disk it found by its serial.

"Shim's own" is the whole attach call less the volume API's answers; the
guest's time is not in it. Prints p50 (min-max) in milliseconds per phase,
the first attach of each host apart (it probes os-brick and checks the
hypervisor: the first ``getVersion`` of a freshly started libvirtd took
2-4 s here, later ones under a millisecond), the same kind of disk attached by
``attachDeviceFlags`` alone as the reference of the same run, and whether
the goal (shim's own p50 <= 50 ms, once each host made its first attach)
is met.
Figures only; nothing is asserted. Needs root, libvirtd and QEMU::

    .tox/py3/bin/python tools/bench_shim_attach.py [--hosts 2]
        [--rounds 5] [--cinder]

``--cinder`` runs the all-in-one's emulator and Cinder (about 15 s more)
and attaches a Cinder volume instead of a local loop device.
"""

import argparse
import contextlib
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import libvirt  # noqa: E402
from oslo_utils import uuidutils  # noqa: E402

from ebs_allinone.hosts import guest_image  # noqa: E402
from ebs_allinone.hosts import guest_support  # noqa: E402
from nova_shim import attach  # noqa: E402
from nova_shim import disk  # noqa: E402
from nova_shim import guest as guest_mod  # noqa: E402
from nova_shim import host as host_mod  # noqa: E402
from nova_shim import timing  # noqa: E402
from nova_shim.volume_api import local as local_volumes  # noqa: E402
from tests.libvirt import daemons  # noqa: E402
from tests.libvirt import guests  # noqa: E402
from tests.libvirt import volumes  # noqa: E402

GOAL_MS = 50.0
VOLUME_API = 'volume API'
PHASES = (VOLUME_API, 'connector', 'libvirt checks', 'lock',
          'os-brick connect', 'XML build', 'attachDeviceFlags',
          'metadata record', 'other', 'guest notices')
SHIMS_OWN = "shim's own"
DISK_LINE = 'EBS-GUEST-DISK vd'
GONE_LINE = 'EBS-GUEST-DISK-GONE vd'
BOTH = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG


class BenchTimer(timing.PhaseTimer):
    """A phase timer that also keeps when each phase last ended."""

    def __init__(self):
        super().__init__()
        self.ended = {}

    @contextlib.contextmanager
    def phase(self, name):
        with super().phase(name):
            yield
        self.ended[name] = self.clock()


class TimedVolumeAPI(object):
    """Times every call of a volume API as the ``volume API`` phase."""

    def __init__(self, api):
        self.api = api
        self.timer = None

    def __getattr__(self, name):
        call = getattr(self.api, name)
        if not callable(call):
            return call

        def timed(*args, **kwargs):
            if self.timer is None:
                return call(*args, **kwargs)
            with self.timer.phase(VOLUME_API):
                return call(*args, **kwargs)
        return timed


class Host(object):
    """A private libvirtd, one idle guest waiting for the volume, the shim."""

    def __init__(self, stack, workdir, name, volume_id, api):
        self.name = name
        self.daemons = stack.enter_context(daemons.LibvirtDaemons(
            cache_dir=guest_image.qemu_cache_dir()))
        self.conn = libvirt.open(self.daemons.uri)
        stack.callback(self.conn.close)
        self.guest = stack.enter_context(guests.GuestFixture(
            self.conn, self.daemons, workdir, role='idle',
            volume_id=volume_id, wait=False))
        self.api = TimedVolumeAPI(api)
        self.timers = []
        self.attacher = attach.VolumeAttacher(
            self.conn, self.api, host=name, my_ip='127.0.0.1',
            timer_factory=self._timer)

    def _timer(self):
        timer = BenchTimer()
        self.api.timer = timer
        self.timers.append(timer)
        return timer

    def _wait_line(self, line, count, timeout=30):
        deadline = time.monotonic() + timeout
        while self.guest.console().count(line) < count:
            if time.monotonic() > deadline:
                raise RuntimeError('%s: no %r in the console:\n%s'
                                   % (self.name, line, self.guest.console()))
            time.sleep(0.002)
        return time.perf_counter()

    def attach(self, volume_id):
        seen = self.guest.console().count(DISK_LINE)
        start = time.perf_counter()
        self.attacher.attach(self.guest.name, volume_id)
        end = time.perf_counter()
        noticed = self._wait_line(DISK_LINE, seen + 1)
        timer = self.timers[-1]
        phases = dict(timer.seconds)
        phases['other'] = (end - start) - timer.total()
        phases['guest notices'] = noticed - timer.ended['attachDeviceFlags']
        phases[SHIMS_OWN] = (end - start) - phases.get(VOLUME_API, 0.0)
        return phases

    def detach(self, volume_id):
        gone = self.guest.console().count(GONE_LINE)
        self.attacher.detach(self.guest.name, volume_id)
        self._wait_line(GONE_LINE, gone + 1)

    def bare_attach(self, disk_xml):
        """The reference: a disk like the shim's, by libvirt alone."""
        seen = self.guest.console().count(DISK_LINE)
        start = time.perf_counter()
        self.guest.domain.attachDeviceFlags(disk_xml, BOTH)
        took = time.perf_counter() - start
        self._wait_line(DISK_LINE, seen + 1)
        return took

    def bare_detach(self, disk_xml):
        gone = self.guest.console().count(GONE_LINE)
        self.guest.domain.detachDeviceFlags(disk_xml, BOTH)
        self._wait_line(GONE_LINE, gone + 1)


def local_volume(stack, workdir):
    api = local_volumes.LocalVolumes()
    vol = stack.enter_context(volumes.LoopVolume(workdir, 'bench'))
    volume_id = uuidutils.generate_uuid()
    api.add_volume(volume_id, vol.path, multiattach=True)
    return api, volume_id


def reference_xml(stack, workdir, volume_id):
    """The shim's disk for a loop device, with the volume's serial."""
    vol = stack.enter_context(volumes.LoopVolume(workdir, 'reference'))
    return disk.build_disk_xml(
        {'driver_volume_type': 'local', 'serial': volume_id, 'multiattach':
         True, 'data': {'device_path': vol.path, 'volume_id': volume_id,
                        'discard': True}}, 'vdb')


def cinder_volume(stack, names):
    """The all-in-one's emulator and Cinder, and one multi-attach volume."""
    from ebs_allinone.cinder import client as cinder_api
    from ebs_allinone.scenarios import demo
    from ebs_allinone import stack as allinone

    services = allinone.AllInOne(names=names)
    stack.callback(services.stop)
    services.make_dir()
    services.start_emulator()
    services.start_cinder()
    admin = services.client(cinder_api.MULTIATTACH_VERSION)
    vtype = admin.volume_types.create('bench-multiattach')
    stack.callback(admin.volume_types.delete, vtype.id)
    vtype.set_keys(demo.VOLUME_TYPE_SPECS)
    vol = admin.volumes.create(demo.SIZE_GB, volume_type=vtype.id,
                               name='bench-shim-attach')
    stack.callback(cinder_api.wait_for_deleted, admin.volumes, vol.id)
    stack.callback(admin.volumes.delete, vol.id)
    cinder_api.wait_for_status(admin.volumes, vol.id, ('available',))
    return services.compute_volume_api(), vol.id


def _ms(values):
    values = [v * 1000 for v in values]
    return '%7.1f (%.1f-%.1f)' % (statistics.median(values), min(values),
                                  max(values))


def report(samples, first, bare):
    print('%-20s %-26s %s' % ('phase, ms', 'p50 (min-max), later',
                              'first attach of each host'))
    for name in PHASES + (SHIMS_OWN,):
        later = [s.get(name, 0.0) for s in samples]
        firsts = [s.get(name, 0.0) for s in first]
        print('%-20s %-26s %s' % (name, _ms(later) if later else '-',
                                  _ms(firsts)))
    print('reference, the same kind of disk by attachDeviceFlags alone: %s'
          % _ms(bare).strip())
    own = statistics.median(s[SHIMS_OWN] for s in samples) * 1000
    every = statistics.median(s[SHIMS_OWN] for s in samples + first) * 1000
    ref = statistics.median(bare) * 1000
    print("shim's own / reference: %.2fx (p50 %.1f ms vs %.1f ms)"
          % (own / ref, own, ref))
    print("goal: shim's own p50 <= %.0f ms: %s (%.1f ms after each host's "
          "first attach; %.1f ms over every attach)"
          % (GOAL_MS, 'met' if own <= GOAL_MS else 'not met', own, every))


def run(args):
    reason = guest_support.unavailable_reason()
    if reason:
        print('bench_shim_attach: cannot run here: %s' % reason)
        return 0
    host_mod.init_privsep()
    guest_mod.silence_libvirt_errors()
    names = ['bench-host-%d' % i for i in range(args.hosts)]
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        workdir = tempfile.mkdtemp(prefix='ebs-bench-shim-')
        stack.callback(shutil.rmtree, workdir, True)
        if args.cinder:
            api, volume_id = cinder_volume(stack, names)
        else:
            api, volume_id = local_volume(stack, workdir)
        ref_xml = reference_xml(stack, workdir, volume_id)
        hosts = [Host(stack, workdir, name, volume_id, api)
                 for name in names]
        for host in hosts:
            host.guest.wait_ready()
        print('set-up: %.1f s' % (time.monotonic() - started))
        first, samples, bare = [], [], []
        for index in range(args.rounds):
            for host in hosts:
                (samples if index else first).append(
                    host.attach(volume_id))
            for host in hosts:
                host.detach(volume_id)
            # The reference in the same conditions: attached into every
            # guest, then detached.
            for host in hosts:
                bare.append(host.bare_attach(ref_xml))
            for host in hosts:
                host.bare_detach(ref_xml)
    print('%d hosts x %d attaches of one multi-attach volume (%s) into '
          'TCG guests' % (args.hosts, args.rounds,
                          'Cinder' if args.cinder else 'local loop device'))
    report(samples or first, first, bare)
    return 0


def main(argv=None):
    # os-brick's warnings about initiators this host does not have, and
    # eventlet's deprecation notice, are not figures.
    logging.getLogger('os_brick').setLevel(logging.ERROR)
    warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--cinder', action='store_true',
                        help="attach a volume of the all-in-one's Cinder")
    return run(parser.parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
