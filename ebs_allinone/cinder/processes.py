"""Cinder as child processes of the all-in-one.

:class:`CinderProcess` is the single topology's Cinder: API, scheduler and
volume services in one process (:mod:`ebs_allinone.cinder.one_process`).
:class:`CinderService` is one of Cinder's own commands (cinder-api,
-scheduler, -volume, -backup) of the cluster topology.

Each runs in a session of its own. ``cinder-api`` and ``cinder-volume``
fork workers (one per backend for cinder-volume): the parent alone is
not the service, so stopping and killing work on the process group.
"""

import signal
import sys

from ebs_allinone.daemons import process
from ebs_allinone.daemons import process_groups

ONE_PROCESS_READY = r'cinder-api listening on (\S+):(\d+)'
READY = {
    'cinder-api': r'wsgi starting up on http://(\S+):(\d+)',
    'cinder-scheduler': r'Starting cinder-scheduler node',
    'cinder-volume': r'Starting cinder-volume node',
    'cinder-backup': r'Starting cinder-backup node',
}
START_TIMEOUT = 180


def db_sync(config_files, log_path):
    """``cinder-manage db sync`` with ``config_files``.

    :raises process.ProcessError: it failed; the message ends with the
        last lines of its output (``log_path``).
    """
    argv = [process.console_script('cinder-manage')]
    for path in config_files:
        argv += ['--config-file', path]
    process.run('cinder-manage db sync', argv + ['db', 'sync'], log_path,
                timeout=300)


class CinderService(process.ChildProcess):
    """One Cinder service: ``binary --config-file ...``.

    :param name: for messages and the PID table (``cinder-volume-1``).
    :param binary: ``cinder-api``, ``cinder-scheduler`` or
        ``cinder-volume``.
    """

    def __init__(self, name, binary, config_files, log_path, env=None):
        argv = [process.console_script(binary)]
        for path in config_files:
            argv += ['--config-file', path]
        super().__init__(name, argv, log_path, READY[binary], env=env,
                         start_timeout=START_TIMEOUT)
        self.binary = binary
        self.pgid = None
        self.url = None

    def start(self, progress=None):
        """Start; then the API's ``url`` (``http://HOST:PORT/v3``) is set."""
        self.pgid = None
        match = super().start(progress)
        self.pgid = self.pid
        if match.groups():
            self.url = 'http://%s:%s/v3' % match.groups()
        return match

    def pids(self):
        """{name/pid: pid} of every process of the service."""
        if self.pgid is None:
            return {}
        return {'%s/%d' % (self.name, pid): pid
                for pid in process_groups.group_pids(self.pgid)}

    def kill(self):
        """SIGKILL to every process of the service (a crash)."""
        process_, self.process = self.process, None
        self._signal_group(signal.SIGKILL)
        if process_ is not None:
            process_.wait(process.STOP_TIMEOUT)

    def stop(self):
        """SIGTERM to the parent, then SIGKILL to what is left.

        The parent stops its workers on SIGTERM.
        """
        try:
            super().stop()
        finally:
            self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum):
        if self.pgid is not None:
            process_groups.kill_group(self.pgid, signum)


class CinderProcess(process.ChildProcess):
    """``python -m ebs_allinone.cinder.one_process --config-file CONF``.

    Attributes once started: ``host``, ``port``, ``url`` (the volume API
    root, ``http://HOST:PORT/v3``).
    """

    def __init__(self, config_file, log_path, start_timeout=120):
        super().__init__(
            'cinder', [sys.executable, '-m', 'ebs_allinone.cinder.one_process',
                       '--config-file', config_file],
            log_path, ONE_PROCESS_READY, start_timeout=start_timeout)
        self.host = None
        self.port = None
        self.url = None

    def start(self, progress=None):
        match = super().start(progress)
        self.host = match.group(1)
        self.port = int(match.group(2))
        self.url = 'http://%s:%d/v3' % (self.host, self.port)
        return match
