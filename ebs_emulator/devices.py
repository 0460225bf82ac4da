"""Make attached disks appear on the simulated instances' device paths.

An attached disk shows up, per instance, where a real ECS instance would
see it::

    <state>/instances/<instance id>/dev/disk/by-id/
        nvme-Alibaba_Cloud_Elastic_Block_Storage_<serial>

as a symlink to a loop device over the disk file (each attachment gets its
own loop device, like each host gets its own NVMe namespace), or to the
disk file itself when the machine cannot create loop devices.

This module is the data path seen by instances: a later per-instance
check (persistent reservations) plugs in here by exposing something else
than a plain loop device.
"""

import os
import subprocess
import tempfile
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

DEVICE_PREFIX = 'nvme-Alibaba_Cloud_Elastic_Block_Storage_'


def serial_of(disk_id):
    """The NVMe serial of a disk: its id without the 'd-' prefix."""
    return disk_id[2:] if disk_id.startswith('d-') else disk_id


def device_path(state_dir, instance_id, disk_id):
    return os.path.join(state_dir, 'instances', instance_id, 'dev', 'disk',
                        'by-id', DEVICE_PREFIX + serial_of(disk_id))


class LoopDevices(object):
    """Thin wrapper around losetup(8)."""

    @staticmethod
    def _run(*args):
        result = subprocess.run(('losetup',) + args, capture_output=True,
                                text=True, check=False)
        if result.returncode != 0:
            raise OSError('losetup %s failed: %s' % (
                ' '.join(args), result.stderr.strip()))
        return result.stdout.strip()

    def attach(self, path):
        return self._run('--find', '--show', '--direct-io=off', path)

    def detach(self, device):
        self._run('--detach', device)

    def refresh_capacity(self, device):
        self._run('--set-capacity', device)

    def backing_files(self):
        """{loop device: backing file} of every loop device in use."""
        out = self._run('--list', '--noheadings', '--raw',
                        '--output', 'NAME,BACK-FILE')
        found = {}
        for line in out.splitlines():
            parts = line.split(None, 1)
            if len(parts) == 2:
                backing = parts[1].replace('\\x20', ' ')
                found[parts[0]] = backing.replace(' (deleted)', '')
        return found

    def usable(self):
        """True when a loop device can really be set up here."""
        try:
            with tempfile.NamedTemporaryFile(prefix='ebs-loop-probe-') as f:
                f.truncate(1024 * 1024)
                f.flush()
                device = self.attach(f.name)
                self.detach(device)
            return True
        except OSError as exc:
            LOG.info('Loop devices unavailable, exposing files: %s', exc)
            return False


class DeviceExposer(object):
    """Creates and removes the per-instance device paths."""

    def __init__(self, state_dir, disk_dir, use_loop_devices=None):
        self.state_dir = state_dir
        self.disk_dir = os.path.realpath(disk_dir)
        self.loops = LoopDevices()
        if use_loop_devices is None:
            use_loop_devices = self.loops.usable()
        self.use_loop_devices = use_loop_devices
        # (disk id, instance id) -> loop device, or None for a plain file
        self._devices = {}
        self._lock = threading.Lock()

    def path(self, disk_id, instance_id):
        return device_path(self.state_dir, instance_id, disk_id)

    def expose(self, disk_id, instance_id, disk_file):
        """Make the disk visible on the instance; return the device path."""
        link = self.path(disk_id, instance_id)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        with self._lock:
            key = (disk_id, instance_id)
            if key not in self._devices:
                self._devices[key] = (self.loops.attach(disk_file)
                                      if self.use_loop_devices else None)
            target = self._devices[key] or disk_file
        self._replace_link(link, target)
        return link

    def withdraw(self, disk_id, instance_id):
        """Remove the disk from the instance and free its loop device."""
        try:
            os.unlink(self.path(disk_id, instance_id))
        except FileNotFoundError:
            pass
        with self._lock:
            device = self._devices.pop((disk_id, instance_id), None)
        if device:
            self._detach_quietly(device)

    def refresh(self, disk_id):
        """Tell the loop devices of a disk that its file has grown."""
        with self._lock:
            devices = [dev for (disk, _inst), dev in self._devices.items()
                       if disk == disk_id and dev]
        for device in devices:
            self.loops.refresh_capacity(device)

    def exposed(self):
        """{'<disk id> on <instance id>': loop device or None}."""
        with self._lock:
            return {'%s on %s' % key: device
                    for key, device in self._devices.items()}

    def release_stale(self):
        """Free loop devices over our disk files left by a killed process."""
        if not self.use_loop_devices:
            return
        for device, backing in self.loops.backing_files().items():
            if os.path.dirname(os.path.realpath(backing)) == self.disk_dir:
                with self._lock:
                    if device in self._devices.values():
                        continue
                LOG.info('Releasing stale loop device %s (%s)', device,
                         backing)
                self._detach_quietly(device)

    def close(self):
        """Remove every exposure made here and free its loop device.

        The attachments stay in the database: a restart exposes the
        attached disks again.  No link is left behind that could point at
        a loop device someone else reuses.
        """
        with self._lock:
            exposed = list(self._devices)
        for disk_id, instance_id in exposed:
            self.withdraw(disk_id, instance_id)

    def _detach_quietly(self, device):
        try:
            self.loops.detach(device)
        except OSError as exc:
            LOG.warning('Could not free %s: %s', device, exc)

    @staticmethod
    def _replace_link(link, target):
        tmp = '%s.tmp' % link
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(target, tmp)
        os.replace(tmp, link)
