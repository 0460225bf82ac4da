"""A stand-in application on a host: numbered O_DIRECT writes in a loop.

``python -m ebs_allinone.hosts.appwriter DEVICE OFFSET TEXT INTERVAL_MS``
writes the block ``"TEXT seq=N"`` at ``OFFSET`` every ``INTERVAL_MS``
milliseconds and prints one line per write, as the tiny guest's
``appender`` role does::

    EBS-GUEST-WRITE-OK <seq>
    EBS-GUEST-WRITE-FAIL <seq> <errno>

It runs until SIGTERM. The failover runs use it where there are no
guests (and in the benchmark), so that the frozen host has an
application whose writes must be fenced.
"""

import mmap
import os
import signal
import subprocess
import sys
import time

BLOCK = 4096


def run(device, offset, text, interval):
    buf = mmap.mmap(-1, BLOCK)
    fd = os.open(device, os.O_WRONLY | os.O_DIRECT | os.O_DSYNC)
    stopping = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(1))
    seq = 0
    try:
        while not stopping:
            seq += 1
            buf.seek(0)
            buf.write(('%s seq=%d\n' % (text, seq)).encode().ljust(
                BLOCK, b'\0'))
            try:
                os.pwritev(fd, [buf], offset)
                print('EBS-GUEST-WRITE-OK %d' % seq, flush=True)
            except OSError as exc:
                print('EBS-GUEST-WRITE-FAIL %d %d' % (seq, exc.errno),
                      flush=True)
            time.sleep(interval)
    finally:
        os.close(fd)
    return 0


def start(device, offset, text, interval_ms, log_path):
    """Start a writer process; its lines go to ``log_path``."""
    log = open(log_path, 'ab')
    try:
        return subprocess.Popen(
            [sys.executable, '-m', 'ebs_allinone.hosts.appwriter', device,
             str(offset), text, str(interval_ms)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    finally:
        log.close()


if __name__ == '__main__':
    sys.exit(run(sys.argv[1], int(sys.argv[2]), sys.argv[3],
                 int(sys.argv[4]) / 1000.0))
