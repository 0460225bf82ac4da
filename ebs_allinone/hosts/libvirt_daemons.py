"""A private virtlogd + libvirtd pair.

Both daemons run as root in their own mount namespace where ``/run``,
``/etc/libvirt``, ``/var/lib/libvirt``, ``/var/log/libvirt`` and
``/var/cache/libvirt`` are directories of a private tree: no system-wide
state is read or written, and several pairs can run side by side (one per
simulated compute host). The namespace goes away with its last process.
The client socket lives in the private tree, outside the overlaid paths,
so clients reach it with ``qemu+unix:///system?socket=...``.

QEMU's capabilities cache (``/var/cache/libvirt``) can be a persistent
directory so that later starts skip the probing.

The daemons are started in a new session (``setsid``), their PIDs are
kept and they are stopped by PID.
"""

import os
import shutil
import subprocess
import tempfile
import time

from oslo_log import log as logging

from ebs_allinone.daemons import process

LOG = logging.getLogger(__name__)

BINARIES = ('libvirtd', 'virtlogd', 'qemu-system-x86_64', 'unshare',
            'nsenter', 'losetup')
STOP_TIMEOUT = 15

# path inside the namespace -> directory of the private tree
OVERLAYS = (
    ('/run', 'run'),
    ('/etc/libvirt', 'etc'),
    ('/var/lib/libvirt', 'lib'),
    ('/var/log/libvirt', 'log'),
    ('/var/cache/libvirt', 'cache'),
)

LIBVIRTD_CONF = """\
unix_sock_dir = "%(sock_dir)s"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
"""

VIRTLOGD_CONF = """\
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
"""

# QEMU runs as root: the kernel, the initramfs and the volumes live in
# private directories. No cgroups and no security driver so that nothing
# outside the namespace is touched.
QEMU_CONF = """\
user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "logd"
"""


def find_binary(name):
    """Full path of a program, looking in the sbin directories too."""
    return shutil.which(name, path=os.environ.get('PATH', '') +
                        ':/usr/sbin:/sbin')


def unavailable_reason():
    """Why private libvirt daemons cannot run here, or None."""
    if os.geteuid() != 0:
        return 'a private libvirtd needs root'
    for name in BINARIES:
        if not find_binary(name):
            return '%s is not installed' % name
    try:
        import libvirt  # noqa: F401
    except ImportError:
        return 'libvirt-python is not installed'
    return None


class LibvirtDaemons(object):
    """virtlogd and libvirtd in a private mount namespace.

    :param cache_dir: a persistent QEMU capabilities cache (optional).
    :param prefix: of the private tree's temporary directory.

    Attributes once started: ``uri`` (the client URI), ``root`` (the
    private tree), ``pids`` (daemon name -> PID), ``run_dir`` (what
    ``/run`` is inside).
    """

    def __init__(self, start_timeout=60, cache_dir=None,
                 prefix='ebs-libvirtd-'):
        self.start_timeout = start_timeout
        self.cache_dir = cache_dir
        self.prefix = prefix
        self.procs = {}
        self.root = None
        self.uri = None

    def start(self):
        """Start both daemons; on failure, stop what was started."""
        self.root = tempfile.mkdtemp(prefix=self.prefix)
        try:
            self._start_all()
        except Exception:
            self.stop()
            raise

    def _start_all(self):
        for _target, sub in OVERLAYS:
            os.makedirs(os.path.join(self.root, sub), mode=0o755)
        self.sock_dir = os.path.join(self.root, 'sock')
        os.makedirs(self.sock_dir, mode=0o700)
        self.run_dir = os.path.join(self.root, 'run')
        self.log_dir = os.path.join(self.root, 'log')
        etc = os.path.join(self.root, 'etc')
        self._write(etc, 'libvirtd.conf',
                    LIBVIRTD_CONF % {'sock_dir': self.sock_dir})
        self._write(etc, 'virtlogd.conf', VIRTLOGD_CONF)
        self._write(etc, 'qemu.conf', QEMU_CONF)
        self.socket = os.path.join(self.sock_dir, 'libvirt-sock')
        self.uri = 'qemu+unix:///system?socket=%s' % self.socket

        sources = {sub: os.path.join(self.root, sub) for _t, sub in OVERLAYS}
        if self.cache_dir:
            # QEMU capabilities probing takes seconds; its cache is kept.
            os.makedirs(self.cache_dir, exist_ok=True)
            sources['cache'] = self.cache_dir
        mounts = ' && '.join('mount --bind %s %s' % (sources[sub], target)
                             for target, sub in OVERLAYS)
        self._start('virtlogd', [
            'unshare', '--mount', '--propagation', 'private', '--',
            'sh', '-c', '%s && exec virtlogd' % mounts])
        self._wait_for(os.path.join(self.run_dir, 'libvirt', 'virtlogd-sock'),
                       'virtlogd')
        self._start('libvirtd', [
            'nsenter', '--target', str(self.procs['virtlogd'].pid),
            '--mount', '--', 'libvirtd'])
        self._wait_for(self.socket, 'libvirtd')
        LOG.debug('libvirtd %(l)d and virtlogd %(v)d listen on %(uri)s',
                  {'l': self.procs['libvirtd'].pid,
                   'v': self.procs['virtlogd'].pid, 'uri': self.uri})

    @staticmethod
    def _write(directory, name, text):
        with open(os.path.join(directory, name), 'w') as f:
            f.write(text)

    def _start(self, name, argv):
        env = dict(os.environ)
        env['PATH'] = env.get('PATH', '') + ':/usr/sbin:/sbin'
        out = open(os.path.join(self.root, name + '.out'), 'wb')
        try:
            self.procs[name] = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, env=env)
        finally:
            out.close()

    def _wait_for(self, path, name):
        deadline = time.monotonic() + self.start_timeout
        while not os.path.exists(path):
            if self.procs[name].poll() is not None:
                # The private tree goes at the stop: the lines, not paths.
                raise process.ProcessError(
                    '%s exited with %s; the last lines of its logs:\n%s' % (
                        name, process.exit_status(
                            self.procs[name].returncode),
                        '\n'.join(self.log_lines(name))))
            if time.monotonic() > deadline:
                raise RuntimeError('%s did not create %s' % (name, path))
            time.sleep(0.05)

    @property
    def pids(self):
        return {name: proc.pid for name, proc in self.procs.items()}

    def _log_paths(self, name):
        return (os.path.join(self.log_dir, name + '.log'),
                os.path.join(self.root, name + '.out'))

    def read_log(self, name):
        """The daemon's own log and its output, for failure reports."""
        text = ''
        for path in self._log_paths(name):
            try:
                with open(path, errors='replace') as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def log_lines(self, name, count=process.LOG_LINES):
        """The last lines of the daemon's own log and of its output."""
        lines = []
        for path in self._log_paths(name):
            lines += process.last_lines(path, count)
        return lines[-count:]

    def domain_log(self, domain_name):
        path = os.path.join(self.log_dir, 'qemu', domain_name + '.log')
        try:
            with open(path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def qemu_pid(self, domain_name):
        """PID of a running domain's QEMU, from libvirt's pid file."""
        path = os.path.join(self.run_dir, 'libvirt', 'qemu',
                            domain_name + '.pid')
        with open(path) as f:
            return int(f.read().strip())

    def stop(self):
        """Stop both daemons by PID and remove the private tree.

        :raises ProcessError: a daemon did not exit.
        """
        try:
            # libvirtd first: virtlogd still serves QEMU logs until then.
            for name in ('libvirtd', 'virtlogd'):
                proc = self.procs.pop(name, None)
                if proc is not None:
                    process.stop_process(proc, name, STOP_TIMEOUT)
        finally:
            if self.root:
                shutil.rmtree(self.root, ignore_errors=True)
