"""A child of the all-in-one that fails is reported with the end of its log.

Real child processes (``python -c``, ``cinder-manage``) through the
helpers the all-in-one starts its children with.
"""

import os
import signal
import sys
import time

import fixtures
import testtools

from ebs_allinone.cinder import client
from ebs_allinone.daemons import process
from ebs_allinone import stack as stack_mod

# Writes numbered lines, then dies of an import error, as cinder-manage
# did without PyMySQL.
FAILING = '''
import sys
for n in range(1, 26):
    print('line %d' % n)
sys.stdout.flush()
import no_such_module_for_the_test
'''
CAUSE = "ModuleNotFoundError: No module named 'no_such_module_for_the_test'"


def _python(code):
    return [sys.executable, '-c', code]


class RunTest(testtools.TestCase):
    """:func:`process.run`: a command run to its end."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.log = os.path.join(self.dir, 'child.log')

    def test_failure_gives_the_last_lines_of_the_log(self):
        error = self.assertRaises(process.ProcessError, process.run,
                                  'the child', _python(FAILING), self.log)
        lines = str(error).splitlines()
        self.assertEqual('the child exited with status 1; the last lines '
                         'of its log %s:' % self.log, lines[0])
        tail = lines[1:]
        self.assertEqual(process.LOG_LINES, len(tail))
        self.assertEqual(CAUSE, tail[-1])
        self.assertEqual('Traceback (most recent call last):', tail[-3])
        # The 20 last lines: line 9 to line 25, then the traceback.
        self.assertEqual(['line %d' % n for n in range(9, 26)], tail[:-3])
        # The whole output is in the log.
        with open(self.log) as f:
            self.assertIn('line 1\n', f.read())

    def test_only_this_run_of_the_log(self):
        with open(self.log, 'w') as f:
            f.write('from an earlier run\n')
        error = self.assertRaises(
            process.ProcessError, process.run, 'the child',
            _python('print("this run"); raise SystemExit(3)'), self.log)
        self.assertEqual(['the child exited with status 3; the last lines '
                          'of its log %s:' % self.log, 'this run'],
                         str(error).splitlines())

    def test_silent_failure(self):
        error = self.assertRaises(process.ProcessError, process.run,
                                  'the child', ['false'], self.log)
        self.assertEqual('the child exited with status 1; nothing in its '
                         'log %s' % self.log, str(error))

    def test_success(self):
        process.run('the child', _python('print("done")'), self.log)
        with open(self.log) as f:
            self.assertEqual('done\n', f.read())

    def test_too_long(self):
        started = time.monotonic()
        error = self.assertRaises(
            process.ProcessError, process.run, 'the child',
            _python('import time; print("waiting", flush=True); '
                    'time.sleep(60)'), self.log, timeout=1)
        self.assertLess(time.monotonic() - started, 30)
        self.assertEqual(['the child did not finish within 1s; the last '
                          'lines of its log %s:' % self.log, 'waiting'],
                         str(error).splitlines())

    def test_not_installed(self):
        error = self.assertRaises(
            process.ProcessError, process.run, 'the child',
            [os.path.join(self.dir, 'no-such-command')], self.log)
        self.assertIn('the child could not be run: ', str(error))

    def test_traceback_markers_do_not_count(self):
        with open(self.log, 'w') as f:
            f.write('2026-01-01 ERROR cinder     engine = create(url)\n'
                    '2026-01-01 ERROR cinder              ^^^^^^^^^^^\n'
                    '    return a[i] ^ b\n'
                    '           ~~~~~^^^\n'
                    'ModuleNotFoundError: No module named \'pymysql\'\n')
        self.assertEqual(['2026-01-01 ERROR cinder     engine = create(url)',
                          '    return a[i] ^ b',
                          "ModuleNotFoundError: No module named 'pymysql'"],
                         process.last_lines(self.log))

    def test_a_long_log_is_read_from_its_end(self):
        self.assertEqual([], process.last_lines(self.log))
        with open(self.log, 'w') as f:
            f.write('x' * (process.TAIL_BYTES * 2) + '\n')
            f.write('partial ' + 'y' * process.TAIL_BYTES + '\n\nend\n')
        # The line cut by the read's start is left out, and blank lines.
        self.assertEqual(['end'], process.last_lines(self.log))


class ChildProcessTest(testtools.TestCase):
    """A service started with :class:`process.ChildProcess`."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.log = os.path.join(self.dir, 'service.log')

    def child(self, code, ready='^ready$'):
        child = process.ChildProcess('the service', _python(code), self.log,
                                     ready, start_timeout=60)
        self.addCleanup(child.stop)
        return child

    def test_exit_while_starting(self):
        child = self.child(FAILING)
        error = self.assertRaises(process.ProcessError, child.start)
        lines = str(error).splitlines()
        self.assertEqual('the service exited while starting (status 1); '
                         'the last lines of its log %s:' % self.log,
                         lines[0])
        self.assertEqual(CAUSE, lines[-1])
        self.assertEqual(process.LOG_LINES + 1, len(lines))

    def test_exit_after_the_start(self):
        child = self.child(
            'import sys, time; print("ready", flush=True); time.sleep(0.5); '
            'print("lost the database"); sys.exit(4)', ready='ready')
        child.start()
        pid = child.pid
        child.process.wait(30)
        error = child.exited()
        self.assertEqual(['the service (pid %d) exited with status 4; the '
                          'last lines of its log %s:' % (pid, self.log),
                          'ready', 'lost the database'],
                         str(error).splitlines())
        self.assertRaises(process.ProcessError, child.check)
        # A child stopped on purpose did not fail.
        child.stop()
        self.assertIsNone(child.exited())

    def test_running_child_has_not_exited(self):
        child = self.child('import time; print("ready", flush=True); '
                           'time.sleep(60)', ready='ready')
        child.start()
        self.assertIsNone(child.exited())
        child.check()
        os.kill(child.pid, signal.SIGKILL)
        child.process.wait(30)
        self.assertIn('exited with signal SIGKILL; the last lines of its '
                      'log', str(child.exited()))

    def test_a_wait_stops_when_a_service_exits(self):
        child = self.child('import sys, time; print("ready", flush=True); '
                           'time.sleep(0.3); sys.exit(2)', ready='ready')
        child.start()
        stack = stack_mod.AllInOne()
        stack.emulator = child
        started = time.monotonic()
        error = self.assertRaises(
            process.ProcessError, client.wait_for, lambda: False,
            'something that never happens', timeout=60,
            watch=stack.check_children)
        self.assertLess(time.monotonic() - started, 30)
        self.assertIn('the service (pid %d) exited with status 2'
                      % child.pid, str(error))
        self.assertEqual([str(error)], [str(e) for e in stack.exited()])
