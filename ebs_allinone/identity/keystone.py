"""A private Keystone for the all-in-one, on the loopback interface.

Keystone from the Python environment this runs in: its own SQLite
database, fernet token and credential keys under one directory, set up
with ``keystone-manage`` (``db_sync``, ``fernet_setup``,
``credential_setup``, ``bootstrap``) and served by
:mod:`ebs_allinone.identity.keystone_server` on a free port. Then, through the
identity API as the bootstrap admin:

* the ``demo`` project with its end user ``demo`` (role ``member``);
* the ``service`` project with the compute service's user ``nova`` and
  Cinder's own user ``cinder`` (role ``service``), which
  keystonemiddleware in cinder-api validates tokens with;
* more service users when asked (``accounts``: Glance's ``glance``);
* the catalog entries of the volume API (``block-storage``), of the
  stand-in compute API (:mod:`ebs_allinone.identity.compute_api`) and of
  the image API when there is one, added once their URLs are known.

Layout of its directory::

    keystone.conf  keystone.sqlite  fernet-keys/  credential-keys/
    keystone-manage.log  keystone.log
"""

import grp
import os
import pwd
import secrets
import sys

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

from ebs_allinone.cinder import config as cinder_config
from ebs_allinone.daemons import ports
from ebs_allinone.daemons import process

READY = r'keystone listening on (\S+):(\d+)'
START_TIMEOUT = 120
MANAGE_TIMEOUT = 300
REGION = 'RegionOne'
DOMAIN = 'Default'
SERVICE_ROLE = 'service'
MEMBER_ROLE = 'member'
ADMIN = 'admin'
SERVICE_PROJECT = 'service'
DEMO_PROJECT = 'demo'
# {user: (project, role)}; admin comes from keystone-manage bootstrap.
ACCOUNTS = {
    'demo': (DEMO_PROJECT, MEMBER_ROLE),
    'nova': (SERVICE_PROJECT, SERVICE_ROLE),
    'cinder': (SERVICE_PROJECT, SERVICE_ROLE),
}
VOLUME_SERVICE = ('cinderv3', 'block-storage')
COMPUTE_SERVICE = ('nova', 'compute')
IDENTITY = {'service_type': 'identity', 'interface': 'public'}


def keystone_conf(directory, token_expiration=3600):
    """Keystone's configuration, as a ``ConfigParser``."""
    conf = cinder_config.new_parser()
    conf['DEFAULT'] = {
        'log_file': os.path.join(directory, 'keystone.log'),
        'use_stderr': 'false',
    }
    conf['database'] = {
        'connection': 'sqlite:///%s' % os.path.join(directory,
                                                    'keystone.sqlite'),
    }
    conf['token'] = {
        'provider': 'fernet',
        'expiration': str(token_expiration),
    }
    keys = os.path.join(directory, 'fernet-keys')
    # Receipts (multi-factor authentication) share the tokens' keys, as
    # with Keystone's defaults.
    conf['fernet_tokens'] = {'key_repository': keys}
    conf['fernet_receipts'] = {'key_repository': keys}
    conf['credential'] = {
        'key_repository': os.path.join(directory, 'credential-keys'),
    }
    conf['cache'] = {'enabled': 'false'}
    # The fewest bcrypt rounds: every token request checks a password,
    # and these are random passwords of a private, loopback-only
    # Keystone (the default, 12, costs about 0.25 s a check).
    conf['identity'] = {'password_hash_rounds': '4'}
    return conf


def _script(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class Keystone(object):
    """Keystone under ``directory``, set up and served by :meth:`start`.

    After :meth:`start`: ``url`` (``http://127.0.0.1:PORT/v3``), ``pid``,
    ``passwords`` ({user: password}) and ``projects`` ({name: id}).

    :param accounts: more users, as in :data:`ACCOUNTS`.
    """

    def __init__(self, directory, token_expiration=3600, accounts=None):
        self.dir = directory
        self.token_expiration = token_expiration
        self.accounts = dict(ACCOUNTS, **(accounts or {}))
        (self.port,) = ports.free_ports(1)
        self.url = 'http://%s:%d/v3' % (ports.LOOPBACK, self.port)
        self.config_file = self.path('keystone.conf')
        self.passwords = {user: secrets.token_hex(16)
                          for user in [ADMIN] + list(self.accounts)}
        self.projects = {}
        self.server = None

    @property
    def pid(self):
        return self.server and self.server.pid

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def manage(self, *args):
        """``keystone-manage --config-file keystone.conf ARGS``.

        :raises process.ProcessError: it failed (with the end of its
            log).
        """
        process.run('keystone-manage %s' % args[0],
                    [_script('keystone-manage'), '--config-file',
                     self.config_file] + list(args),
                    self.path('keystone-manage.log'),
                    timeout=MANAGE_TIMEOUT)

    def set_up(self):
        """Database, keys and the bootstrap admin, with keystone-manage."""
        os.makedirs(self.dir, exist_ok=True)
        cinder_config.write_conf(self.config_file, keystone_conf(
            self.dir, self.token_expiration))
        owner = ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
                 '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
        self.manage('db_sync')
        self.manage('fernet_setup', *owner)
        self.manage('credential_setup', *owner)
        self.manage('bootstrap', '--bootstrap-password',
                    self.passwords[ADMIN],
                    '--bootstrap-admin-url', self.url,
                    '--bootstrap-internal-url', self.url,
                    '--bootstrap-public-url', self.url,
                    '--bootstrap-region-id', REGION)

    def start(self, progress=None):
        """Set up, serve, then create the projects and users."""
        self.set_up()
        self.server = process.ChildProcess(
            'keystone',
            [sys.executable, '-m', 'ebs_allinone.identity.keystone_server',
             '--config-file', self.config_file, '--port', str(self.port)],
            self.path('keystone-process.log'), READY,
            start_timeout=START_TIMEOUT)
        self.server.start(progress)
        self.create_accounts()

    def stop(self):
        if self.server is not None:
            self.server.stop()

    # -- the identity API -------------------------------------------------
    def auth(self, user, project=None):
        """A keystoneauth password plugin for one of the users."""
        if project is None:
            project = ADMIN if user == ADMIN else self.accounts[user][0]
        return v3.Password(
            auth_url=self.url, username=user, password=self.passwords[user],
            project_name=project, user_domain_name=DOMAIN,
            project_domain_name=DOMAIN)

    def session(self, user, project=None):
        return ks_session.Session(auth=self.auth(user, project))

    def _admin(self):
        return self.session(ADMIN)

    @staticmethod
    def _find_or_create(admin, collection, key, body):
        """The id of the named entity; created when missing."""
        found = admin.get('/%s' % collection, endpoint_filter=IDENTITY,
                          params={'name': body['name']}).json()[collection]
        if found:
            return found[0]['id']
        return admin.post('/%s' % collection, endpoint_filter=IDENTITY,
                          json={key: body}).json()[key]['id']

    def create_accounts(self):
        admin = self._admin()
        self.projects[ADMIN] = admin.get_project_id()
        roles = {}
        for user, (project, role) in sorted(self.accounts.items()):
            if project not in self.projects:
                self.projects[project] = self._find_or_create(
                    admin, 'projects', 'project',
                    {'name': project, 'domain_id': DOMAIN.lower()})
            if role not in roles:
                roles[role] = self._find_or_create(
                    admin, 'roles', 'role', {'name': role})
            user_id = admin.post('/users', endpoint_filter=IDENTITY, json={
                'user': {'name': user, 'password': self.passwords[user],
                         'domain_id': DOMAIN.lower(),
                         'default_project_id': self.projects[project]},
            }).json()['user']['id']
            admin.put('/projects/%s/users/%s/roles/%s' % (
                self.projects[project], user_id, roles[role]),
                endpoint_filter=IDENTITY)

    def register(self, name_type, url):
        """A catalog entry: service ``(name, type)``, public ``url``."""
        admin = self._admin()
        name, service_type = name_type
        service_id = admin.post('/services', endpoint_filter=IDENTITY, json={
            'service': {'name': name, 'type': service_type},
        }).json()['service']['id']
        for interface in ('public', 'internal', 'admin'):
            admin.post('/endpoints', endpoint_filter=IDENTITY, json={
                'endpoint': {'service_id': service_id, 'url': url,
                             'interface': interface, 'region_id': REGION},
            })
