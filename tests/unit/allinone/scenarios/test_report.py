"""What the all-in-one prints: steps, progress lines, the summary, and the
exit status a failed step leads to."""

import io
import os
import re
import shutil
import signal
import sys
import time

import fixtures
import testtools

from ebs_allinone import cluster
from ebs_allinone import cmd
from ebs_allinone.daemons import process
from ebs_allinone.scenarios import demo
from ebs_allinone.scenarios import report
from ebs_allinone import stack as real_stack
from ebs_allinone import zones as zones_mod


class ReporterTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.buf = io.StringIO()
        self.out = report.Reporter(out=self.buf)

    def lines(self):
        return self.buf.getvalue().splitlines()

    def test_passing_step(self):
        with self.out.step('Create a volume'):
            time.sleep(0.02)
        self.assertEqual('[ 1] Create a volume', self.lines()[0])
        match = re.match(r'^     ok \((\d+\.\d\d) s\)$', self.lines()[1])
        self.assertIsNotNone(match, self.lines())
        self.assertGreaterEqual(float(match.group(1)), 0.02)
        [(title, status, elapsed, reason)] = self.out.results
        self.assertEqual(('Create a volume', report.PASS, ''),
                         (title, status, reason))
        self.assertGreaterEqual(elapsed, 0.02)
        self.assertTrue(self.out.passed())

    def test_failing_step_records_and_reraises(self):
        def fail():
            with self.out.step('Attach'):
                raise report.StepFailed('expected 2 attachments, got 1')

        self.assertRaises(report.StepFailed, fail)
        [(title, status, _elapsed, reason)] = self.out.results
        self.assertEqual(('Attach', report.FAIL,
                          'expected 2 attachments, got 1'),
                         (title, status, reason))
        self.assertRegex(self.lines()[1],
                         r'^     FAIL after \d+\.\d\d s: expected 2 '
                         r'attachments, got 1$')
        self.assertFalse(self.out.passed())

    def test_failing_child_step_indents_the_end_of_its_log(self):
        def fail():
            with self.out.step('Start Cinder'):
                raise process.ProcessError(
                    'cinder-manage db sync exited with status 1; the last '
                    'lines of its log /run/db-sync.log:\nTraceback\n'
                    "ModuleNotFoundError: No module named 'pymysql'")

        self.assertRaises(process.ProcessError, fail)
        self.assertEqual(['      Traceback',
                          "      ModuleNotFoundError: No module named "
                          "'pymysql'"], self.lines()[2:])
        self.assertRegex(self.lines()[1], r'^     FAIL after \d+\.\d\d s: '
                         r'cinder-manage db sync exited with status 1; the '
                         r'last lines of its log /run/db-sync.log:$')
        self.out.summary()
        # The summary has the first line only.
        self.assertEqual(1, self.buf.getvalue().count('Traceback'))

    def test_failure_without_message_names_the_exception(self):
        def fail():
            with self.out.step('Wait'):
                raise KeyboardInterrupt()

        self.assertRaises(KeyboardInterrupt, fail)
        self.assertEqual('KeyboardInterrupt', self.out.results[0][3])
        self.assertIn(': KeyboardInterrupt', self.lines()[1])

    def test_steps_are_numbered(self):
        for title in ('one', 'two', 'three'):
            with self.out.step(title):
                pass
        self.assertEqual(['[ 1] one', '[ 2] two', '[ 3] three'],
                         [line for line in self.lines()
                          if line.startswith('[')])

    def test_detail_indents_every_line(self):
        self.out.detail('<disk>\n  <shareable/>\n</disk>')
        self.out.detail('')
        self.assertEqual(['      <disk>', '        <shareable/>',
                          '      </disk>', '      '], self.lines())

    def test_progress_lines(self):
        out = report.Reporter(out=self.buf, progress_every=0)
        callback = out.progress_for('waiting for Cinder')
        callback(1.25)
        callback(3)
        self.assertEqual(['      ... waiting for Cinder (1.2 s)',
                          '      ... waiting for Cinder (3.0 s)'],
                         self.lines())

    def test_progress_is_rate_limited_within_a_step(self):
        out = report.Reporter(out=self.buf, progress_every=3600)
        with out.step('Boot the guests'):
            for waited in range(50):
                out.progress('booting host-a', waited)
        self.assertNotIn('...', self.buf.getvalue())

    def test_progress_after_the_interval(self):
        out = report.Reporter(out=self.buf, progress_every=0.5)
        with out.step('Boot'):
            out.progress('booting', 0.0)   # too early: the step just began
            time.sleep(0.6)
            out.progress('booting', 0.6)   # printed
            out.progress('booting', 0.6)   # too early again
        progress = [line for line in self.lines() if '...' in line]
        self.assertEqual(['      ... booting (0.6 s)'], progress)

    def test_summary_all_passed(self):
        for title in ('one', 'two'):
            with self.out.step(title):
                pass
        self.assertTrue(self.out.summary())
        lines = self.lines()
        start = lines.index('Summary')
        self.assertEqual('-------', lines[start + 1])
        self.assertRegex(lines[start + 2], r'^PASS      1\. one +\d+\.\d\d s$')
        self.assertRegex(lines[start + 3], r'^PASS      2\. two +\d+\.\d\d s$')
        self.assertRegex(lines[-1], r'^PASS: 2 of 2 steps passed in '
                                    r'\d+\.\d s$')

    def test_summary_with_a_failure_and_steps_not_run(self):
        with self.out.step('one'):
            pass
        try:
            with self.out.step('two'):
                raise report.StepFailed('first line\nsecond line')
        except report.StepFailed:
            self.out.not_run(['three', 'four'])
        self.assertFalse(self.out.summary())
        lines = self.lines()
        table = lines[lines.index('-------') + 1:]
        self.assertRegex(table[0], r'^PASS      1\. one ')
        self.assertRegex(table[1], r'^FAIL      2\. two ')
        # Only the first line of the reason, indented under the step.
        self.assertEqual('            first line', table[2])
        self.assertRegex(table[3], r'^NOT RUN   3\. three +0\.00 s$')
        self.assertRegex(table[4], r'^NOT RUN   4\. four +0\.00 s$')
        self.assertRegex(table[5], r'^FAIL: 1 of 4 steps passed in ')
        self.assertEqual(6, len(table))
        self.assertNotIn('second line', '\n'.join(table))

    def test_not_run_alone_is_not_a_pass(self):
        self.out.not_run(['one'])
        self.assertFalse(self.out.passed())

    def test_no_steps_is_not_a_pass(self):
        self.assertFalse(self.out.passed())
        self.assertFalse(self.out.summary())
        self.assertRegex(self.lines()[-1], r'^FAIL: 0 of 0 steps passed')

    def test_long_titles_are_not_cut(self):
        title = 'x' * 80
        with self.out.step(title):
            pass
        self.out.summary()
        self.assertIn(title, [line.split()[2] for line in self.lines()
                              if line.startswith('PASS ')])


class _Stack(object):
    """A stack whose emulator does not start; records what was done."""

    MIN_HOSTS = real_stack.MIN_HOSTS
    MAX_HOSTS = real_stack.MAX_HOSTS
    host_names = staticmethod(real_stack.host_names)
    instances = []

    def __init__(self, state_dir=None, num_hosts=2, host_factory=None,
                 debug=False, auth='noauth', credentials='access_key',
                 zones=1):
        self.given_dir = state_dir
        self.auth = auth
        self.names = real_stack.host_names(num_hosts)
        self.zones = zones_mod.zones(zones)
        self.host_factory = host_factory
        self.dir = state_dir
        self.hosts = []
        self.stopped = False
        self.kept = False
        self.leftovers = []
        self.exited_errors = []
        _Stack.instances.append(self)

    @property
    def dir_kept(self):
        return bool(self.given_dir or self.kept)

    def zone_hosts(self, zone=None):
        return list(self.names)

    def make_dir(self):
        os.makedirs(self.dir, exist_ok=True)
        return self.dir

    def start_emulator(self, progress=None):
        progress(0.5)
        raise RuntimeError('ebs-emulator exited with status 2')

    def exited(self):
        return list(self.exited_errors)

    def stop(self, keep_dir=False):
        self.stopped = True
        self.kept = keep_dir
        return list(self.leftovers)


class _StackModule(object):
    MIN_HOSTS = real_stack.MIN_HOSTS
    MAX_HOSTS = real_stack.MAX_HOSTS
    AllInOne = _Stack
    host_names = staticmethod(real_stack.host_names)


class ExitStatusTest(testtools.TestCase):
    """``ebs-allinone demo`` exits 1 when a step fails, 0 only if all held."""

    def setUp(self):
        super().setUp()
        # cmd._run ignores SIGINT/SIGTERM for its shutdown: restore them.
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.buf = io.StringIO()
        self.out = report.Reporter(out=self.buf, progress_every=0)
        _Stack.instances = []

    def _run(self, extra=()):
        args = cmd._parser(_StackModule).parse_args(
            ['demo', '--no-guests', '--state-dir', self.tmp] + list(extra))
        return cmd._run(args, self.out, _StackModule)

    def test_failed_first_step(self):
        rc = self._run()
        self.assertEqual(cmd.EXIT_FAILED, rc)
        [stack] = _Stack.instances
        self.assertTrue(stack.stopped)
        text = self.buf.getvalue()
        self.assertIn('DEGRADED MODE: no guests (--no-guests was given)',
                      text)
        self.assertIn('... waiting for the emulator (0.5 s)', text)
        self.assertIn('FAIL after', text)
        statuses = [status for _t, status, _e, _r in self.out.results]
        steps = demo.Demo(stack, report.Reporter(out=io.StringIO()),
                          degraded='--no-guests was given').steps()
        # Every step, then the shutdown check.
        self.assertEqual(len(steps) + 1, len(statuses))
        self.assertEqual(report.FAIL, statuses[0])
        self.assertEqual([report.NOT_RUN] * (len(steps) - 1),
                         statuses[1:-1])
        self.assertEqual(('Clean shutdown', report.PASS),
                         self.out.results[-1][:2])
        self.assertRegex(text.splitlines()[-1],
                         r'^FAIL: 1 of %d steps passed' % (len(steps) + 1))

    def test_leftovers_fail_the_shutdown_step(self):
        original = _Stack.stop

        def stop(stack, keep_dir=False):
            stack.leftovers = ['process cinder (pid 4242) is still running']
            return original(stack, keep_dir)

        self.useFixture(fixtures.MonkeyPatch(
            'tests.unit.allinone.scenarios.test_report._Stack.stop', stop))
        rc = self._run()
        self.assertEqual(cmd.EXIT_FAILED, rc)
        self.assertEqual(
            ('Clean shutdown', report.FAIL,
             'process cinder (pid 4242) is still running'),
            (self.out.results[-1][0], self.out.results[-1][1],
             self.out.results[-1][3]))
        self.assertIn('NOT CLEAN: process cinder (pid 4242) is still '
                      'running', self.buf.getvalue())

    def test_services_that_exited_are_reported(self):
        original = _Stack.__init__

        def init(stack, *args, **kwargs):
            original(stack, *args, **kwargs)
            stack.exited_errors = [process.ProcessError(
                'cinder-volume-1 (pid 4242) exited with status 1; the last '
                'lines of its log /run/cinder-volume-1.log:\n'
                'ERROR cinder.volume.manager lost the database')]

        self.useFixture(fixtures.MonkeyPatch(
            'tests.unit.allinone.scenarios.test_report._Stack.__init__', init))
        self.assertEqual(cmd.EXIT_FAILED, self._run())
        lines = self.buf.getvalue().splitlines()
        first = lines.index('cinder-volume-1 (pid 4242) exited with status '
                            '1; the last lines of its log '
                            '/run/cinder-volume-1.log:')
        self.assertEqual('      ERROR cinder.volume.manager lost the '
                         'database', lines[first + 1])
        # Reported before the shutdown.
        self.assertLess(first, lines.index(
            'Stopping: compute hosts, Cinder, the emulator...'))


class _EmulatorFails(real_stack.AllInOne):
    """The real stack; its emulator is a child that fails to start."""

    def start_emulator(self, progress=None):
        self.emulator = process.ChildProcess(
            'ebs-emulator', [sys.executable, '-c',
                             'print("cannot open the state directory"); '
                             'raise SystemExit(2)'],
            self.path('emulator.log'), 'listening')
        self._stack.callback(self.emulator.stop)
        self.emulator.start(progress)


class _FailingStackModule(_StackModule):
    AllInOne = _EmulatorFails


class RunDirectoryTest(testtools.TestCase):
    """A failed run keeps its temporary directory, with the logs."""

    def setUp(self):
        super().setUp()
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))
        self.buf = io.StringIO()
        self.out = report.Reporter(out=self.buf, progress_every=0)

    def test_failed_run_keeps_its_directory_and_says_where(self):
        args = cmd._parser(_FailingStackModule).parse_args(
            ['demo', '--no-guests'])
        rc = cmd._run(args, self.out, _FailingStackModule)
        text = self.buf.getvalue()
        run_dir = re.search(r'is kept: (\S+)\.$', text, re.M).group(1)
        self.addCleanup(shutil.rmtree, run_dir, True)
        self.assertEqual(cmd.EXIT_FAILED, rc)
        log = os.path.join(run_dir, 'emulator.log')
        self.assertIn('FAIL after', text)
        self.assertIn('ebs-emulator exited while starting (status 2); the '
                      'last lines of its log %s:\n'
                      '      cannot open the state directory\n' % log, text)
        self.assertTrue(os.path.isfile(log))
        self.assertEqual('Logs of this run: %s' % run_dir,
                         text.splitlines()[-1])
        # Every process is gone all the same.
        self.assertEqual(('Clean shutdown', report.PASS),
                         self.out.results[-1][:2])

    def test_each_topology_keeps_its_directory_on_request(self):
        for stack_class in (real_stack.AllInOne, cluster.ClusterAllInOne):
            kept = stack_class()
            kept.make_dir()
            self.addCleanup(shutil.rmtree, kept.dir, True)
            self.assertEqual([], kept.stop(keep_dir=True))
            self.assertTrue(os.path.isdir(kept.dir), stack_class)
            self.assertTrue(kept.dir_kept)
            removed = stack_class()
            removed.make_dir()
            self.addCleanup(shutil.rmtree, removed.dir, True)
            self.assertEqual([], removed.stop())
            self.assertFalse(os.path.exists(removed.dir), stack_class)
            self.assertFalse(removed.dir_kept)


class DemoRunTest(testtools.TestCase):
    """Demo.run stops at the first failing step."""

    def _demo(self, funcs):
        out = report.Reporter(out=io.StringIO())
        stack = _Stack(num_hosts=2)

        class _Demo(demo.Demo):
            def steps(self):
                return funcs

        return _Demo(stack, out), out

    def test_all_steps_hold(self):
        ran = []
        runner, out = self._demo([('a', lambda: ran.append('a')),
                                  ('b', lambda: ran.append('b'))])
        self.assertTrue(runner.run())
        self.assertEqual(['a', 'b'], ran)
        self.assertTrue(out.summary())

    def test_stops_at_the_first_failure(self):
        ran = []

        def fail():
            demo.check(False, 'extra specs are %s', {'multiattach': 'x'})

        runner, out = self._demo([('a', lambda: ran.append('a')),
                                  ('b', fail),
                                  ('c', lambda: ran.append('c'))])
        self.assertFalse(runner.run())
        self.assertEqual(['a'], ran)
        self.assertEqual(
            [('a', report.PASS, ''),
             ('b', report.FAIL, "extra specs are {'multiattach': 'x'}"),
             ('c', report.NOT_RUN, '')],
            [(t, s, r) for t, s, _e, r in out.results])
        self.assertFalse(out.summary())

    def test_interrupt_propagates_after_recording(self):
        def interrupt():
            raise cmd.Interrupted('SIGINT')

        runner, out = self._demo([('a', interrupt), ('b', lambda: None)])
        self.assertRaises(cmd.Interrupted, runner.run)
        self.assertEqual([('a', report.FAIL, 'SIGINT'),
                          ('b', report.NOT_RUN, '')],
                         [(t, s, r) for t, s, _e, r in out.results])
