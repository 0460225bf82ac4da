"""A private RabbitMQ broker (and its epmd) on the loopback interface.

The broker is Debian's ``rabbitmq-server`` run by hand: its own node name,
ports, configuration, database and cookie under one directory, the user
and password of the message bus from its configuration file (no
``rabbitmqctl`` call, each of which costs most of a second). Erlang needs
a port mapper (``epmd``); it is started first, in the foreground, so that
it is a child of this process with a PID of its own, instead of the
daemon Erlang would leave behind.
"""

import os
import secrets

from ebs_allinone.daemons import ports
from ebs_allinone.daemons import process
from ebs_allinone.daemons import process_groups

SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
EPMD = 'epmd'
USER = 'cinder'
READY = r'Server startup complete|completed with \d+ plugins'
EPMD_READY = r'epmd running'
START_TIMEOUT = 120


class Epmd(process.ChildProcess):
    """``epmd -port PORT -address 127.0.0.1`` in the foreground."""

    def __init__(self, port, log_path):
        self.port = port
        super().__init__(
            'epmd', [EPMD, '-port', str(port), '-address', ports.LOOPBACK,
                     '-d'],
            log_path, EPMD_READY)


class RabbitMQ(object):
    """epmd and a RabbitMQ node under ``directory``.

    After :meth:`start`: ``transport_url`` (``rabbit://USER:PASS@
    127.0.0.1:PORT/``), ``pids`` ({name: pid}).
    """

    def __init__(self, directory):
        self.dir = directory
        self.port, self.dist_port, self.epmd_port = ports.free_ports(3)
        self.password = secrets.token_hex(16)
        self.epmd = Epmd(self.epmd_port, os.path.join(directory, 'epmd.log'))
        self.server = None

    @property
    def transport_url(self):
        return 'rabbit://%s:%s@%s:%d/' % (USER, self.password,
                                          ports.LOOPBACK, self.port)

    @property
    def pids(self):
        """{name: pid}: epmd, the start script and the Erlang VM."""
        found = {'epmd': self.epmd.pid}
        if self.server is not None and self.server.pid:
            # The script runs the VM in its session (process group).
            for pid in process_groups.group_pids(self.server.pid):
                found['rabbitmq-server/%d' % pid] = pid
        return found

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _write_files(self):
        os.makedirs(self.path('home'), exist_ok=True)
        fd = os.open(self.path('rabbitmq.conf'),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write('listeners.tcp.default = %s:%d\n'
                    'loopback_users = none\n'
                    'default_user = %s\n'
                    'default_pass = %s\n'
                    # A small test machine: no alarm for a full-ish disk.
                    'disk_free_limit.absolute = 50MB\n'
                    % (ports.LOOPBACK, self.port, USER, self.password))
        with open(self.path('enabled_plugins'), 'w') as f:
            f.write('[].\n')
        open(self.path('rabbitmq-env.conf'), 'w').close()

    def environment(self):
        env = dict(os.environ)
        env.update({
            'HOME': self.path('home'),
            'RABBITMQ_NODENAME': 'ebs-allinone-%d@localhost' % self.port,
            'RABBITMQ_NODE_IP_ADDRESS': ports.LOOPBACK,
            'RABBITMQ_NODE_PORT': str(self.port),
            'RABBITMQ_DIST_PORT': str(self.dist_port),
            'ERL_EPMD_ADDRESS': ports.LOOPBACK,
            'ERL_EPMD_PORT': str(self.epmd_port),
            'RABBITMQ_MNESIA_BASE': self.path('mnesia'),
            'RABBITMQ_LOG_BASE': self.path('log'),
            'RABBITMQ_LOGS': '-',
            'RABBITMQ_PID_FILE': self.path('rabbitmq.pid'),
            'RABBITMQ_CONF_ENV_FILE': self.path('rabbitmq-env.conf'),
            'RABBITMQ_CONFIG_FILE': self.path('rabbitmq.conf'),
            'RABBITMQ_ADVANCED_CONFIG_FILE': self.path('advanced.config'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': self.path('enabled_plugins'),
        })
        return env

    def start(self, progress=None):
        os.makedirs(self.dir, exist_ok=True)
        self._write_files()
        self.epmd.start(progress)
        self.server = process.ChildProcess(
            'rabbitmq-server', [SERVER], self.path('rabbitmq.log'), READY,
            env=self.environment(), start_timeout=START_TIMEOUT)
        self.server.start(progress)

    def stop_server(self):
        """Stop the broker only (a restart keeps epmd)."""
        if self.server is not None:
            self.server.stop()

    def restart_server(self, progress=None):
        self.stop_server()
        self.server.start(progress)

    def stop(self):
        self.stop_server()
        self.epmd.stop()
