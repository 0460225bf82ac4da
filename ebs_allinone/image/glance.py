"""A private Glance for the all-in-one behind its Keystone.

Glance from the Python environment this runs in (the package's ``image``
extra): its own SQLite database, made with ``glance-manage db_sync``, one
file store, keystonemiddleware validating tokens as the ``glance``
service user, served by :mod:`ebs_allinone.image.glance_server` on a free
port of 127.0.0.1. The caller puts it in the catalog as the ``image``
service (:data:`IMAGE_SERVICE`) and points Cinder at :attr:`Glance.url`.

Layout of its directory::

    glance-api.conf  glance.sqlite  images/  staging/  tasks/  locks/
    glance-manage.log  glance.log  glance-process.log
"""

import os
import sys

from ebs_allinone.cinder import config as cinder_config
from ebs_allinone.daemons import ports
from ebs_allinone.daemons import process
from ebs_allinone.identity import keystone as keystone_mod

READY = r'glance listening on (\S+):(\d+)'
START_TIMEOUT = 120
MANAGE_TIMEOUT = 300
USER = 'glance'
# The Keystone account keystonemiddleware in Glance validates tokens
# with (Keystone's ACCOUNTS form).
ACCOUNT = {USER: (keystone_mod.SERVICE_PROJECT, keystone_mod.SERVICE_ROLE)}
IMAGE_SERVICE = ('glance', 'image')
# The one store: Glance's filesystem driver.
STORE = 'local'
PASTE_INI = os.path.join('etc', 'glance', 'glance-api-paste.ini')


def paste_ini():
    """Glance's own glance-api-paste.ini, as its wheel installs it."""
    path = os.path.join(sys.prefix, PASTE_INI)
    if not os.path.exists(path):
        raise FileNotFoundError('glance-api-paste.ini of Glance not found '
                                'at %s' % path)
    return path


def glance_api_conf(directory, keystone, port, debug=False):
    """glance-api.conf, as a ``ConfigParser``.

    :param keystone: the running :class:`keystone_mod.Keystone`, with
        the password of :data:`USER`.
    """
    conf = cinder_config.new_parser()
    conf['DEFAULT'] = {
        # Under a WSGI server Glance does not bind itself; these say
        # where it is served (glance_server binds the port).
        'bind_host': ports.LOOPBACK,
        'bind_port': str(port),
        'workers': '1',
        'public_endpoint': 'http://%s:%d' % (ports.LOOPBACK, port),
        'enabled_backends': '%s:file' % STORE,
        'image_cache_dir': os.path.join(directory, 'cache'),
        'debug': str(bool(debug)).lower(),
        'log_file': os.path.join(directory, 'glance.log'),
        'use_stderr': 'false',
    }
    conf['database'] = {
        'connection': 'sqlite:///%s' % os.path.join(directory,
                                                    'glance.sqlite'),
    }
    conf['glance_store'] = {'default_backend': STORE}
    conf[STORE] = {
        'filesystem_store_datadir': os.path.join(directory, 'images'),
    }
    # Glance's reserved stores: images being imported, task data.
    conf['os_glance_staging_store'] = {
        'filesystem_store_datadir': os.path.join(directory, 'staging'),
    }
    conf['os_glance_tasks_store'] = {
        'filesystem_store_datadir': os.path.join(directory, 'tasks'),
    }
    conf['keystone_authtoken'] = {
        'www_authenticate_uri': keystone.url,
        'auth_url': keystone.url,
        'auth_type': 'password',
        'username': USER,
        'password': keystone.passwords[USER],
        'project_name': keystone_mod.SERVICE_PROJECT,
        'user_domain_name': keystone_mod.DOMAIN,
        'project_domain_name': keystone_mod.DOMAIN,
        'region_name': keystone_mod.REGION,
    }
    conf['paste_deploy'] = {'flavor': 'keystone', 'config_file': paste_ini()}
    conf['oslo_concurrency'] = {
        'lock_path': os.path.join(directory, 'locks'),
    }
    return conf


def _script(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class Glance(object):
    """Glance under ``directory``, set up and served by :meth:`start`.

    After :meth:`start`: ``url`` (``http://127.0.0.1:PORT``, the image
    API's root, as the catalog lists it) and ``pid``.
    """

    def __init__(self, directory, keystone, debug=False):
        self.dir = directory
        self.keystone = keystone
        self.debug = debug
        (self.port,) = ports.free_ports(1)
        self.url = 'http://%s:%d' % (ports.LOOPBACK, self.port)
        self.config_file = self.path('glance-api.conf')
        self.server = None

    @property
    def pid(self):
        return self.server and self.server.pid

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def set_up(self):
        """The configuration, the store's directories, the database."""
        for name in ('images', 'staging', 'tasks', 'cache', 'locks'):
            os.makedirs(self.path(name), exist_ok=True)
        cinder_config.write_conf(self.config_file, glance_api_conf(
            self.dir, self.keystone, self.port, self.debug))
        process.run('glance-manage db_sync',
                    [_script('glance-manage'), '--config-file',
                     self.config_file, 'db_sync'],
                    self.path('glance-manage.log'), timeout=MANAGE_TIMEOUT)

    def start(self, progress=None):
        """Set up, then serve; return once the API answers."""
        self.set_up()
        self.server = process.ChildProcess(
            'glance-api',
            [sys.executable, '-m', 'ebs_allinone.image.glance_server',
             '--config-dir', self.dir, '--port', str(self.port)],
            self.path('glance-process.log'), READY,
            start_timeout=START_TIMEOUT)
        self.server.start(progress)

    def stop(self):
        if self.server is not None:
            self.server.stop()
