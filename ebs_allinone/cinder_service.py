"""The all-in-one Cinder (API, scheduler, volume) as a child process."""

import sys

from ebs_emulator import process

READY = r'cinder-api listening on (\S+):(\d+)'


class CinderProcess(process.ChildProcess):
    """``python -m ebs_allinone.cinder_process --config-file CONF``.

    Attributes once started: ``host``, ``port``, ``url`` (the volume API
    root, ``http://HOST:PORT/v3``).
    """

    def __init__(self, config_file, log_path, start_timeout=120):
        super().__init__(
            'cinder', [sys.executable, '-m', 'ebs_allinone.cinder_process',
                       '--config-file', config_file],
            log_path, READY, start_timeout=start_timeout)
        self.host = None
        self.port = None
        self.url = None

    def start(self, progress=None):
        match = super().start(progress)
        self.host = match.group(1)
        self.port = int(match.group(2))
        self.url = 'http://%s:%d/v3' % (self.host, self.port)
        return match
