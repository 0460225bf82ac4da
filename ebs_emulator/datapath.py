"""The reservation-enforcing data path: a FUSE daemon in its own process.

:class:`FuseDataPath` (used by the emulator) starts ``python -m
ebs_emulator.datapath`` on a mount point under the state directory and
talks to it over the child's standard input and output, one JSON object
per line in each direction:

* ``{"op": "expose", "disk": ID, "instance": ID, "serial": S, "file": P}``
  answers ``{"ok": true, "path": VIEW}``;
* ``{"op": "withdraw", ..., "detached": bool}`` removes a view (and on
  detach the instance's registration);
* ``{"op": "forget", "disk": ID}`` drops a deleted disk's reservations;
* ``{"op": "limit", "disk": ID, "iops": N, "bytes_per_sec": N}`` holds
  the disk's I/O, through every view, to these rates (0: no limit);
* ``{"op": "report"}`` answers ``{"ok": true, "disks": {...}}``;
* ``{"op": "stop"}`` unmounts; the daemon then exits.

The daemon runs in its own process so that its I/O never waits for the
HTTP API (nor the API for it), and so that libfuse's signal handling
stays out of the emulator. It keeps the reservation state in the
emulator's database, so a restart keeps registrations and reservations.
"""

import ctypes
import json
import logging as std_logging
import os
import signal
import subprocess
import sys
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

MOUNT_DIR = 'views'
START_TIMEOUT = 30
REQUEST_TIMEOUT = 30
STOP_TIMEOUT = 10
_PR_SET_PDEATHSIG = 1
# libfuse 3 when both libfuse 2 and 3 are installed.
FUSE_LIBRARY_ENV = {'FUSE_LIBRARY_NAME': 'fuse3'}


def _die_with_parent():
    """In the daemon: SIGTERM when the emulator dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _reap(child):
    """Wait for the daemon to exit; SIGTERM, then SIGKILL, if it does not."""
    for signum in (None, signal.SIGTERM, signal.SIGKILL):
        if signum is not None:
            LOG.warning('The data path daemon (pid %d) is still running; '
                        'sending %s', child.pid, signum.name)
            child.send_signal(signum)
        try:
            child.wait(STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            pass
    LOG.error('The data path daemon (pid %d) did not exit', child.pid)


class DataPathError(Exception):
    """The data path daemon failed or answered an error."""


def mount_refused_reason():
    """Why this process may not mount the data path, or None.

    The cheap checks only: whether libfuse loads shows when the daemon
    starts (:meth:`FuseDataPath.start` then fails with its error).
    """
    if os.geteuid() != 0:
        return 'mounting the FUSE data path needs root'
    if not os.path.exists('/dev/fuse'):
        return '/dev/fuse does not exist'
    return None


def unavailable_reason():
    """Why the FUSE data path cannot run here, or None (probes libfuse)."""
    refused = mount_refused_reason()
    if refused:
        return refused
    env = dict(os.environ, **FUSE_LIBRARY_ENV)
    probe = subprocess.run(
        [sys.executable, '-c', 'import mfusepy'], env=env,
        capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines() or ['import failed']
        return 'mfusepy cannot load libfuse: %s' % lines[-1]
    return None


def mount_points():
    """Every mount point of this mount namespace."""
    with open('/proc/self/mountinfo') as f:
        return [line.split()[4].encode().decode('unicode_escape')
                for line in f]


def mounted(path):
    """True when something is mounted on ``path`` (also a dead FUSE)."""
    return os.path.realpath(path) in mount_points()


def unmount(path, lazy=False):
    args = ['umount'] + (['-l'] if lazy else []) + [path]
    result = subprocess.run(args, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise OSError('umount %s failed: %s' % (path,
                                                result.stderr.strip()))


class FuseDataPath(object):
    """Parent side: start, command and stop the data path daemon."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.mount_point = os.path.join(state_dir, MOUNT_DIR)
        self.log_path = os.path.join(state_dir, 'datapath.log')
        self._child = None
        self._mutex = threading.Lock()

    def start(self):
        os.makedirs(self.mount_point, exist_ok=True)
        if mounted(self.mount_point):
            LOG.info('Unmounting a stale data path mount on %s',
                     self.mount_point)
            unmount(self.mount_point, lazy=True)
        env = dict(os.environ, **FUSE_LIBRARY_ENV)
        log = open(self.log_path, 'ab')
        try:
            self._child = subprocess.Popen(
                [sys.executable, '-m', 'ebs_emulator.datapath',
                 self.state_dir, self.mount_point],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                env=env, start_new_session=True,
                preexec_fn=_die_with_parent)
        finally:
            log.close()
        try:
            self._receive(START_TIMEOUT)
        except DataPathError:
            self.stop()
            raise
        LOG.info('FUSE data path (pid %d) serves instance views on %s: '
                 'persistent reservations are enforced', self._child.pid,
                 self.mount_point)

    @property
    def pid(self):
        return self._child.pid if self._child else None

    def expose(self, disk_id, instance_id, serial, disk_file):
        return self.request(op='expose', disk=disk_id, instance=instance_id,
                            serial=serial, file=disk_file)['path']

    def withdraw(self, disk_id, instance_id, serial, detached):
        self.request(op='withdraw', disk=disk_id, instance=instance_id,
                     serial=serial, detached=detached)

    def forget(self, disk_id):
        self.request(op='forget', disk=disk_id)

    def limit(self, disk_id, iops, bytes_per_sec):
        self.request(op='limit', disk=disk_id, iops=iops,
                     bytes_per_sec=bytes_per_sec)

    def report(self):
        return self.request(op='report')['disks']

    def request(self, **message):
        with self._mutex:
            if self._child is None or self._child.poll() is not None:
                raise DataPathError('the data path daemon is not running '
                                    '(see %s)' % self.log_path)
            try:
                self._child.stdin.write(
                    (json.dumps(message) + '\n').encode())
                self._child.stdin.flush()
            except OSError as exc:
                raise DataPathError('the data path daemon is gone: %s'
                                    % exc)
            return self._receive(REQUEST_TIMEOUT)

    def _receive(self, timeout):
        # A reader thread bounds the wait: a hung daemon is an error.
        answer = []
        reader = threading.Thread(
            target=lambda: answer.append(self._child.stdout.readline()),
            daemon=True)
        reader.start()
        reader.join(timeout)
        if not answer or not answer[0]:
            raise DataPathError('no answer from the data path daemon: %s '
                                '(see %s)' % (self._last_log_line(),
                                              self.log_path))
        reply = json.loads(answer[0])
        if not reply.get('ok'):
            raise DataPathError(reply.get('error') or 'failed')
        return reply

    def _last_log_line(self):
        try:
            with open(self.log_path, errors='replace') as f:
                lines = f.read().strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else 'nothing logged'

    def stop(self):
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            try:
                child.stdin.write(b'{"op": "stop"}\n')
                child.stdin.flush()
            except OSError:
                pass
        # The daemon unmounts and exits by itself; SIGTERM (libfuse
        # unmounts on it too) only if it does not.
        try:
            _reap(child)
        finally:
            for stream in (child.stdin, child.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            if mounted(self.mount_point):
                unmount(self.mount_point, lazy=True)


# -- the daemon ---------------------------------------------------------------

def _store(state_dir):
    """load/save callbacks on the emulator's database."""
    from ebs_emulator import db
    from ebs_emulator import reservations

    database = db.Database(state_dir)

    def load(disk_id):
        with database.session() as session:
            row = session.get(db.Reservation, disk_id)
            regs = (session.query(db.Registration)
                    .filter_by(disk_id=disk_id)
                    .order_by(db.Registration.position))
            return reservations.DiskReservations(
                generation=row.generation if row else 0,
                registrants=[(r.instance_id, int(r.key, 16)) for r in regs],
                holder=row.holder if row else None,
                rtype=row.rtype if row else None)

    def save(disk_id, state):
        with database.session() as session:
            session.query(db.Registration).filter_by(
                disk_id=disk_id).delete()
            row = session.get(db.Reservation, disk_id)
            if state is None:
                if row is not None:
                    session.delete(row)
                return
            if row is None:
                row = db.Reservation(disk_id=disk_id)
                session.add(row)
            row.generation = state.generation
            row.rtype = int(state.rtype) if state.rtype else None
            row.holder = state.holder
            for position, (host, key) in enumerate(
                    state.registrants.items()):
                session.add(db.Registration(
                    disk_id=disk_id, instance_id=host, key='%#x' % key,
                    position=position))

    return load, save


def _serve_control(table, mount_point, out, stopping):
    def answer(reply):
        out.write(json.dumps(reply) + '\n')
        out.flush()

    for line in sys.stdin:
        try:
            message = json.loads(line)
            op = message.get('op')
            reply = {'ok': True}
            if op == 'expose':
                table.expose(message['disk'], message['instance'],
                             message['serial'], message['file'])
                reply['path'] = os.path.join(
                    mount_point, message['instance'], message['serial'])
            elif op == 'withdraw':
                table.withdraw(message['disk'], message['instance'],
                               message['serial'], message['detached'])
            elif op == 'forget':
                table.forget(message['disk'])
            elif op == 'limit':
                table.set_limits(message['disk'], message['iops'],
                                 message['bytes_per_sec'])
            elif op == 'report':
                reply['disks'] = table.report()
            elif op == 'stop':
                stopping.set()
                answer(reply)
                break
            else:
                reply = {'ok': False, 'error': 'unknown op %r' % op}
        except Exception as exc:
            std_logging.exception('Control request failed: %s', line)
            reply = {'ok': False, 'error': str(exc)}
        answer(reply)
    # Standard input closed (the emulator is gone) or stop: unmounting
    # ends the FUSE loop of the main thread.
    stopping.set()
    try:
        unmount(mount_point)
    except OSError as exc:
        std_logging.warning('%s', exc)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    state_dir, mount_point = argv
    std_logging.basicConfig(
        level=std_logging.INFO, stream=sys.stderr,
        format='%(asctime)s %(process)d %(levelname)s %(name)s '
               '%(message)s')
    # Answers go out on the real standard output only.
    out = os.fdopen(os.dup(sys.stdout.fileno()), 'w')
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    import mfusepy

    from ebs_emulator import fuse_views

    load, save = _store(state_dir)
    table = fuse_views.ViewTable(load, save)
    stopping = threading.Event()

    def ready():
        threading.Thread(target=_serve_control, name='control',
                         args=(table, mount_point, out, stopping),
                         daemon=True).start()
        out.write('{"ok": true, "ready": true}\n')
        out.flush()

    operations = fuse_views.InstanceViews(table, on_ready=ready)
    try:
        mfusepy.FUSE(operations, mount_point, foreground=True,
                     nothreads=False, allow_other=True, direct_io=True,
                     fsname='ebs-emulator', subtype='ebs')
    except RuntimeError as exc:
        # libfuse reports the unmount that ends the loop as an error.
        if not stopping.is_set():
            std_logging.error('The FUSE loop failed: %s', exc)
            return 1
    std_logging.info('Unmounted %s', mount_point)
    return 0


if __name__ == '__main__':
    sys.exit(main())
