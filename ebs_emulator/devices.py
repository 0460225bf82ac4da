"""Make attached disks appear on the simulated instances' device paths.

An attached disk shows up, per instance, where a real ECS instance would
see it::

    <state>/instances/<instance id>/dev/disk/by-id/
        nvme-Alibaba_Cloud_Elastic_Block_Storage_<serial>

as a symlink to one of:

* the instance's own view of the disk served by the FUSE data path
  (:mod:`ebs_emulator.datapath`), which enforces NVMe persistent
  reservations per instance: the default where FUSE can run;
* a loop device over the disk file (each attachment gets its own loop
  device, like each host gets its own NVMe namespace);
* the disk file itself when the machine allows neither.

With the FUSE data path, the disks of the instances named in
``block_instances`` appear as a loop device over the instance's view: a
block device, as on ECS, for tools that would treat a regular file as an
image file to truncate (``qemu-img convert``); reads and writes still go
through the view and its checks, reservation ioctls do not.

Only the FUSE views enforce reservations; the emulator says so once when
it falls back.
"""

import os
import subprocess
import tempfile
import threading

from oslo_log import log as logging

from ebs_emulator import datapath

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

    def __init__(self, state_dir, disk_dir, use_loop_devices=None,
                 use_fuse=None, block_instances=()):
        self.state_dir = state_dir
        self.block_instances = frozenset(block_instances or ())
        self.disk_dir = os.path.realpath(disk_dir)
        self.loops = LoopDevices()
        self.fuse = self._start_fuse(use_fuse)
        if self.fuse:
            use_loop_devices = False
        elif use_loop_devices is None:
            use_loop_devices = self.loops.usable()
        self.use_loop_devices = use_loop_devices
        # (disk id, instance id) -> loop device, or None for a plain file
        self._devices = {}
        # (disk id, instance id) -> loop device over a FUSE view
        self._view_loops = {}
        self._lock = threading.Lock()
        self._said_unlimited = False

    def _start_fuse(self, use_fuse):
        """The running FUSE data path, or None (said once, with why)."""
        if use_fuse is False:
            LOG.warning('FUSE data path disabled: persistent reservations '
                        'are NOT enforced on attached disks')
            return None
        # libfuse itself is tried by starting the daemon: no second probe.
        reason = datapath.mount_refused_reason()
        if reason is None:
            fuse = datapath.FuseDataPath(self.state_dir)
            try:
                fuse.start()
                return fuse
            except (OSError, datapath.DataPathError) as exc:
                reason = str(exc)
        if use_fuse:
            raise OSError('the FUSE data path cannot run: %s' % reason)
        LOG.warning('FUSE data path unavailable (%s): persistent '
                    'reservations are NOT enforced on attached disks',
                    reason)
        return None

    @property
    def enforces_reservations(self):
        return self.fuse is not None

    def path(self, disk_id, instance_id):
        return device_path(self.state_dir, instance_id, disk_id)

    def expose(self, disk_id, instance_id, disk_file):
        """Make the disk visible on the instance; return the device path."""
        link = self.path(disk_id, instance_id)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        with self._lock:
            key = (disk_id, instance_id)
            if key not in self._devices:
                if self.fuse:
                    self._devices[key] = self.fuse.expose(
                        disk_id, instance_id, serial_of(disk_id), disk_file)
                    if instance_id in self.block_instances:
                        self._view_loops[key] = self.loops.attach(
                            self._devices[key])
                        self._devices[key] = self._view_loops[key]
                elif self.use_loop_devices:
                    self._devices[key] = self.loops.attach(disk_file)
                else:
                    self._devices[key] = None
            target = self._devices[key] or disk_file
        self._replace_link(link, target)
        return link

    def withdraw(self, disk_id, instance_id, detached=True):
        """Remove the disk from the instance and free its device.

        :param detached: the disk is detached from the instance, which
            loses its reservation registration (False when the emulator
            only stops).
        """
        try:
            os.unlink(self.path(disk_id, instance_id))
        except FileNotFoundError:
            pass
        with self._lock:
            device = self._devices.pop((disk_id, instance_id), None)
            view_loop = self._view_loops.pop((disk_id, instance_id), None)
        if view_loop:
            self._detach_quietly(view_loop)
        if self.fuse:
            self.fuse.withdraw(disk_id, instance_id, serial_of(disk_id),
                               detached)
        elif device:
            self._detach_quietly(device)

    def forget(self, disk_id):
        """The disk is deleted: drop its reservation state."""
        if self.fuse:
            self.fuse.forget(disk_id)

    def limit(self, disk_id, iops, bytes_per_sec):
        """Hold the disk's I/O on every instance to these rates."""
        if self.fuse:
            self.fuse.limit(disk_id, iops, bytes_per_sec)
        elif not self._said_unlimited:
            self._said_unlimited = True
            LOG.warning('FUSE data path not running: disk performance '
                        '(IOPS, throughput) is NOT enforced on attached '
                        'disks')

    def reservations(self):
        """{disk id: reservation report}, or None when not enforced."""
        return self.fuse.report() if self.fuse else None

    def refresh(self, disk_id):
        """Tell the loop devices of a disk that its file has grown."""
        with self._lock:
            if self.fuse:
                # A view's size is the disk file's: only the loop devices
                # over views need telling.
                loops = self._view_loops
            else:
                loops = self._devices
            devices = [dev for (disk, _inst), dev in loops.items()
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

        The attachments and reservations stay in the database: a restart
        exposes the attached disks again. No link is left behind that
        could point at a loop device someone else reuses.
        """
        with self._lock:
            exposed = list(self._devices)
        for disk_id, instance_id in exposed:
            self.withdraw(disk_id, instance_id, detached=False)
        if self.fuse:
            self.fuse.stop()

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
