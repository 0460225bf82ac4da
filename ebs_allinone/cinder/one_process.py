"""Cinder's API, scheduler and volume services in one process.

Run as ``python -m ebs_allinone.cinder.one_process --config-file cinder.conf``.
The services share one eventlet hub, in-process messaging (``fake:/``) and a
SQLite database, the way Cinder's own functional tests run them. The process
prints ``cinder-api listening on HOST:PORT`` once every service is up and
stops cleanly on SIGTERM or SIGINT.

Run as root, Cinder's and os-brick's privileged calls (the format check
of an image downloaded for a volume, for one) run in this process: there
is no ``sudo`` nor ``cinder-rootwrap`` to start a privsep daemon with.
"""

from cinder import monkey_patch  # noqa: I100 (must patch before the rest)
monkey_patch.patch()

import os  # noqa: E402
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

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def start_services():
    """Start volume, scheduler and API services; return them, API last.

    The volume and scheduler services heartbeat their own records (see
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
    scheduler = colocated.Service.create(host=CONF.host,
                                         binary='cinder-scheduler')
    scheduler.start()
    started.append(scheduler)
    api = service.WSGIService('osapi_volume')
    api.start()
    started.append(api)
    return started


def privileged_in_process():
    """As root: run privsep's calls here instead of in a daemon."""
    if os.geteuid() != 0:
        return
    from cinder import privsep
    from os_brick import privileged
    for context in (privsep.sys_admin_pctxt, privileged.default,
                    privileged.brick_privsep_hide_output):
        context.set_client_mode(False)


def main(argv=None):
    logging.register_options(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='cinder',
         version=version.version_string())
    logging.setup(CONF, 'cinder')
    privileged_in_process()
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
