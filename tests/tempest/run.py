"""Tempest's volume tests against one ``ebs-allinone serve --auth keystone``.

``tox -e tempest`` runs ``python -m tests.tempest.run``, which

1. starts ``ebs-allinone serve --auth keystone --no-guests`` (plus
   :data:`SERVE_OPTIONS` and any ``--serve-arg``) and waits until it
   prints that it is ready, with the clouds.yaml of its accounts;
2. asks the running services what there is (:mod:`tests.tempest.discover`)
   and writes ``etc/tempest.conf`` from it (:mod:`tests.tempest.conf`)
   in a fresh Tempest workspace;
3. runs ``tempest run`` on ``tempest.api.volume`` and
   ``cinder_tempest_plugin.api.volume`` (``--regex`` changes that);
4. stops the all-in-one (SIGINT, as a user would) and checks that it
   shut down cleanly;
5. prints the failures, the skips grouped by reason and the totals
   (:mod:`tests.tempest.results`), ending with ``N passed, N failed, N
   skipped``.

It exits 0 only if no test failed and the all-in-one shut down cleanly.
The workspace (tempest.conf, tempest.log, the stestr repository) is a
temporary directory, removed at the end, unless ``--workspace`` names one.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import yaml

from ebs_allinone.identity import auth as identity
from tests.tempest import conf
from tests.tempest import discover
from tests.tempest import results as results_mod

REGEX = r'^(tempest\.api\.volume|cinder_tempest_plugin\.api\.volume)\.'
# Options of ebs-allinone serve that add services Tempest tests when they
# are there: what is running is discovered, so adding an option here is
# enough. Glance (volumes from and to images); two zones, each with two
# backends (Tempest's multi-backend tests choose between two backends of
# the default zone); PL0 disks by default, which start at 1 GiB where a
# PL1 starts at 20 (every image upload copies the whole volume).
# cinder-backup runs in every all-in-one.
SERVE_OPTIONS = ('--image', '--zones', '2', '--backends-per-zone', '2',
                 '--performance-level', 'PL0')
SERVE = ('serve', '--auth', 'keystone', '--no-guests')
READY = r'^Press Ctrl-C to stop everything'
CLOUDS = r'OS_CLIENT_CONFIG_FILE=(\S+)'
START_TIMEOUT = 900
STOP_TIMEOUT = 300
# A run takes 11-12 minutes on 2 idle cores; stop a hung one well within
# a CI job.
RUN_TIMEOUT = 2400
CONCURRENCY = 2


class AllInOne(object):
    """``ebs-allinone serve`` as a child process, its output collected."""

    def __init__(self, args):
        self.argv = [sys.executable, '-m', 'ebs_allinone.cmd'] + list(args)
        self.lines = []
        self.proc = None
        self._reader = None

    def start(self):
        print('=== ebs-allinone %s' % ' '.join(self.argv[3:]), flush=True)
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            sys.stdout.write('ebs-allinone| ' + line)
            sys.stdout.flush()

    @property
    def output(self):
        return ''.join(self.lines)

    def wait_for(self, pattern, timeout=START_TIMEOUT):
        """The first match of ``pattern`` in the output.

        :raises RuntimeError: it exited, or the time is up.
        """
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = regex.search(self.output)
            if match:
                return match
            if self.proc.poll() is not None:
                raise RuntimeError('ebs-allinone exited with status %s '
                                   'before it was ready'
                                   % self.proc.returncode)
            time.sleep(0.5)
        raise RuntimeError('ebs-allinone was not ready within %d s'
                           % timeout)

    def stop(self):
        """SIGINT; wait. Returns None, or why the shutdown was not clean."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return 'ebs-allinone did not stop within %d s' % STOP_TIMEOUT
        self._reader.join(10)
        if self.proc.returncode != 0 or 'Clean shutdown' not in self.output:
            return 'ebs-allinone ended with status %s, not a clean ' \
                   'shutdown' % self.proc.returncode
        return None


def admin_cloud(clouds_file):
    """The operator's clouds.yaml entry."""
    with open(clouds_file) as f:
        clouds = yaml.safe_load(f)['clouds']
    return clouds[identity.CLOUDS[identity.OPERATOR]]


def describe(facts):
    """What was discovered, one line each."""
    return [
        'Identity: %s (region %s)' % (facts.auth_url, facts.region),
        'Catalog: %s' % ', '.join('%s (%s)' % item for item in sorted(
            facts.catalog.items())),
        'Volume API microversions %s to %s' % (facts.min_microversion,
                                               facts.max_microversion),
        'Volume services up: %s' % ', '.join(facts.services),
        'Backends: %s; zones: %s' % (', '.join(
            '%s (%s)' % (name, facts.backend_zones.get(name, '?'))
            for name in sorted(set(facts.backends))), ', '.join(facts.zones)),
        'Multi-backend tests between: %s' % ', '.join(
            conf.multi_backend_names(facts)),
        'Default type extra specs: %s; a type without ebs: specs makes '
        'a %s %s disk' % (facts.default_type_specs or '{}',
                          facts.default_category, facts.default_level),
        'Compute is Nova: %s; image for volumes: %s' % (
            facts.compute, facts.image_ref or 'none'),
    ]


def not_run(excluded):
    """Lines saying which tests are left out, and why."""
    lines = []
    for kind, regex, why in excluded:
        lines += ['Not run (%s): %s' % (kind, regex), '    %s' % why]
    return lines


def tempest_env(workspace):
    """The environment of Tempest's commands: its home is the workspace."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('OS_')}
    env['HOME'] = workspace
    return env


def _bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def run_tempest(workspace, regex, concurrency, excludes=()):
    """``tempest run`` in the workspace; its exit status."""
    argv = [_bin('tempest'), 'run', '--config-file',
            os.path.join(workspace, 'etc', 'tempest.conf'), '--regex', regex,
            '--concurrency', str(concurrency)]
    if excludes:
        argv += ['--exclude-regex', '|'.join(
            '(%s)' % regex for regex in excludes)]
    print('=== %s' % ' '.join(argv[1:]), flush=True)
    proc = subprocess.Popen(argv, cwd=workspace, env=tempest_env(workspace),
                            start_new_session=True)
    try:
        return proc.wait(RUN_TIMEOUT)
    except BaseException:
        # Time is up, or this run is interrupted: Tempest's workers go too.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        raise


def last_stream(workspace):
    """The subunit v2 stream of the last run."""
    return subprocess.run(
        [_bin('stestr'), 'last', '--subunit'], cwd=workspace,
        env=tempest_env(workspace), capture_output=True, check=True).stdout


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m tests.tempest.run')
    parser.add_argument('--regex', default=REGEX,
                        help='the tests to run (default %(default)s)')
    parser.add_argument('--concurrency', type=int, default=CONCURRENCY)
    parser.add_argument('--workspace', help='the Tempest workspace, kept '
                        '(default: a temporary directory, removed)')
    parser.add_argument('--no-upstream-excludes', action='store_true',
                        help='also run the tests that Tempest cannot set '
                             'up against these services')
    parser.add_argument('--serve-arg', action='append', default=[],
                        help='one more argument of ebs-allinone serve')
    return parser.parse_args(argv)


def _terminate(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv=None):
    args = parse_args(argv)
    if os.geteuid() != 0:
        print('Skipped: the all-in-one needs root (loop devices).')
        print('\n'.join(results_mod.report(results_mod.Results(
            skipped=[('tempest', 'the all-in-one needs root')]))))
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    workspace = args.workspace or tempfile.mkdtemp(prefix='tempest-ebs-')
    os.makedirs(os.path.join(workspace, 'etc'), exist_ok=True)
    aio = AllInOne(SERVE + tuple(SERVE_OPTIONS) + tuple(args.serve_arg))
    results = results_mod.Results()
    problems = []
    excluded = []
    try:
        aio.start()
        aio.wait_for(READY)
        ready = time.monotonic()
        facts = discover.discover(admin_cloud(aio.wait_for(CLOUDS).group(1)))
        print('\n'.join(describe(facts)), flush=True)
        with open(os.path.join(workspace, 'etc', 'tempest.conf'), 'w') as f:
            f.write(conf.render(facts))
        excluded = [(kind, regex, why) for kind, regex, why
                    in conf.excludes(facts)
                    if not (args.no_upstream_excludes and
                            kind == conf.UPSTREAM)]
        print('\n'.join(not_run(excluded)), flush=True)
        run_tempest(workspace, args.regex, args.concurrency,
                    [regex for _kind, regex, _why in excluded])
        results = results_mod.parse(last_stream(workspace))
        print('ebs-allinone ready in %.0f s, Tempest ran %.0f s' % (
            ready - started, time.monotonic() - ready), flush=True)
    except KeyboardInterrupt:
        problems.append('interrupted')
    except Exception:
        problems.append(traceback.format_exc())
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        unclean = aio.stop()
        if unclean:
            problems.append(unclean)
        if not args.workspace:
            shutil.rmtree(workspace, True)
    for problem in problems:
        results.failed.append(('run', problem))
    print('Wall time: %.0f s' % (time.monotonic() - started))
    print()
    print('\n'.join(not_run(excluded)))
    print('\n'.join(results_mod.report(results)))
    return 1 if results.failed else 0


if __name__ == '__main__':
    sys.exit(main())
