"""A private MariaDB server on the loopback interface.

Debian's ``mariadbd`` run by hand from a defaults file of its own: data
directory, socket, PID file and temporary directory under one directory,
``bind-address=127.0.0.1`` and a free port. ``user=root`` because the
server refuses to run as root without it. One database and one user, with
a random password, for Cinder.
"""

import os
import secrets

from ebs_allinone.daemons import ports
from ebs_allinone.daemons import process

SERVER = 'mariadbd'
INSTALL_DB = 'mariadb-install-db'
CLIENT = 'mariadb'
READY = r'ready for connections'
START_TIMEOUT = 120
DATABASE = 'cinder'
USER = 'cinder'


class MariaDB(object):
    """A MariaDB server under ``directory`` with a ``cinder`` database.

    After :meth:`start`: ``connection`` (the SQLAlchemy URL), ``pid``.
    """

    def __init__(self, directory):
        self.dir = directory
        (self.port,) = ports.free_ports(1)
        self.password = secrets.token_hex(16)
        self.defaults_file = os.path.join(directory, 'my.cnf')
        self.server = None

    @property
    def connection(self):
        return 'mysql+pymysql://%s:%s@%s:%d/%s?charset=utf8mb4' % (
            USER, self.password, ports.LOOPBACK, self.port, DATABASE)

    @property
    def pid(self):
        return self.server and self.server.pid

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _write_defaults(self):
        for sub in ('data', 'tmp'):
            os.makedirs(self.path(sub), exist_ok=True)
        with open(self.defaults_file, 'w') as f:
            f.write('[mysqld]\n'
                    'user = root\n'
                    'datadir = %s\n'
                    'socket = %s\n'
                    'pid-file = %s\n'
                    'tmpdir = %s\n'
                    'bind-address = %s\n'
                    'port = %d\n'
                    'skip-name-resolve\n'
                    'innodb_buffer_pool_size = 64M\n'
                    'max_connections = 500\n'
                    '[client]\n'
                    'socket = %s\n'
                    % (self.path('data'), self.path('mysqld.sock'),
                       self.path('mysqld.pid'), self.path('tmp'),
                       ports.LOOPBACK, self.port, self.path('mysqld.sock')))

    def _client(self, sql):
        process.run(CLIENT, [CLIENT, '--defaults-file=%s' % self.defaults_file,
                             '-u', 'root', '-e', sql],
                    self.path('client.log'), timeout=60)

    def start(self, progress=None):
        os.makedirs(self.dir, exist_ok=True)
        self._write_defaults()
        process.run(INSTALL_DB,
                    [INSTALL_DB, '--defaults-file=%s' % self.defaults_file,
                     '--auth-root-authentication-method=normal',
                     '--skip-test-db'],
                    self.path('install-db.log'), timeout=120)
        self.server = process.ChildProcess(
            'mariadbd', [SERVER, '--defaults-file=%s' % self.defaults_file],
            self.path('mariadbd.log'), READY, start_timeout=START_TIMEOUT)
        self.server.start(progress)
        self._client(
            "CREATE DATABASE %s CHARACTER SET utf8mb4; "
            "CREATE USER '%s'@'%s' IDENTIFIED BY '%s'; "
            "GRANT ALL PRIVILEGES ON %s.* TO '%s'@'%s';"
            % (DATABASE, USER, ports.LOOPBACK, self.password, DATABASE,
               USER, ports.LOOPBACK))

    def stop(self):
        if self.server is not None:
            self.server.stop()
