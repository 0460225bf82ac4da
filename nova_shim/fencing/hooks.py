"""The operator's on-promote and on-demote commands of the lease agent.

The agent calls them when this host becomes primary and when it stops
being primary (fenced, or handing over on a stop request); they start and
stop the application that must run on the primary only.
"""

import os
import shlex
import subprocess

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class Hooks(object):
    """Runs the operator's on-promote and on-demote commands.

    A command is split like a shell command line (no shell runs it) and
    gets the lease in its environment: ``EBS_LEASE_STATE``,
    ``EBS_LEASE_EPOCH``, ``EBS_LEASE_HOLDER``, ``EBS_LEASE_KEY`` (hex),
    ``EBS_LEASE_DEVICE`` and, on demote, ``EBS_LEASE_REASON``.

    The on-promote command runs in the background (the primary keeps
    heartbeating meanwhile); the on-demote command is waited for, at most
    ``timeout`` seconds, so the application stops before the lease goes.
    """

    def __init__(self, on_promote=None, on_demote=None, timeout=30.0):
        self._promote = shlex.split(on_promote) if on_promote else None
        self._demote = shlex.split(on_demote) if on_demote else None
        self._timeout = timeout
        self._running = None

    @staticmethod
    def _env(info):
        env = dict(os.environ)
        env.update(('EBS_LEASE_' + k.upper(), str(v))
                   for k, v in info.items())
        return env

    def promote(self, info):
        if not self._promote:
            return
        try:
            self._running = subprocess.Popen(self._promote,
                                             env=self._env(info),
                                             stdin=subprocess.DEVNULL)
        except OSError as exc:
            LOG.error('lease on-promote hook %(cmd)s cannot start: %(err)s',
                      {'cmd': self._promote[0], 'err': exc})

    def poll(self):
        """Log the exit of the on-promote command once it ended."""
        if self._running is not None and self._running.poll() is not None:
            log = LOG.info if self._running.returncode == 0 else LOG.error
            log('lease on-promote hook exited with status %d',
                self._running.returncode)
            self._running = None

    def demote(self, info):
        if not self._demote:
            return
        try:
            done = subprocess.run(self._demote, env=self._env(info),
                                  stdin=subprocess.DEVNULL,
                                  timeout=self._timeout, check=False)
        except subprocess.TimeoutExpired:
            LOG.error('lease on-demote hook still running after %ss; going '
                      'on without it', self._timeout)
        except OSError as exc:
            LOG.error('lease on-demote hook %(cmd)s cannot start: %(err)s',
                      {'cmd': self._demote[0], 'err': exc})
        else:
            if done.returncode:
                LOG.error('lease on-demote hook exited with status %d',
                          done.returncode)
