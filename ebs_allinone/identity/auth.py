"""Who the all-in-one's clients are: noauth users, or Keystone's.

:class:`NoAuth` (the default) is Cinder's noauth middleware, with the
all-in-one's service token emulation in its pipelines. :class:`Keystone`
runs a private Keystone (:mod:`ebs_allinone.identity.keystone`) and the
stand-in compute API (:mod:`ebs_allinone.identity.compute_api`), and makes
cinder-api
validate tokens with keystonemiddleware, service tokens included: the
compute service's requests carry the ``nova`` user's token in
``X-Service-Token``, which Cinder accepts only with the ``service``
role.

Both give the stack cinderclient sessions for the operator, the end user
and the compute service, and the ``[DEFAULT] auth_strategy`` (with its
sections) of cinder.conf.
"""

import os
import sys

from keystoneauth1 import service_token
from keystoneauth1 import session as ks_session
import yaml

from ebs_allinone.cinder import client
from ebs_allinone.cinder import config
from ebs_allinone.daemons import process
from ebs_allinone.identity import keystone as keystone_mod

SERVERS_READY = r'servers API listening on (\S+):(\d+)'
OPERATOR = keystone_mod.ADMIN
END_USER = 'demo'
COMPUTE_USER = 'nova'
CINDER_USER = 'cinder'
# clouds.yaml entries, by user.
CLOUDS = {OPERATOR: 'ebs-admin', END_USER: 'ebs-demo',
          COMPUTE_USER: 'ebs-nova'}


class NoAuth(object):
    """Cinder's noauth: the user id is the token (``user:project``)."""

    name = 'noauth'

    def __init__(self):
        self.pids = {}
        self._url = None

    def start(self, progress=None):
        pass

    def stop(self):
        pass

    def children(self):
        return {}

    def configure_cinder(self, conf):
        """cinder.conf is noauth already (see cinder_config)."""

    def register_volume_api(self, url):
        pass

    def session(self, service=False):
        user = config.SERVICE_USER if service else (
            config.USER_ID)
        return client.noauth_session(self._url, user_id=user)

    def endpoint(self):
        return client.volume_endpoint(self._url)

    def set_url(self, url):
        self._url = url


class Keystone(object):
    """A private Keystone and the stand-in compute API under ``directory``.

    After :meth:`start`: ``keystone`` (:class:`keystone_mod.Keystone`),
    ``pids``; after :meth:`write_clouds`: ``clouds_file``.

    :param accounts: more service users (see :class:`keystone_mod.Keystone`).
    """

    name = 'keystone'

    def __init__(self, directory, token_expiration=3600, accounts=None):
        self.dir = directory
        self.keystone = keystone_mod.Keystone(
            os.path.join(directory, 'keystone'), token_expiration,
            accounts=accounts)
        self.servers = None
        self.pids = {}
        self.clouds_file = os.path.join(directory, 'clouds.yaml')

    def start(self, progress=None):
        self.keystone.start(progress)
        self.pids['keystone'] = self.keystone.pid
        self.servers = process.ChildProcess(
            'servers-api',
            [sys.executable, '-m', 'ebs_allinone.identity.compute_api'],
            os.path.join(self.dir, 'servers-api.log'), SERVERS_READY)
        match = self.servers.start(progress)
        self.pids['servers-api'] = self.servers.pid
        self.keystone.register(keystone_mod.COMPUTE_SERVICE,
                               'http://%s:%s/v2.1' % match.groups())

    def stop(self):
        try:
            if self.servers is not None:
                self.servers.stop()
        finally:
            self.keystone.stop()

    def children(self):
        """{name: process.ChildProcess} of the servers started."""
        found = {'keystone': self.keystone.server,
                 'servers-api': self.servers}
        return {name: child for name, child in found.items() if child}

    def configure_cinder(self, conf):
        """keystonemiddleware in cinder-api, service tokens required."""
        conf['DEFAULT']['auth_strategy'] = 'keystone'
        conf['keystone_authtoken'] = {
            'www_authenticate_uri': self.keystone.url,
            'auth_url': self.keystone.url,
            'auth_type': 'password',
            'username': CINDER_USER,
            'password': self.keystone.passwords[CINDER_USER],
            'project_name': keystone_mod.SERVICE_PROJECT,
            'user_domain_name': keystone_mod.DOMAIN,
            'project_domain_name': keystone_mod.DOMAIN,
            'region_name': keystone_mod.REGION,
            # A service token counts only with one of these roles: the
            # role of the compute service's user.
            'service_token_roles': keystone_mod.SERVICE_ROLE,
            'service_token_roles_required': 'true',
        }
        conf['nova'] = {'region_name': keystone_mod.REGION,
                        'interface': 'public'}

    def register_volume_api(self, url):
        """The volume API in the catalog: ``url`` is ``.../v3``."""
        self.keystone.register(keystone_mod.VOLUME_SERVICE,
                               '%s/$(project_id)s' % url)
        self.write_clouds()

    def session(self, service=False, user=OPERATOR):
        """A session of ``user``; with the compute service's token too."""
        auth = self.keystone.auth(user)
        if service:
            auth = service_token.ServiceTokenAuthWrapper(
                user_auth=auth, service_auth=self.keystone.auth(COMPUTE_USER))
        return ks_session.Session(auth=auth)

    def endpoint(self):
        """None: the clients take the volume API from the catalog."""
        return None

    def set_url(self, url):
        pass

    def cloud(self, user):
        """One clouds.yaml entry."""
        project = (keystone_mod.ADMIN if user == OPERATOR
                   else self.keystone.accounts[user][0])
        return {
            'auth': {
                'auth_url': self.keystone.url,
                'username': user,
                'password': self.keystone.passwords[user],
                'project_name': project,
                'user_domain_name': keystone_mod.DOMAIN,
                'project_domain_name': keystone_mod.DOMAIN,
            },
            'region_name': keystone_mod.REGION,
            'identity_api_version': '3',
            'volume_api_version': client.MULTIATTACH_VERSION,
        }

    def environment(self, user):
        """The ``OS_*`` variables of ``user`` (both CLIs read them)."""
        cloud = self.cloud(user)
        auth = cloud['auth']
        return {
            'OS_AUTH_URL': auth['auth_url'],
            'OS_IDENTITY_API_VERSION': '3',
            'OS_USERNAME': auth['username'],
            'OS_PASSWORD': auth['password'],
            'OS_PROJECT_NAME': auth['project_name'],
            'OS_USER_DOMAIN_NAME': auth['user_domain_name'],
            'OS_PROJECT_DOMAIN_NAME': auth['project_domain_name'],
            'OS_REGION_NAME': cloud['region_name'],
            'OS_VOLUME_API_VERSION': cloud['volume_api_version'],
        }

    def openrc(self, user):
        return os.path.join(self.dir, '%s-openrc' % user)

    def write_clouds(self):
        """clouds.yaml and one openrc file per user (secrets: 0600)."""
        clouds = {'clouds': {name: self.cloud(user)
                             for user, name in CLOUDS.items()}}
        _write_private(self.clouds_file, yaml.safe_dump(
            clouds, default_flow_style=False))
        for user in CLOUDS:
            _write_private(self.openrc(user), ''.join(
                'export %s=%s\n' % item
                for item in sorted(self.environment(user).items())))


def _write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
