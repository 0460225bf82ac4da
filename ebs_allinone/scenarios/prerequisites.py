"""What an option of ``ebs-allinone`` needs beyond the package itself.

``--topology cluster`` needs the package's ``cluster`` extra (PyMySQL,
etcd3gw) in this Python environment and Debian's RabbitMQ, MariaDB and
etcd servers; ``--auth keystone`` needs the ``keystone`` extra and
``--image`` the ``image`` extra (Glance). The tox ``demo`` environment
(``tools/run-demo.sh``) has every extra and
``tools/install-deps.sh`` installs the servers. :func:`missing` says in
one line what to install, before anything starts.
"""

import importlib.util
import os
import shutil
import sys

from ebs_allinone.daemons import etcd
from ebs_allinone.daemons import mariadb
from ebs_allinone.daemons import rabbitmq

# (module, distribution) of each extra.
CLUSTER_MODULES = (('pymysql', 'PyMySQL'), ('etcd3gw', 'etcd3gw'))
KEYSTONE_MODULES = (('keystone', 'keystone'),)
IMAGE_MODULES = (('glance', 'glance'),)
# (command, Debian package) of the cluster's servers.
CLUSTER_COMMANDS = (
    (rabbitmq.SERVER, 'rabbitmq-server'),
    (mariadb.SERVER, 'mariadb-server'),
    (mariadb.INSTALL_DB, 'mariadb-server'),
    (etcd.SERVER, 'etcd-server'),
)


def _importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def pip_command(extra):
    """The pip command that installs ``extra`` into this environment."""
    # ebs_allinone/scenarios/ -> the source tree's root.
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    if os.path.exists(os.path.join(root, 'setup.cfg')):
        # A clone (or a develop install from one).
        target = '%s[%s]' % (root, extra)
    else:
        target = 'cinder-ebs-driver[%s]' % extra
    return "%s -m pip install '%s'" % (sys.executable, target)


def _modules(option, extra, modules):
    absent = [dist for module, dist in modules if not _importable(module)]
    if not absent:
        return None
    return '%s needs %s in this Python environment: %s' % (
        option, ', '.join(absent), pip_command(extra))


def _packages(option, commands):
    absent = []
    for command, package in commands:
        if not shutil.which(command) and package not in absent:
            absent.append(package)
    if not absent:
        return None
    return ('%s needs %s from Debian: apt-get install %s (or '
            'tools/install-deps.sh)' % (option, ', '.join(absent),
                                        ' '.join(absent)))


def missing(topology='single', auth='noauth', image=False):
    """What to install for these options, in one line; None if nothing."""
    found = []
    if topology == 'cluster':
        found += [_modules('--topology cluster', 'cluster', CLUSTER_MODULES),
                  _packages('--topology cluster', CLUSTER_COMMANDS)]
    if auth == 'keystone':
        found.append(_modules('--auth keystone', 'keystone',
                              KEYSTONE_MODULES))
    if image:
        found.append(_modules('--image', 'image', IMAGE_MODULES))
    found = [text for text in found if text]
    return '; '.join(found) if found else None
