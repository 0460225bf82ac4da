#!/usr/bin/env python3
"""One initialize_connection against 16 at once on one volume.

Starts the emulator (a subprocess on loopback, temporary state, its
default 0.2 s transition latency), creates one multi-attach disk and calls
the driver's own initialize_connection (real Cinder coordination locks,
file based, in a temporary directory) in alternating rounds: one host
alone, then 16 hosts at once from 16 threads (the order swaps every
round); each round detaches again with terminate_connection. Prints the
time of each kind as median (min-max) over the rounds, the ratio of the
medians, and the ECS calls per initialize_connection by action, counted
at the emulator (its access log). Figures only; nothing is asserted.

    PYTHONPATH=. python tools/bench_attach_storm.py [rounds] [latency] \\
        [poll interval]

(run from the top of the tree: the emulator fixture of the tests starts
the emulator). Defaults: 5 rounds, 0.2 s latency, the driver's default
poll interval.
"""

from concurrent import futures
import shutil
import statistics
import sys
import tempfile
import time
import types

from cinder.common import config as cinder_config
from cinder import coordination
from cinder.volume import configuration
from cinder.volume import driver as cinder_driver

from cinder_ebs_driver import driver as ebs_driver
from tests import emulator_fixture

HOSTS = 16
BACKEND = 'ebs-bench'
CONF = cinder_config.CONF


def _driver(emu, lock_dir, interval):
    CONF([], project='cinder')
    CONF.set_override('backend_url', 'file://' + lock_dir,
                      group='coordination')
    options = emu.driver_options(
        ebs_host_instance_map=emu.host_instance_map())
    if interval is not None:
        options['ebs_state_poll_interval'] = interval
    conf = configuration.Configuration(cinder_driver.volume_opts,
                                       config_group=BACKEND)
    driver = ebs_driver.EBSVolumeDriver(configuration=conf)
    for name, value in options.items():
        CONF.set_override(name, value, group=BACKEND)
    coordination.COORDINATOR.start()
    driver.do_setup(None)
    # No Cinder database here: the volume has no attachment records.
    driver.set_client(driver.client, attachment_records=lambda volume_id: [])
    return driver


def _connector(instance):
    return {'host': instance['HostName'], 'mode': 'rw'}


def _time_attach(driver, volume, instances):
    """Seconds until every initialize_connection answered."""
    def attach(instance):
        return driver.initialize_connection(volume, _connector(instance))
    start = time.perf_counter()
    with futures.ThreadPoolExecutor(len(instances)) as pool:
        list(pool.map(attach, instances))
    elapsed = time.perf_counter() - start
    with futures.ThreadPoolExecutor(len(instances)) as pool:
        list(pool.map(lambda i: driver.terminate_connection(
            volume, _connector(i)), instances))
    return elapsed


def _calls_per_attach(emu, driver, volume, instances):
    """ECS calls by action per initialize_connection of ``instances``."""
    def attach(instance):
        driver.initialize_connection(volume, _connector(instance))
    before = emu.call_counts()
    with futures.ThreadPoolExecutor(len(instances)) as pool:
        list(pool.map(attach, instances))
    # The access line is written after the answer: let the last one land.
    time.sleep(0.1)
    after = emu.call_counts()
    for instance in instances:
        driver.terminate_connection(volume, _connector(instance))
    return ', '.join(
        '%s %.2f' % (action, (after[action] - before[action]) /
                     len(instances))
        for action in sorted(after) if after[action] > before[action])


def _summary(values):
    return '%.2f s (%.2f-%.2f)' % (statistics.median(values), min(values),
                                   max(values))


def main(argv):
    rounds = int(argv[1]) if len(argv) > 1 else 5
    latency = float(argv[2]) if len(argv) > 2 else 0.2
    interval = float(argv[3]) if len(argv) > 3 else None
    emu = emulator_fixture.EmulatorFixture(num_instances=HOSTS,
                                           transition_delay=latency)
    lock_dir = tempfile.mkdtemp(prefix='bench-attach-storm-')
    emu.setUp()
    try:
        driver = _driver(emu, lock_dir, interval)
        client = driver.client
        disk_id = client.create_disk('volume-bench', 20, 'cloud_essd',
                                     'PL1', True, 'bench-attach-storm')
        client.wait_for_disk_status(disk_id, 'Available')
        volume = types.SimpleNamespace(id='bench-storm', provider_id=disk_id,
                                       multiattach=True,
                                       volume_attachment=[])
        instances = emu.instances[:HOSTS]
        times = {'one': [], 'storm': []}
        for n in range(rounds):
            order = ['one', 'storm'] if n % 2 == 0 else ['storm', 'one']
            for kind in order:
                hosts = instances[:1] if kind == 'one' else instances
                times[kind].append(_time_attach(driver, volume, hosts))
        one = statistics.median(times['one'])
        storm = statistics.median(times['storm'])
        print('initialize_connection on one multi-attach volume (latency '
              '%.2f s, poll interval %s, %d rounds, alternating):' % (
                  latency, '%.2f s' % interval if interval is not None
                  else 'default', rounds))
        print('  1 host                 %s' % _summary(times['one']))
        print('  %d hosts at once       %s' % (HOSTS,
                                               _summary(times['storm'])))
        print('  ratio (medians)        %.2fx' % (storm / one))
        print('ECS calls per initialize_connection:')
        print('  1 host                 %s' % _calls_per_attach(
            emu, driver, volume, instances[:1]))
        print('  %d hosts at once       %s' % (HOSTS, _calls_per_attach(
            emu, driver, volume, instances)))
        client.delete_disk(disk_id)
    finally:
        coordination.COORDINATOR.stop()
        emu.cleanUp()
        shutil.rmtree(lock_dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
