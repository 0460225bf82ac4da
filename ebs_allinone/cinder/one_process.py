"""Cinder's API, scheduler and volume services in one process.

Run as ``python -m ebs_allinone.cinder.one_process --config-file cinder.conf``.
The services share one eventlet hub, in-process messaging (``fake:/``) and a
SQLite database, the way Cinder's own functional tests run them. The process
prints ``cinder-api listening on HOST:PORT`` once every service is up and
stops cleanly on SIGTERM or SIGINT.

With the POSIX backup driver configured (see
:func:`ebs_allinone.cinder.config.backup_options`) it also runs
cinder-backup, one service per availability zone of the backends: a
separate cinder-backup process could not reach the others over in-process
messaging (the cluster topology runs it as a process of its own).
"""

from cinder import monkey_patch  # noqa: I100 (must patch before the rest)
monkey_patch.patch()

import signal  # noqa: E402
import sys  # noqa: E402

from cinder.common import config  # noqa: E402,F401 (registers options)
from cinder.db import migration  # noqa: E402
from cinder import objects  # noqa: E402
from cinder import service  # noqa: E402
from cinder import version  # noqa: E402
import eventlet  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402

from ebs_allinone.cinder import colocated  # noqa: E402
from ebs_allinone.cinder import config as config_mod  # noqa: E402

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def start_services():
    """Start Cinder's services; return them, the API last.

    Volume, scheduler, backup (when configured) and API. The volume,
    scheduler and backup services heartbeat their own records (see
    :mod:`ebs_allinone.cinder.colocated`).
    """
    started = []
    for backend in CONF.enabled_backends:
        # One cinder-volume per backend, named host@backend as cinder-volume
        # names them.
        volume = colocated.Service.create(
            host='%s@%s' % (CONF.host, backend), binary='cinder-volume',
            service_name=backend, coordination=True, cluster=None)
        volume.start()
        started.append(volume)
    zones = [volume.manager.availability_zone for volume in started]
    scheduler = colocated.Service.create(host=CONF.host,
                                         binary='cinder-scheduler')
    scheduler.start()
    started.append(scheduler)
    if _backup_configured():
        # After the scheduler: a backup service announces itself to it
        # when it starts (then once a minute).
        started += start_backups(zones)
    api = service.WSGIService('osapi_volume')
    api.start()
    started.append(api)
    return started


def _backup_configured():
    # Registers backup_driver.
    from cinder.backup import manager  # noqa: F401
    # Cinder's default backup driver (Swift) has nothing to store to here.
    return CONF.backup_driver == config_mod.POSIX_BACKUP_DRIVER


def start_backups(zones):
    """One cinder-backup per availability zone in ``zones``; return them.

    Cinder backs a volume up only with a backup service of the volume's
    zone, the ``storage_availability_zone`` the backup manager reads when
    it is built. One zone: the service is ``host`` as cinder-backup names
    it; several: ``host-zone``.
    """
    unique = list(dict.fromkeys(zones))
    started = []
    for zone in unique:
        host = CONF.host if len(unique) == 1 else '%s-%s' % (CONF.host, zone)
        CONF.set_override('storage_availability_zone', zone)
        try:
            backup = colocated.Service.create(
                host=host, binary='cinder-backup', coordination=True,
                service_name='backup')
        finally:
            CONF.clear_override('storage_availability_zone')
        backup.start()
        started.append(backup)
    return started


def main(argv=None):
    logging.register_options(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='cinder',
         version=version.version_string())
    logging.setup(CONF, 'cinder')
    objects.register_all()
    migration.db_sync()

    services = start_services()
    api = services[-1]
    stop = eventlet.event.Event()

    def _stop(signum, frame):
        if not stop.ready():
            stop.send(signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print('cinder-api listening on %s:%s' % (api.host, api.port), flush=True)
    signum = stop.wait()
    LOG.info('Stopping Cinder services (signal %s).', signum)
    for svc in reversed(services):
        svc.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
