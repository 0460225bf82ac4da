"""``ebs-lease-agent``: one primary among the hosts sharing a disk.

Run one agent per host on the shared (multi-attach) disk::

    ebs-lease-agent --device /dev/disk/by-id/nvme-Alibaba_Cloud_Elastic_\\
    Block_Storage_<serial> --on-promote 'systemctl start mydb' \\
        --on-demote 'systemctl stop mydb'

Exit statuses: 0 stopped on request (as primary: handed over), 1
unexpected error, 2 invalid options, 3 this host lost the lease (fenced),
4 the device has no persistent reservations. See
:mod:`nova_shim.fencing.agent`.
"""

import logging as std_logging
import signal
import socket
import sys

from oslo_config import cfg
from oslo_log import log as logging

from nova_shim.fencing import agent as agent_mod
from nova_shim.fencing import config
from nova_shim.fencing import device as device_mod
from nova_shim.fencing import hooks as hooks_mod
from nova_shim.fencing import privsep
from nova_shim.fencing import reservations

LOG = logging.getLogger(__name__)


def build_agent(conf, clock):
    """The agent and its device from the options.

    :raises ValueError: invalid options.
    :raises OSError: the device cannot be opened.
    """
    agent_mod.check_timing(conf.refresh_interval, conf.takeover_timeout,
                           conf.io_latency_budget)
    host = conf.host_name or socket.gethostname()
    key = reservations.host_key(nqn=conf.host_nqn)
    device = device_mod.LeaseDevice(conf.device, conf.offset)
    try:
        return agent_mod.LeaseAgent(
            device, clock, host, key,
            refresh_interval=conf.refresh_interval,
            takeover_timeout=conf.takeover_timeout,
            io_latency=conf.io_latency_budget,
            hooks=hooks_mod.Hooks(conf.on_promote, conf.on_demote,
                                  conf.hook_timeout),
            state_file=conf.state_file, device_name=conf.device)
    except ValueError:
        device.close()
        raise


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        conf = config.make_conf(argv)
    except cfg.Error as exc:
        print('ebs-lease-agent: %s' % exc, file=sys.stderr)
        return agent_mod.EXIT_CONFIG
    except SystemExit as exc:
        # A malformed value: oslo.config printed why and exits with 1.
        if exc.code:
            return agent_mod.EXIT_CONFIG
        raise
    logging.setup(conf, 'ebs-lease-agent')
    conf.log_opt_values(LOG, std_logging.DEBUG)
    clock = agent_mod.SystemClock()
    try:
        agent = build_agent(conf, clock)
    except (ValueError, OSError) as exc:
        LOG.error('ebs-lease-agent cannot start: %s', exc)
        clock.close()
        return agent_mod.EXIT_CONFIG
    privsep.init(conf.root_helper)

    def _stop(signum, frame):
        agent.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        return agent.run()
    except Exception:
        LOG.exception('ebs-lease-agent failed')
        return agent_mod.EXIT_ERROR
    finally:
        agent.device.close()
        clock.close()


if __name__ == '__main__':
    sys.exit(main())
