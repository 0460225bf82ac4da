#!/usr/bin/env python3
"""ECS calls of each attach and detach, counted at the emulator.

Starts the emulator (a subprocess on loopback, temporary state), creates
one multi-attach disk and runs the driver's attach and detach code (the
same Attacher the driver's initialize_connection and terminate_connection
use) through the real backend client: ``hosts`` attaches, one repeated
attach to a host that has the disk, then the detaches.  Prints the calls
of each operation by action, read from the emulator's access log, and
its duration.  Figures only; nothing is asserted.

    PYTHONPATH=. python tools/bench_attach_calls.py [hosts] [latency] \\
        [poll interval]

(run from the top of the tree: the emulator fixture of the tests starts
the emulator).  The defaults are 3 hosts, the emulator's 0.2 s transition
latency and the driver's default 1.0 s poll interval.
"""

import sys
import time
import types

from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from tests import emulator_fixture


def _measure(emu, label, operation):
    before = emu.call_counts()
    start = time.perf_counter()
    operation()
    elapsed = time.perf_counter() - start
    # The access line is written after the answer: let the last one land.
    time.sleep(0.05)
    after = emu.call_counts()
    calls = ', '.join('%s %d' % (action, after[action] - before[action])
                      for action in sorted(after)
                      if after[action] > before[action])
    print('  %-34s %5.2f s  %s' % (label, elapsed, calls or 'no call'))


def main(argv):
    hosts = int(argv[1]) if len(argv) > 1 else 3
    latency = float(argv[2]) if len(argv) > 2 else 0.2
    interval = float(argv[3]) if len(argv) > 3 else 1.0
    emu = emulator_fixture.EmulatorFixture(num_instances=hosts,
                                           transition_delay=latency)
    emu.setUp()
    try:
        conf = emu.driver_conf(ebs_state_poll_interval=interval)
        client = ebs_client.EBSClient(conf)
        disk_id = client.create_disk('volume-bench', 20, 'cloud_essd', 'PL1',
                                     True, 'bench-attach-calls')
        client.wait_for_disk_status(disk_id, 'Available')
        attacher = attachments.Attacher(client, conf)
        volume = types.SimpleNamespace(id='bench')
        instances = [i['InstanceId'] for i in emu.instances]
        print('ECS calls per operation (latency %.2f s, poll interval '
              '%.2f s):' % (latency, interval))
        for n, instance_id in enumerate(instances):
            _measure(emu, 'attach host %d' % n, lambda i=instance_id:
                     attacher.attach(volume, disk_id, i))
        _measure(emu, 'attach host 0 again', lambda:
                 attacher.attach(volume, disk_id, instances[0]))
        for n, instance_id in enumerate(instances):
            _measure(emu, 'detach host %d' % n, lambda i=instance_id:
                     attacher.detach(disk_id, i))
        client.delete_disk(disk_id)
    finally:
        emu.cleanUp()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
