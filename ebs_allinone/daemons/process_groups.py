"""The processes of a process group (a service and the workers it forks)."""

import os
import signal

from ebs_allinone.daemons import process


def group_pids(pgid):
    """PIDs of the live processes of process group ``pgid``."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp.
        if int(fields[2]) == pgid and fields[0] not in ('Z', 'X'):
            found.append(int(entry))
    return sorted(found)


def kill_group(pgid, signum=signal.SIGKILL, timeout=process.STOP_TIMEOUT):
    """Send ``signum`` to the group; wait for its processes to exit.

    :returns: the PIDs that were signalled.
    """
    pids = group_pids(pgid)
    if not pids:
        return []
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return []
    for pid in pids:
        process.wait_gone(pid, timeout)
    return pids
