"""What a run may leave behind: processes, loop devices, FUSE mounts,
directories."""

import os
import subprocess

from ebs_allinone.daemons import process
from ebs_allinone.hosts import libvirt_daemons
from ebs_emulator import datapath

DELETED = ' (deleted)'


def loop_devices():
    """``[(device, backing file)]`` of every loop device set up.

    A backing file that was deleted is named without losetup's
    " (deleted)" suffix.
    """
    losetup = libvirt_daemons.find_binary('losetup') or 'losetup'
    out = subprocess.run([losetup, '--list', '--noheadings', '--output',
                          'NAME,BACK-FILE'],
                         capture_output=True, text=True, check=True)
    found = []
    for line in out.stdout.splitlines():
        name, _sep, back = line.strip().partition(' ')
        back = back.strip()
        if back.endswith(DELETED):
            back = back[:-len(DELETED)]
        found.append((name, back))
    return found


def loop_devices_under(directory):
    """Loop devices whose backing file is below ``directory``."""
    prefix = os.path.realpath(directory).rstrip('/') + '/'
    return ['%s (%s)' % (name, back) for name, back in loop_devices()
            if back.startswith(prefix)]


def mounts_under(directory):
    """Mount points below ``directory`` (the emulator's FUSE views)."""
    prefix = os.path.realpath(directory).rstrip('/') + '/'
    return [point for point in datapath.mount_points()
            if point.startswith(prefix)]


def find(pids, directory, directory_must_go):
    """Describe every leftover; an empty list means a clean shutdown.

    :param pids: {description: pid} of every process that was started.
    :param directory: the run's directory (loop devices below it count).
    :param directory_must_go: whether the directory itself must be gone.
    """
    left = ['process %s (pid %d) is still running' % (name, pid)
            for name, pid in sorted(pids.items())
            if pid and not process.process_gone(pid)]
    left += ['loop device %s is still set up' % dev
             for dev in loop_devices_under(directory)]
    left += ['%s is still mounted' % point
             for point in mounts_under(directory)]
    if directory_must_go and os.path.exists(directory):
        left.append('directory %s is still there' % directory)
    return left
