#!/usr/bin/env python3
"""The control path through real Cinder services, against the fake driver.

Runs Cinder's API, scheduler and volume services in process (the
functional tests' harness) with two backends side by side: this driver on
the emulator, and Cinder's own fake driver reporting multi-attach as the
reference.  Both run with their default options (the driver's poll
interval, timeouts, stats interval).  Two measurements:

``workflow``
    create -> one attachment per host (create + complete, through Cinder's
    attachments API) -> their deletion -> delete, on each backend in
    turn, ``--rounds`` times, once per emulator latency (``--latencies``;
    0.2 s is the emulator's default transition time).  Prints each phase
    as median (min-max) per backend, the ratio of the whole workflow's
    medians, and this driver's ECS calls per operation by action, counted
    in the emulator's access log (DescribeDisks are the polls).

``startup``
    ``--volumes`` volume rows of each backend in Cinder's database and,
    for this driver, as many disks tagged as Cinder's in the emulator
    (written straight into both databases); then a volume service of
    each backend is started, in turn, ``--rounds`` times.  Prints the
    time from its start until it is up (driver set up, the volumes
    counted, the first stats published, RPC ready), the ratio, and the
    ECS calls made meanwhile.

Figures only; nothing is asserted.  Run from the top of the tree in the
test environment::

    PYTHONPATH=. .tox/py3/bin/python tools/bench_control_path.py \\
        [workflow|startup|all] [--hosts 16] [--rounds 5] \\
        [--latencies 0 0.2] [--volumes 10000]
"""

# Cinder's functional package monkey-patches with eventlet: import it first.
from tests.functional import cinder_harness  # isort:skip

import argparse
import datetime
import math
import os
import statistics
import sys
import time
import unittest
import uuid

from cinder import context
from cinder.db import api as db_api
from cinder.db import models as db_models
from cinder.volume import configuration
from cinder.volume import manager as volume_manager
from cinder.volume import volume_types

from cinder_ebs_driver import naming
from ebs_allinone.cinder import colocated

EBS, FAKE = 'ebs', 'fake'
ENGINES = (FAKE, EBS)
FAKE_DRIVER = 'tests.functional.guard_fake_driver.MultiattachFakeDriver'
# The fake driver names its backend and its pool "fake".
FAKE_POOL = 'fake'
# Options the harness tunes for fast tests; the benchmark runs the
# driver's defaults instead.
TUNED_OPTIONS = ('ebs_api_timeout', 'ebs_api_retries',
                 'ebs_api_retry_interval', 'ebs_state_timeout',
                 'ebs_state_poll_interval', 'ebs_default_performance_level')
PHASES = ('create', 'attach', 'detach', 'delete')
DESCRIBE_PAGE = 100
# The smallest ESSD PL1 disk (the driver's default performance level).
VOLUME_GB = 20
# The control path's goals for the whole workflow, by emulator latency:
# at most this many times the fake driver's time.
GOALS = {0.0: 1.25, 0.2: 1.5}
# ... and for a volume service's start-up with many volumes.
STARTUP_GOAL = 10.0
# Seconds between the services' looks for an RPC message: RabbitMQ
# delivers as messages come, not on the in-process transport's 50 ms grid
# (see cinder_harness.rpc_poll_time).
RPC_POLL = 0.005


def _fmt(samples):
    return '%.2f (%.2f-%.2f)' % (statistics.median(samples), min(samples),
                                 max(samples))


def _diff(after, before):
    return {action: after[action] - before[action] for action in after
            if after[action] > before[action]}


class _Stack(cinder_harness.EBSFunctionalTestBase):
    """Cinder with a volume service per backend: ``bench@ebs``, ``@fake``.

    The periodic tasks (stats refreshes among them) are left out, so that
    the calls counted during a phase are that phase's only.
    """

    EMULATOR_KWARGS = {'num_instances': 17}
    WORK = None

    def backend_flags(self):
        flags = super().backend_flags()
        for name in TUNED_OPTIONS:
            flags.pop(name)
        return flags

    def _get_flags(self):
        # The fake backend's section (its options must exist before they
        # are set); the EBS one reads backend_defaults.
        configuration.Configuration(volume_manager.volume_backend_opts,
                                    config_group=FAKE)
        flags = super()._get_flags()
        flags['periodic_interval'] = {'v': 3600}
        return flags

    def start_service(self, name, host=None, **kwargs):
        if name != 'volume' or 'service_name' in kwargs:
            return super().start_service(name, host=host, **kwargs)
        self._override_group()
        services = [super(_Stack, self).start_service(
            'volume', host='bench@%s' % engine, service_name=engine)
            for engine in (EBS, FAKE)]
        return services[0]

    def _override_group(self):
        self.override_config('volume_driver', FAKE_DRIVER, FAKE)

    def types(self):
        return {engine: self.create_type(
            name='bench-%s' % engine, multiattach=True,
            extra_specs={'volume_backend_name': engine})['id']
            for engine in ENGINES}

    def test_bench(self):
        self.WORK(self)


class _StartupStack(_Stack):
    """The stack of the start-up figures: its disks are seeded rows."""

    def _check_backend_clean(self):
        # The seeded disks go with the emulator's state directory.
        pass


def _run(stack_class, work, rpc_poll, **emulator):
    """Set the stack up, run ``work(stack)``, tear it down."""
    attributes = {'WORK': staticmethod(work), 'RPC_POLL': rpc_poll}
    if emulator:
        attributes['EMULATOR_KWARGS'] = dict(_Stack.EMULATOR_KWARGS,
                                             **emulator)
    case = type('Bench', (stack_class,), attributes)('test_bench')
    result = unittest.TestResult()
    case.run(result)
    for _test, error in result.errors + result.failures:
        print(error, file=sys.stderr)
    return result.wasSuccessful()


# -- workflow -------------------------------------------------------------

def _workflow(stack, type_id, hosts, phases, calls):
    emu = stack.emulator

    def phase(name, operation):
        before = emu.call_counts()
        start = time.perf_counter()
        result = operation()
        phases.setdefault(name, []).append(time.perf_counter() - start)
        # The access line is written after the answer: let it land.
        time.sleep(0.05)
        for action, count in _diff(emu.call_counts(), before).items():
            calls.setdefault(name, {}).setdefault(action, []).append(count)
        return result

    start = time.perf_counter()
    volume = phase('create', lambda: stack.create_volume(
        size=VOLUME_GB, volume_type=type_id))
    attachments = phase('attach', lambda: [
        stack.create_attachment(volume['id'], stack.connector(
            n, initiator='iqn.2004-10.org.example:host-%d' % n))
        for n in range(hosts)])
    phase('detach', lambda: [stack.delete_attachment(a['id'])
                             for a in attachments])
    phase('delete', lambda: stack.delete_volume(volume['id']))
    phases.setdefault('workflow', []).append(time.perf_counter() - start)


def _print_workflow(latency, hosts, rounds, phases, calls, rpc_poll):
    print('create -> %d attachments -> %d detaches -> delete, emulator '
          'latency %.2f s, RPC looks every %g s, default options, seconds, '
          'median (min-max) of %d:' % (hosts, hosts, latency, rpc_poll,
                                       rounds))
    print('  %-9s %-22s %-22s %s' % ('phase', 'fake driver', 'EBS driver',
                                     'ratio'))
    for name in PHASES + ('workflow',):
        fake, ebs = phases[FAKE][name], phases[EBS][name]
        print('  %-9s %-22s %-22s %.2fx' % (
            name, _fmt(fake), _fmt(ebs),
            statistics.median(ebs) / statistics.median(fake)))
    for name in ('attach', 'detach'):
        extra = (statistics.median(phases[EBS][name])
                 - statistics.median(phases[FAKE][name]))
        print('  EBS driver beyond the fake driver per %s: %.0f ms'
              % (name, extra / hosts * 1000))
    print('  ECS calls per operation (EBS driver, median of the rounds):')
    for name in PHASES:
        per_op = hosts if name in ('attach', 'detach') else 1
        counts = calls[EBS].get(name, {})
        print('    %-7s %s' % (name, ', '.join(
            '%s %.2g' % (action, statistics.median(values) / per_op)
            for action, values in sorted(counts.items())) or 'no call'))
    fake = statistics.median(phases[FAKE]['workflow'])
    ebs = statistics.median(phases[EBS]['workflow'])
    # The emulator's own time: a create, each attach and each detach stay
    # in a transient status for the latency (a delete is at once), and
    # Cinder runs one volume's attachment creates one after another (a
    # volume "attaching" accepts no other).
    transitions = 1 + 2 * hosts
    backend = transitions * latency
    goal = GOALS.get(latency)
    verdict = ''
    if goal is not None:
        verdict = ' (goal at most %.2fx: %s)' % (
            goal, 'met' if ebs / fake <= goal else 'NOT met')
    print('  workflow ratio %.2fx%s' % (ebs / fake, verdict))
    if latency:
        print('  of it the emulator\'s own transitions: %d x %.2f s = %.2f '
              's, alone %.2fx the fake driver\'s workflow; the rest, %.2f s, '
              'is %.2fx it' % (transitions, latency, backend, backend / fake,
                               ebs - backend, (ebs - backend) / fake))
    stray = {name: counts for name, counts in calls[FAKE].items()}
    if stray:
        print('  ECS calls during the fake driver\'s phases: %s' % stray)


def workflow(args):
    for latency in args.latencies:
        phases = {engine: {} for engine in ENGINES}
        calls = {engine: {} for engine in ENGINES}

        def work(stack):
            types = stack.types()
            for _round in range(args.rounds):
                for engine in ENGINES:
                    _workflow(stack, types[engine], args.hosts,
                              phases[engine], calls[engine])

        if not _run(_Stack, work, args.rpc_poll, transition_delay=latency):
            return 1
        _print_workflow(latency, args.hosts, args.rounds, phases, calls,
                        args.rpc_poll)
    return 0


# -- start-up -------------------------------------------------------------

def _add_volume_rows(host, count, provider_ids=None):
    """``count`` available volumes of ``host`` in Cinder's database."""
    ctxt = context.get_admin_context()
    type_id = volume_types.get_default_volume_type(ctxt)['id']
    now = datetime.datetime.utcnow()
    ids = []
    rows = []
    for n in range(count):
        volume_id = str(uuid.uuid4())
        ids.append(volume_id)
        rows.append(dict(
            id=volume_id, host=host, size=20, status='available',
            attach_status='detached', volume_type_id=type_id,
            project_id='bench', user_id='bench', availability_zone='nova',
            display_name='startup-%d' % n, use_quota=True, deleted=False,
            created_at=now,
            provider_id=provider_ids[n] if provider_ids else None))
    with db_api.main_context_manager.writer.using(ctxt) as session:
        session.execute(db_models.Volume.__table__.insert(), rows)
    return ids


def _delete_volume_rows(volume_ids):
    ctxt = context.get_admin_context()
    table = db_models.Volume.__table__
    with db_api.main_context_manager.writer.using(ctxt) as session:
        session.execute(table.delete().where(table.c.id.in_(volume_ids)))


def _start_volume_service(engine):
    service = colocated.Service.create(
        host='startup@%s' % engine, binary='cinder-volume',
        service_name=engine)
    start = time.perf_counter()
    service.start()
    elapsed = time.perf_counter() - start
    service.stop()
    service.wait()
    return elapsed


def startup(args):
    times = {engine: [] for engine in ENGINES}
    calls = []

    def work(stack):
        emu = stack.emulator
        pool = emu.zone_id
        fake_ids = _add_volume_rows('startup@%s#%s' % (FAKE, FAKE_POOL),
                                    args.volumes)
        disk_ids = ['d-start%09d' % n for n in range(args.volumes)]
        volume_ids = _add_volume_rows('startup@%s#%s' % (EBS, pool),
                                      args.volumes, provider_ids=disk_ids)
        emu.seed_disks(args.volumes, prefix='d-start', tags=lambda n: {
            naming.VOLUME_TAG: volume_ids[n]})
        for _round in range(args.rounds):
            for engine in ENGINES:
                before = emu.call_counts()
                times[engine].append(_start_volume_service(engine))
                time.sleep(0.05)
                if engine == EBS:
                    calls.append(_diff(emu.call_counts(), before))
        _delete_volume_rows(fake_ids + volume_ids)

    if not _run(_StartupStack, work, args.rpc_poll, transition_delay=0):
        return 1
    pages = math.ceil(args.volumes / float(DESCRIBE_PAGE))
    print('cinder-volume start-up with %d volumes (and, for the EBS driver, '
          'as many Cinder disks in the emulator), seconds, median (min-max) '
          'of %d:' % (args.volumes, args.rounds))
    fake, ebs = times[FAKE], times[EBS]
    ratio = statistics.median(ebs) / statistics.median(fake)
    describes = [c.get('DescribeDisks', 0) for c in calls]
    listings = max(describes) / float(pages)
    print('  fake driver %s   EBS driver %s   ratio %.2fx (goal at most '
          '%.0fx: %s)' % (_fmt(fake), _fmt(ebs), ratio, STARTUP_GOAL,
                          'met' if ratio <= STARTUP_GOAL else 'NOT met'))
    print('  stats listings per start-up at most %.2f (goal at most one: '
          '%s)' % (listings, 'met' if listings <= 1 else 'NOT met'))
    print('  EBS driver ECS calls per start-up: %s; stats listings (%d '
          'DescribeDisks pages each): %s' % (
              ', '.join('%s %s' % (action, sorted(c.get(action, 0)
                                                  for c in calls))
                        for action in sorted(set().union(*calls))),
              pages, sorted(round(d / float(pages), 2) for d in describes)))
    return 0


def main(argv):
    # Cinder's test base keeps the services' output and logs to itself.
    for name in ('OS_STDOUT_CAPTURE', 'OS_STDERR_CAPTURE', 'OS_LOG_CAPTURE'):
        os.environ.setdefault(name, '1')
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('what', nargs='?', default='all',
                        choices=('workflow', 'startup', 'all'))
    parser.add_argument('--hosts', type=int, default=16)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--latencies', type=float, nargs='+',
                        default=[0.0, 0.2])
    parser.add_argument('--volumes', type=int, default=10000)
    parser.add_argument(
        '--rpc-poll', type=float,
        default=RPC_POLL,
        help='seconds between looks for an RPC message (0.05: as the '
             'in-process transport is; see cinder_harness.rpc_poll_time)')
    args = parser.parse_args(argv[1:])
    status = 0
    if args.what in ('workflow', 'all'):
        status |= workflow(args)
    if args.what in ('startup', 'all'):
        status |= startup(args)
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv))
