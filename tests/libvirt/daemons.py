"""A private virtlogd + libvirtd pair for tests.

Both daemons run as root in their own mount namespace where ``/run``,
``/etc/libvirt``, ``/var/lib/libvirt``, ``/var/log/libvirt`` and
``/var/cache/libvirt`` are directories of a temporary tree: no system-wide
state is read or written, and several pairs can run side by side. The
namespace goes away with its last process. The client socket lives in the
temporary tree, outside the overlaid paths, so the tests reach it with
``qemu+unix:///system?socket=...``.

QEMU's capabilities cache (``/var/cache/libvirt``) can be a persistent
directory so that later runs skip the probing.

The daemons are started with a new session (``setsid``), their PIDs are
kept and they are stopped by PID.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import fixtures

BINARIES = ('libvirtd', 'virtlogd', 'qemu-system-x86_64', 'unshare',
            'nsenter', 'losetup')

# path inside the namespace -> directory of the temporary tree
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

# QEMU runs as root: the kernel, the initramfs and the test volumes live
# in private temporary directories. No cgroups and no security driver so
# that nothing outside the namespace is touched.
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


def skip_reason():
    """Why the real libvirt tests cannot run here, or None."""
    if os.geteuid() != 0:
        return 'the libvirt tests need root'
    for name in BINARIES:
        if not find_binary(name):
            return '%s is not installed' % name
    try:
        import libvirt  # noqa: F401
    except ImportError:
        return 'libvirt-python is not installed'
    return None


def process_gone(pid):
    """True when ``pid`` has exited (gone, or a zombie nobody reaped)."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('State:'):
                    return line.split()[1] in ('Z', 'X')
    except (FileNotFoundError, ProcessLookupError):
        return True
    return False


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return process_gone(pid)


class LibvirtDaemons(fixtures.Fixture):
    """virtlogd and libvirtd in a private mount namespace.

    Attributes: ``uri`` (the client URI), ``root`` (the temporary tree),
    ``pids`` (daemon name -> PID), ``run_dir`` (what ``/run`` is inside).
    """

    def __init__(self, start_timeout=60, cache_dir=None):
        super().__init__()
        self.start_timeout = start_timeout
        self.cache_dir = cache_dir
        self.procs = {}

    def _setUp(self):
        self.root = tempfile.mkdtemp(prefix='ebs-libvirtd-')
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
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

        self.addCleanup(self._stop_all)
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
                raise RuntimeError('%s exited with %s: %s' % (
                    name, self.procs[name].returncode, self.read_log(name)))
            if time.monotonic() > deadline:
                raise RuntimeError('%s did not create %s' % (name, path))
            time.sleep(0.05)

    @property
    def pids(self):
        return {name: proc.pid for name, proc in self.procs.items()}

    def read_log(self, name):
        """The daemon's own log and its stdout, for failure reports."""
        text = ''
        for path in (os.path.join(self.log_dir, name + '.log'),
                     os.path.join(self.root, name + '.out')):
            try:
                with open(path, errors='replace') as f:
                    text += f.read()
            except OSError:
                pass
        return text

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

    def _stop_all(self):
        # libvirtd first: virtlogd still serves QEMU logs until then.
        for name in ('libvirtd', 'virtlogd'):
            proc = self.procs.get(name)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
            if not wait_gone(proc.pid, 15):
                raise RuntimeError('%s (pid %d) did not exit'
                                   % (name, proc.pid))
