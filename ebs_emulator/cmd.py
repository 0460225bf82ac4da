"""``ebs-emulator``: run the EBS emulator as an HTTP service.

Example::

    ebs-emulator --bind 127.0.0.1 --port 8080 --state-dir /var/lib/ebs-emu \\
        --access-key MYKEY:MYSECRET --instances 4

Once listening it prints ``ebs-emulator listening on HOST:PORT`` on
standard output (the port actually bound when ``--port 0`` was given).
SIGTERM or SIGINT stop it cleanly; the state stays in the state directory
for the next start.

``ebs-emulator resv-report --url URL [--disk ID]`` prints the persistent
reservations of a running emulator's attached disks (see
:mod:`ebs_emulator.resv_report`); ``ebs-emulator overlaps --url URL``
the mutating calls that were in flight on one disk at once in conflict
(:mod:`ebs_emulator.overlap_report`).
"""

import logging as std_logging
import os
import signal
import sys
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging

from ebs_emulator import config
from ebs_emulator import faults
from ebs_emulator import metadata
from ebs_emulator import overlap_report
from ebs_emulator import resv_report
from ebs_emulator import rulebook
from ebs_emulator import server
from ebs_emulator import service
from ebs_emulator import signature
from ebs_emulator import sts


LOG = logging.getLogger(__name__)

READY_MESSAGE = 'ebs-emulator listening on %s:%d'
# Seconds to let running actions finish when stopping.
DRAIN_TIMEOUT = 10


def _build_app(conf):
    keys = config.parse_access_keys(conf.access_key)
    instances = config.instances_from_conf(conf)
    injector = faults.FaultInjector(config.fault_rules_from_conf(conf))
    tokens = sts.TokenStore(lifetime=conf.sts_token_lifetime)
    verifier = signature.Verifier(keys, max_skew=conf.max_clock_skew,
                                  tokens=tokens)
    sts_service = sts.StsService(keys, tokens, max_skew=conf.max_clock_skew)
    instance_metadata = metadata.MetadataService(
        tokens, role_name=conf.instance_ram_role,
        token_required=conf.metadata_token_required)
    os.makedirs(conf.state_dir, exist_ok=True)
    svc = service.EmulatorService(
        conf.state_dir, instances, region_id=conf.region,
        zone_id=conf.zone, transition_delay=conf.transition_delay,
        use_loop_devices=config.use_loop_devices(conf),
        use_fuse=config.use_fuse(conf),
        block_device_instances=conf.block_device_instance,
        readings=config.readings_from_conf(conf),
        performance_scale=conf.performance_scale)
    LOG.info('Emulating region %s zone %s with %d instances, %d access '
             'key(s), state in %s; disputed rules read as %s',
             conf.region, conf.zone, len(instances), len(keys),
             conf.state_dir, ', '.join('%s=%s' % item for item in
                                       sorted(svc.readings.items())))
    return server.EmulatorApp(svc, verifier, injector,
                              region_id=conf.region, sts_service=sts_service,
                              metadata=instance_metadata)


def _install_signal_handlers(http_server):
    def _stop(signum, frame):
        LOG.info('Signal %d received, stopping', signum)
        # shutdown() waits for serve_forever(), which runs in this thread.
        threading.Thread(target=http_server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def _watch_parent(http_server, parent, interval=1.0):
    """Stop the server once the parent process is gone."""

    def _watch():
        while os.getppid() == parent:
            time.sleep(interval)
        LOG.warning('Parent process %d exited, stopping', parent)
        http_server.shutdown()

    threading.Thread(target=_watch, name='parent-watch', daemon=True).start()


def _announce(conf, http_server):
    host = http_server.server_address[0]
    port = http_server.server_address[1]
    print(READY_MESSAGE % (host, port), flush=True)
    if conf.ready_file:
        tmp = conf.ready_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%s:%d\n' % (host, port))
        os.replace(tmp, conf.ready_file)
    LOG.info(READY_MESSAGE, host, port)


def _start_metadata_server(listen, app):
    """Serve the instance metadata paths only, on ``HOST:PORT``."""
    host, sep, port = listen.rpartition(':')
    if not sep or not host or not port.isdigit():
        raise ValueError('expected HOST:PORT')
    metadata_server = server.EmulatorHTTPServer(
        (host.strip('[]'), int(port)), app, metadata_only=True)
    thread = threading.Thread(target=metadata_server.serve_forever,
                              kwargs={'poll_interval': 0.2},
                              name='metadata-server', daemon=True)
    thread.start()
    LOG.info('Serving instance metadata on %s', listen)
    return metadata_server


def main(argv=None):
    parent = os.getppid()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['resv-report']:
        return resv_report.main(argv[1:])
    if argv[:1] == ['overlaps']:
        return overlap_report.main(argv[1:])
    if argv[:1] == ['rules']:
        return rulebook.main(argv[1:])
    try:
        conf = config.make_conf(argv)
    except cfg.Error as e:
        print('ebs-emulator: %s' % e, file=sys.stderr)
        return 2
    logging.setup(conf, 'ebs-emulator')
    conf.log_opt_values(LOG, std_logging.DEBUG)

    try:
        app = _build_app(conf)
    except (ValueError, OSError) as e:
        LOG.error('Cannot start the emulator: %s', e)
        return 2

    try:
        http_server = server.EmulatorHTTPServer((conf.bind, conf.port), app)
    except OSError as e:
        LOG.error('Cannot listen on %s:%s: %s', conf.bind, conf.port, e)
        app.service.close()
        return 1

    metadata_server = None
    if conf.metadata_listen:
        try:
            metadata_server = _start_metadata_server(conf.metadata_listen,
                                                     app)
        except (ValueError, OSError) as e:
            LOG.error('Cannot serve instance metadata on %s: %s',
                      conf.metadata_listen, e)
            http_server.server_close()
            app.service.close()
            return 1

    _install_signal_handlers(http_server)
    if conf.exit_with_parent:
        _watch_parent(http_server, parent)
    try:
        _announce(conf, http_server)
        http_server.serve_forever(poll_interval=0.2)
    finally:
        if metadata_server is not None:
            metadata_server.shutdown()
            metadata_server.server_close()
        http_server.server_close()
        if not app.wait_idle(DRAIN_TIMEOUT):
            LOG.warning('Actions still running after %ds, closing anyway',
                        DRAIN_TIMEOUT)
        app.service.close()
        LOG.info('Stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
