"""Start and stop the emulator (or any service) as a child process.

:class:`ChildProcess` runs a command in its own session with its output in
a log file, waits for the line that says it is ready, and stops exactly
that process by its PID. :func:`run` runs a command to its end with its
output in a log file. :class:`EmulatorProcess` is the ``ebs-emulator``
command on a free loopback port.

When a child fails (exits while starting, exits later, exits with an
error status, runs too long), the :class:`ProcessError` says so on its
first line, with the log's path, and gives the last lines of what the
child wrote to its log.

A process that has exited may stay unreaped for a while, so exit is judged
from ``State:`` in ``/proc/PID/status`` (``Z`` counts as gone), never from
``kill -0``.
"""

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from oslo_log import log as logging

from ebs_emulator import config

LOG = logging.getLogger(__name__)

START_TIMEOUT = 60
STOP_TIMEOUT = 30
RUN_TIMEOUT = 300
# Lines of a failed child's log in the error, read from at most this
# many bytes at the end of the log.
LOG_LINES = 20
TAIL_BYTES = 65536
# A line of ^ and ~ under a traceback's code (after a log prefix).
_MARKERS = re.compile(r'(^|\s)[\^~]+$')
_PR_SET_PDEATHSIG = 1


class ProcessError(Exception):
    """A child process failed: it did not start, exited or did not stop."""


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def last_lines(path, count=LOG_LINES, offset=0):
    """The last ``count`` lines of a file, from ``offset`` on.

    Blank lines and the ``^^^^`` markers under the code in Python's
    tracebacks do not count. Reads at most the last ``TAIL_BYTES``
    bytes; a missing file has no lines.
    """
    start = max(offset, log_size(path) - TAIL_BYTES)
    try:
        with open(path, 'rb') as f:
            f.seek(start)
            text = f.read().decode('utf-8', 'replace')
    except OSError:
        return []
    lines = [line.rstrip() for line in text.splitlines()]
    if start > offset and lines:
        # The first line read may be the end of a longer one.
        lines = lines[1:]
    return [line for line in lines
            if line.strip() and not _MARKERS.search(line)][-count:]


def error_with_log(what, log_path, offset=0, count=LOG_LINES):
    """A :class:`ProcessError`: ``what``, then the end of the child's log.

    :param what: the first line, such as ``cinder-manage exited with
        status 1``.
    :param offset: where in the log this run of the child began.
    """
    lines = last_lines(log_path, count, offset)
    if not lines:
        return ProcessError('%s; nothing in its log %s' % (what, log_path))
    return ProcessError('%s; the last lines of its log %s:\n%s' % (
        what, log_path, '\n'.join(lines)))


def exit_status(returncode):
    """``status 1`` or ``signal SIGKILL``, from a Popen return code."""
    if returncode is not None and returncode < 0:
        try:
            return 'signal %s' % signal.Signals(-returncode).name
        except ValueError:
            return 'signal %d' % -returncode
    return 'status %s' % returncode


def console_script(name):
    """A console script of the Python environment this one runs in."""
    return os.path.join(os.path.dirname(sys.executable), name)


def run(name, argv, log_path, timeout=RUN_TIMEOUT, env=None):
    """Run a command to its end; its output is appended to ``log_path``.

    :param name: for messages (``cinder-manage db sync``).
    :raises ProcessError: the command could not be run, exited with a
        status other than 0, or ran longer than ``timeout`` seconds (it
        is killed then); see :func:`error_with_log`.
    """
    offset = log_size(log_path)
    with open(log_path, 'ab') as out:
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, env=env,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise error_with_log('%s did not finish within %ds'
                                 % (name, timeout), log_path, offset)
        except OSError as exc:
            raise ProcessError('%s could not be run: %s' % (name, exc))
    if done.returncode:
        raise error_with_log('%s exited with %s' % (
            name, exit_status(done.returncode)), log_path, offset)
    LOG.debug('%s finished', name)


def process_gone(pid):
    """True when ``pid`` has exited (gone, or a zombie nobody reaped)."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('State:'):
                    return line.split()[1] in ('Z', 'X')
    except (FileNotFoundError, ProcessLookupError):
        return True
    return False


def wait_gone(pid, timeout):
    """Wait up to ``timeout`` seconds for ``pid`` to exit; True if it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return process_gone(pid)


def _die_with_parent():
    """In the child: get SIGTERM when the parent dies (Linux only).

    The kernel sends it when the thread that started the child exits,
    not only the whole parent: start a long-lived child from a thread
    that outlives it (the main thread, or a pool kept as long).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def stop_process(process, name, timeout=STOP_TIMEOUT):
    """Stop a ``subprocess.Popen`` child and reap it.

    SIGTERM, then SIGKILL after ``timeout`` seconds.

    :raises ProcessError: the process survived SIGKILL.
    """
    if not process_gone(process.pid):
        process.send_signal(signal.SIGTERM)
        if not wait_gone(process.pid, timeout):
            LOG.warning('%s (pid %d) ignored SIGTERM, killing it', name,
                        process.pid)
            process.kill()
            if not wait_gone(process.pid, timeout):
                raise ProcessError('%s (pid %d) did not exit'
                                   % (name, process.pid))
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        LOG.warning('%s (pid %d) exited but was not reaped', name,
                    process.pid)
    LOG.debug('%s (pid %d) stopped with status %s', name, process.pid,
              process.returncode)


class ChildProcess(object):
    """A service run as a child process, ready once it prints a line.

    :param name: for messages.
    :param argv: the command.
    :param log_path: standard output and error go (appended) there.
    :param ready_pattern: regular expression of the ready line; its
        match is returned by :meth:`start`.
    :param env: the environment (default: this process's).
    """

    def __init__(self, name, argv, log_path, ready_pattern, env=None,
                 start_timeout=START_TIMEOUT, stop_timeout=STOP_TIMEOUT):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.ready_pattern = re.compile(ready_pattern)
        self.env = env
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.process = None
        # Where the log of the current (or last) start begins.
        self.log_offset = 0

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def running(self):
        return self.process is not None and not process_gone(self.pid)

    def start(self, progress=None):
        """Start the process; return the ready line's match.

        :param progress: called with the seconds waited so far, about
            every half second, while the process is not ready yet.
        :raises ProcessError: the process exited or timed out (it is
            stopped then).
        """
        if self.running():
            raise ProcessError('%s is already running' % self.name)
        offset = self.log_offset = self._log_size()
        with open(self.log_path, 'ab') as out:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
                env=self.env, preexec_fn=_die_with_parent)
        LOG.debug('Started %s (pid %d): %s', self.name, self.pid,
                  ' '.join(self.argv))
        started = time.monotonic()
        next_report = started + 0.5
        while True:
            match = self.ready_pattern.search(self._read_log(offset))
            if match:
                return match
            status = self.process.poll()
            if status is not None:
                self.process = None
                raise self.failure('exited while starting (%s)'
                                   % exit_status(status))
            now = time.monotonic()
            if now - started > self.start_timeout:
                self.stop()
                raise self.failure('did not start within %ds'
                                   % self.start_timeout)
            if progress is not None and now >= next_report:
                progress(now - started)
                next_report = now + 0.5
            time.sleep(0.05)

    def failure(self, what):
        """A :class:`ProcessError`: ``name what``, then its log's end.

        Only the lines the child logged since its last start.
        """
        return error_with_log('%s %s' % (self.name, what), self.log_path,
                              self.log_offset)

    def exited(self):
        """Whether the child started and has exited since (not stopped).

        :returns: a :class:`ProcessError` saying so, or None.
        """
        process = self.process
        if process is None or process.poll() is None:
            return None
        return self.failure('(pid %d) exited with %s' % (
            process.pid, exit_status(process.returncode)))

    def check(self):
        """Raise the error of :meth:`exited`, if any.

        :raises ProcessError: the child has exited.
        """
        error = self.exited()
        if error is not None:
            raise error

    def stop(self):
        """SIGTERM, then SIGKILL after ``stop_timeout``; wait for the exit.

        :raises ProcessError: the process survived SIGKILL.
        """
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, self.name, self.stop_timeout)

    def _log_size(self):
        return log_size(self.log_path)

    def _read_log(self, offset=0):
        try:
            with open(self.log_path, 'rb') as f:
                f.seek(offset)
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''


class EmulatorProcess(ChildProcess):
    """``ebs-emulator`` on 127.0.0.1, on a free port unless one is given.

    :param state_dir: the emulator's state directory.
    :param log_path: the emulator's output.
    :param access_key: ``(id, secret)``.
    :param instances: instance dicts (see ``config.load_instances``);
        written to ``instances_file`` when given, else ``num_instances``
        default instances.
    :param extra_args: more command line arguments.
    """

    READY = r'ebs-emulator listening on (\S+):(\d+)'

    def __init__(self, state_dir, log_path, access_key, instances=None,
                 instances_file=None, num_instances=config.DEFAULT_INSTANCES,
                 region_id=config.DEFAULT_REGION, zone_id=config.DEFAULT_ZONE,
                 transition_delay=0.2, use_loop_devices='auto',
                 fuse_views='auto', port=0,
                 config_file=None, extra_args=()):
        self.state_dir = state_dir
        self.access_key_id, self.access_key_secret = access_key
        self.region_id = region_id
        self.zone_id = zone_id
        self.port = port
        self.endpoint = None
        self.url = None
        argv = [sys.executable, '-m', 'ebs_emulator.cmd',
                '--bind', '127.0.0.1', '--state-dir', state_dir,
                '--region', region_id, '--zone', zone_id,
                '--transition-delay', str(transition_delay),
                '--use-loop-devices', use_loop_devices,
                '--fuse-views', fuse_views,
                '--exit-with-parent']
        if config_file:
            # Keeps the secret off the command line.
            argv += ['--config-file', config_file]
        else:
            argv += ['--access-key', '%s:%s' % access_key]
        if instances is not None:
            with open(instances_file, 'w') as f:
                json.dump(instances, f)
            argv += ['--instances-file', instances_file]
        else:
            argv += ['--instances', str(num_instances)]
        self._base_argv = argv + list(extra_args)
        super().__init__('ebs-emulator', self._base_argv, log_path,
                         self.READY)

    def command(self):
        """The command line; once a port is known (a restart), keep it."""
        return self._base_argv + ['--port', str(self.port)]

    def start(self, progress=None):
        self.argv = self.command()
        match = super().start(progress)
        self.port = int(match.group(2))
        self.endpoint = '127.0.0.1:%d' % self.port
        self.url = 'http://%s' % self.endpoint
        return match

    def admin(self, method, name, body=None, timeout=30):
        """Call ``/_emulator/<name>``; return the decoded JSON answer.

        :raises ProcessError: the emulator answered with an error.
        """
        data = None if body is None else json.dumps(body).encode('utf-8')
        request = urllib.request.Request(
            '%s/_emulator/%s' % (self.url, name), data=data, method=method,
            headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return json.loads(answer.read().decode('utf-8'))
        except urllib.error.HTTPError as e:
            raise ProcessError('%s /_emulator/%s: %s %s' % (
                method, name, e.code, e.read().decode('utf-8', 'replace')))

    def state(self):
        """The emulator's counts (disks, snapshots, attachments, ...)."""
        return self.admin('GET', 'state')

    def overlaps(self):
        """Conflicting mutating calls on one disk (``/_emulator/overlaps``)."""
        return self.admin('GET', 'overlaps')
