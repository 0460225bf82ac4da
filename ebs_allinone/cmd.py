"""``ebs-allinone``: the EBS emulator, Cinder and compute hosts on one machine.

::

    ebs-allinone demo [--state-dir DIR] [--hosts N] [--no-guests]
                      [--topology {single,cluster}] [--zones N]
                      [--backends-per-zone N] [--performance-level PL]
    ebs-allinone failover [--state-dir DIR] [--hosts N] [--no-guests]
    ebs-allinone serve [--state-dir DIR] [--hosts N] [--no-guests]
                       [--port PORT] [--topology {single,cluster}]
                       [--auth {noauth,keystone}] [--image] [--zones N]
                       [--backends-per-zone N] [--performance-level PL]

``demo`` runs the multi-attach workflow (ending with a short fenced
failover) and exits 0 only when every step held; ``failover`` runs a
fenced failover between two hosts' guests sharing one volume, measured;
``serve`` keeps the services up until Ctrl-C (or SIGTERM) and prints
how to point the ``cinder`` CLI at them (with guests: one idle guest per
host and the ``ebs-nova-shim`` commands to attach volumes into them).
``--topology cluster`` runs Cinder as separate services in one
active-active cluster (see :mod:`ebs_allinone.cluster`); ``--auth
keystone`` puts a private Keystone in front of Cinder (see
:mod:`ebs_allinone.identity.auth`) and prints how to point the ``openstack``
CLI at it too; with it, ``--image`` also runs a private Glance (see
:mod:`ebs_allinone.image.glance`), in the catalog as the image service,
which Cinder creates volumes from images and uploads volumes to.
The cluster topology also runs ``cinder-backup`` (one per
zone), backing volumes up to files in the run's directory.
``--zones N`` gives the emulator N zones and Cinder one EBS backend per
zone, each in an availability zone of its own (``ebs-a`` in ``zone-a``...),
with the compute hosts spread over the zones (see
:mod:`ebs_allinone.zones`); the default, one zone, is the one ``ebs``
backend in Cinder's default availability zone. ``--backends-per-zone 2``
adds a second backend in each zone (``ebs2``, ``ebs-a2``...);
``--performance-level`` sets the ESSD level of a volume type that names
none (PL0 disks start at 1 GiB, PL1 at 20).
Either way, at the end every process, loop device, guest and temporary
directory it started is gone, which is checked and reported; after a
failure the run's directory stays, with the log of every service, and
a service that exited is reported with the last lines of its log.
An option whose dependencies are not installed is refused at once with
what to install (see :mod:`ebs_allinone.scenarios.prerequisites`).
"""

import argparse
import signal
import sys
import time
import warnings

from oslo_config import cfg
from oslo_log import log as logging

from cinder_ebs_driver import options as driver_options
from ebs_allinone.scenarios import report
from ebs_allinone import zones

LOG = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
TOPOLOGIES = ('single', 'cluster')
AUTHS = ('noauth', 'keystone')
# Libraries whose warnings are about this machine, not the run (os-brick
# probing connectors that the simulated hosts do not use).
QUIET_LOGGERS = ('os_brick=ERROR', 'oslo.privsep.daemon=WARN',
                 'nova_shim=WARN')


class Interrupted(BaseException):
    """SIGINT or SIGTERM: stop everything and exit."""


def _parser(stack_mod):
    parser = argparse.ArgumentParser(
        prog='ebs-allinone',
        description='Run the EBS emulator, Cinder (API, scheduler, volume '
                    'with the EBS driver) and simulated compute hosts on '
                    'this machine.')
    parser.add_argument('--debug', action='store_true',
                        help='debug logging (Cinder logs to its log file '
                             'in the state directory)')
    sub = parser.add_subparsers(dest='command', required=True)
    demo = sub.add_parser('demo', help='run the multi-attach workflow and '
                          'exit 0 only if every step held')
    failover = sub.add_parser(
        'failover', help='fail over between two hosts sharing a volume, '
        'fenced by persistent reservations; exit 0 only if the old '
        'primary was fenced and the takeover was on time')
    serve = sub.add_parser('serve', help='keep the services up until '
                           'interrupted and print how to use them')
    for command in (demo, failover, serve):
        command.add_argument(
            '--state-dir', help='keep all state there, and keep it at the '
            'end (default: a temporary directory, removed at the end '
            'unless the run failed)')
        command.add_argument(
            '--hosts', type=int, default=None,
            help='simulated compute hosts, %d to %d (default %d per zone)'
            % (stack_mod.MIN_HOSTS, stack_mod.MAX_HOSTS,
               stack_mod.MIN_HOSTS))
        command.add_argument(
            '--credentials', choices=('access_key', 'sts'),
            default='access_key',
            help='access_key: the driver signs with the emulator\'s '
                 'AccessKey pair; sts: it assumes a RAM role through the '
                 'emulator\'s STS AssumeRole and signs with short-lived '
                 'tokens (30 s), renewed as they expire '
                 '(default %(default)s)')
        command.add_argument(
            '--no-guests', action='store_true',
            help='no libvirt guests: attach to the hosts\' device paths '
                 'only (the degraded mode)')
    serve.add_argument('--port', type=int, default=0,
                       help='port of the volume API on 127.0.0.1 '
                            '(default: a free one)')
    for command in (demo, serve):
        command.add_argument(
            '--topology', choices=TOPOLOGIES, default='single',
            help='single: Cinder\'s services in one process over '
                 'in-process messaging and SQLite; cluster: cinder-api, '
                 'cinder-scheduler and two cinder-volume in one '
                 'active-active cluster, each a process of its own, over '
                 'RabbitMQ, MariaDB and etcd (Debian packages, started '
                 'privately), and cinder-backup (default %(default)s)')
        command.add_argument(
            '--zones', type=int, default=1,
            help='emulator zones, 1 to %d, each an EBS backend in a Cinder '
                 'availability zone of its own (ebs-a in zone-a, ebs-b in '
                 'zone-b...), the compute hosts spread over them; 1: the '
                 'one backend ebs in Cinder\'s default zone (default '
                 '%%(default)s)' % zones.MAX_ZONES)
        command.add_argument(
            '--backends-per-zone', type=int, default=1,
            help='EBS backends in each zone, 1 to %d: a second one '
                 '(ebs2, ebs-a2...) in the same zone and availability zone, '
                 'for volume types and migrations between two backends '
                 '(default %%(default)s)' % zones.MAX_BACKENDS_PER_ZONE)
        command.add_argument(
            '--performance-level', choices=driver_options.PERFORMANCE_LEVELS,
            help='the ESSD performance level of a volume type that names '
                 'none (ebs_default_performance_level of every backend; '
                 'PL0 disks start at 1 GiB, PL1 at 20) (default: the '
                 'driver\'s, PL1)')
    serve.add_argument(
        '--auth', choices=AUTHS, default='noauth',
        help='noauth: Cinder\'s noauth middleware (the cinder CLI only); '
             'keystone: a private Keystone on 127.0.0.1 with an operator, '
             'an end user and the compute service, Cinder validating '
             'their tokens and service tokens with keystonemiddleware '
             '(the openstack and cinder CLIs; single topology only) '
             '(default %(default)s)')
    serve.add_argument(
        '--image', action='store_true',
        help='also run a private Glance (image API with a file store, '
             'in the catalog as the image service) and point Cinder at '
             'it: volumes from images, volumes uploaded to images '
             '(with --auth keystone only)')
    return parser


def _setup_logging(debug):
    conf = cfg.ConfigOpts()
    logging.register_options(conf)
    conf([], project='ebs-allinone', default_config_files=[])
    conf.set_override('debug', debug)
    conf.set_override('use_stderr', True)
    if not debug:
        conf.set_override('default_log_levels',
                          conf.default_log_levels + list(QUIET_LOGGERS))
    logging.setup(conf, 'ebs-allinone')


def _install_signal_handlers():
    def _interrupt(signum, frame):
        # Once: the shutdown that follows must not be interrupted.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def _report_exited(stack, out):
    """Each service that exited, with the last lines of its log.

    Not those that a step's failure reported already.
    """
    said = {reason for _t, _s, _e, reason in out.results}
    for error in stack.exited():
        if str(error) in said:
            continue
        first, _sep, more = str(error).partition('\n')
        out.say()
        out.say(first)
        if more:
            out.detail(more)


def _shutdown(stack, out, failed=False):
    """Stop everything; report and return the leftovers.

    :param failed: the run failed: keep its directory, for the logs.
    """
    out.say()
    out.say('Stopping: compute hosts, Cinder, the emulator...')
    left = stack.stop(keep_dir=failed)
    if left:
        out.say('NOT CLEAN: %s' % '; '.join(left))
        if stack.dir_kept:
            out.say('Run directory kept: %s' % stack.dir)
        return left
    if stack.given_dir:
        where = 'state kept in %s' % stack.dir
    elif stack.dir_kept:
        where = 'the run directory, with every service\'s log, is kept: %s' % (
            stack.dir)
    else:
        where = 'temporary directory removed'
    out.say('Clean shutdown: every process and loop device started is '
            'gone, %s.' % where)
    return left


def _run(args, out, stack_mod):
    from ebs_allinone.hosts import guest_support
    degraded = '--no-guests was given' if args.no_guests else (
        guest_support.unavailable_reason())
    factory = None if degraded else guest_support.host_factory()
    stack_class = stack_mod.AllInOne
    if getattr(args, 'topology', 'single') == 'cluster':
        from ebs_allinone import cluster
        stack_class = cluster.ClusterAllInOne
    zones_count = getattr(args, 'zones', 1)
    options = {}
    if getattr(args, 'image', False):
        options['image'] = True
    if getattr(args, 'backends_per_zone', 1) != 1:
        options['backends_per_zone'] = args.backends_per_zone
    if getattr(args, 'performance_level', None):
        options['performance_level'] = args.performance_level
    stack = stack_class(state_dir=args.state_dir,
                        num_hosts=args.hosts or (
                            stack_mod.MIN_HOSTS * zones_count),
                        host_factory=factory, debug=args.debug,
                        auth=getattr(args, 'auth', 'noauth'),
                        credentials=args.credentials,
                        zones=zones_count, **options)
    if args.command == 'demo':
        from ebs_allinone.scenarios import demo
        runner = demo.Demo(stack, out, degraded=degraded)
    elif args.command == 'failover':
        from ebs_allinone.scenarios import failover
        runner = failover.FailoverDemo(stack, out, degraded=degraded)
    else:
        from ebs_allinone.scenarios import serve
        runner = serve.Server(stack, out, degraded=degraded,
                              api_port=args.port)
    ok = False
    interrupted = None
    try:
        ok = runner.run()
    except Interrupted as exc:
        interrupted = str(exc)
    except Exception:
        LOG.exception('ebs-allinone %s failed', args.command)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if interrupted:
        out.say()
        out.say('Interrupted (%s).' % interrupted)
    failed = not ok and not interrupted
    if failed:
        _report_exited(stack, out)
    started = time.monotonic()
    left = _shutdown(stack, out, failed=failed)
    clean = not left
    if args.command in ('demo', 'failover'):
        out.results.append(('Clean shutdown', report.PASS if clean
                            else report.FAIL, time.monotonic() - started,
                            '; '.join(left)))
        ok = out.summary() and ok
        if failed and stack.dir_kept and not stack.given_dir:
            out.say('Logs of this run: %s' % stack.dir)
    if interrupted and args.command in ('demo', 'failover'):
        return EXIT_INTERRUPTED
    # An interrupt is how serve ends.
    return EXIT_OK if (ok or interrupted) and clean else EXIT_FAILED


def main(argv=None):
    # Deprecation notices of the libraries (eventlet, ...) are for their
    # developers, not for the user of this command.
    warnings.simplefilter('ignore', DeprecationWarning)
    warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
    from ebs_allinone import stack as stack_mod

    args = _parser(stack_mod).parse_args(argv)
    num_zones = getattr(args, 'zones', 1)
    try:
        zones.zones(num_zones)
    except ValueError as exc:
        print('ebs-allinone: --zones: %s' % exc, file=sys.stderr)
        return EXIT_USAGE
    try:
        zones.backends([], getattr(args, 'backends_per_zone', 1))
    except ValueError as exc:
        print('ebs-allinone: --backends-per-zone: %s' % exc,
              file=sys.stderr)
        return EXIT_USAGE
    if args.hosts is None:
        args.hosts = stack_mod.MIN_HOSTS * num_zones
    try:
        stack_mod.host_names(args.hosts)
        if args.hosts < num_zones:
            raise ValueError('at least one per zone (--zones %d)'
                             % num_zones)
        if args.command == 'demo' and args.hosts <= num_zones:
            raise ValueError('the demo shares a volume between %d hosts '
                             'of the first zone and needs a host in each '
                             'other zone' % stack_mod.MIN_HOSTS)
    except ValueError as exc:
        print('ebs-allinone: --hosts: %s' % exc, file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, 'auth', 'noauth') != 'noauth' and (
            args.topology != 'single'):
        print('ebs-allinone: --auth %s: with --topology single only'
              % args.auth, file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, 'image', False) and args.auth != 'keystone':
        print('ebs-allinone: --image: with --auth keystone only',
              file=sys.stderr)
        return EXIT_USAGE
    from ebs_allinone.scenarios import prerequisites
    missing = prerequisites.missing(getattr(args, 'topology', 'single'),
                                    getattr(args, 'auth', 'noauth'),
                                    getattr(args, 'image', False))
    if missing:
        print('ebs-allinone: %s' % missing, file=sys.stderr)
        return EXIT_FAILED
    _setup_logging(args.debug)
    _install_signal_handlers()
    return _run(args, report.Reporter(), stack_mod)


if __name__ == '__main__':
    sys.exit(main())
