"""A tiny Linux guest: Debian's cloud kernel plus a busybox initramfs.

The kernel comes from the versioned package that ``linux-image-cloud-amd64``
depends on, fetched with ``apt-get download`` and unpacked with ``dpkg -x``.
The initramfs holds busybox-static, the six virtio modules needed to see a
virtio disk, and an init script that waits for a hot-plugged disk (found by
its serial) and plays a role given on the kernel command line:

* ``writer`` writes one 512-byte record with ``O_DIRECT``;
* ``reader`` polls the disk with ``O_DIRECT`` until the record appears and
  prints it;
* ``appender`` writes a numbered record every ``ebs_interval_ms``
  milliseconds at ``ebs_offset`` with ``O_DIRECT`` and reports each
  write's result at once (a small static program, ``ebs-pwrite``, built
  with gcc: busybox's dd falls back to buffered writes on an unaligned
  buffer, which report errors late);
* ``iobench`` measures the disk with ``O_DIRECT`` (see
  :mod:`ebs_allinone.hosts.guest_iobench`) each time one is plugged in, using
  ``ebs_mib`` MiB of it;
* ``idle`` only reports the disk; without a serial, any disk (the
  guests of ``ebs-allinone serve``, into which the user attaches volumes).

Everything it prints goes to the serial console (a file), which the
caller reads. Images are cached (``~/.cache/cinder-ebs-driver/guest`` or
``$EBS_GUEST_CACHE_DIR``) so that later runs start at once.
"""

import glob
import gzip
import hashlib
import lzma
import os
import shutil
import subprocess
import tempfile

from ebs_allinone.hosts import guest_iobench

META_PACKAGE = 'linux-image-cloud-amd64'
BUSYBOX = '/bin/busybox'

# insmod order: the package ships no modules.dep.
MODULES = ('virtio_ring', 'virtio', 'virtio_pci_modern_dev',
           'virtio_pci_legacy_dev', 'virtio_pci', 'virtio_blk')

# virtio-blk exposes at most 20 bytes of a disk serial to the guest.
VIRTIO_SERIAL_LEN = 20

INIT_SCRIPT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
for m in %(modules)s; do
    insmod /lib/modules/$m.ko || echo "EBS-GUEST-ERROR insmod $m"
done

role=idle
serial=
record=
offset=0
interval=50
mib=64
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        ebs_role=*) role=${arg#ebs_role=} ;;
        ebs_serial=*) serial=${arg#ebs_serial=} ;;
        ebs_record=*) record=${arg#ebs_record=} ;;
        ebs_offset=*) offset=${arg#ebs_offset=} ;;
        ebs_interval_ms=*) interval=${arg#ebs_interval_ms=} ;;
        ebs_mib=*) mib=${arg#ebs_mib=} ;;
    esac
done
echo "EBS-GUEST-READY role=$role"

find_disk() {
    for s in /sys/block/vd*/serial; do
        [ -e "$s" ] || continue
        if [ -z "$serial" ] || [ "$(cat "$s")" = "$serial" ]; then
            basename "$(dirname "$s")"
            return 0
        fi
    done
    return 1
}

while :; do
    while ! name=$(find_disk); do sleep 0.05; done
    dev=/dev/$name
    while [ ! -b "$dev" ]; do sleep 0.05; done
    echo "EBS-GUEST-DISK $name"
    case "$role" in
        writer)
            printf '%%-511s\n' "$record" > /tmp/record
            if dd if=/tmp/record of="$dev" bs=512 count=1 oflag=direct \
                    conv=notrunc 2>/dev/null; then
                echo "EBS-GUEST-WROTE $record"
            else
                echo "EBS-GUEST-ERROR write $dev"
            fi
            ;;
        appender)
            /bin/ebs-pwrite "$dev" "$name" "$offset" "$record" "$interval"
            ;;
        iobench)
            /bin/ebs-iobench "$dev" "$mib"
            ;;
        reader)
            while [ -b "$dev" ]; do
                got=$(dd if="$dev" bs=512 count=1 iflag=direct 2>/dev/null \
                      | tr -d '\000' | head -n 1)
                if [ -n "$got" ] && [ "${got%%%% *}" = "$record" ]; then
                    echo "EBS-GUEST-READ ${got%%%% *}"
                    break
                fi
                sleep 0.05
            done
            ;;
    esac
    while [ -e "/sys/block/$name" ]; do sleep 0.05; done
    echo "EBS-GUEST-DISK-GONE $name"
done
"""


# The appender's writer: aligned buffer, O_DIRECT|O_DSYNC, one line per
# write ("EBS-GUEST-WRITE-OK <seq>" or "EBS-GUEST-WRITE-FAIL <seq>
# <errno>"), until the disk is unplugged.
PWRITE_SOURCE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char sys_path[256];
    void *buf;
    long seq = 0;
    int fd;

    if (argc != 6) {
        fprintf(stderr, "usage: ebs-pwrite DEV NAME OFFSET RECORD MS\n");
        return 2;
    }
    snprintf(sys_path, sizeof(sys_path), "/sys/block/%s", argv[2]);
    if (posix_memalign(&buf, 4096, 4096))
        return 1;
    fd = open(argv[1], O_WRONLY | O_DIRECT | O_DSYNC);
    if (fd < 0) {
        printf("EBS-GUEST-ERROR open %s %d\n", argv[1], errno);
        return 1;
    }
    while (access(sys_path, F_OK) == 0) {
        struct timespec pause = { 0, atol(argv[5]) * 1000000L };

        seq++;
        memset(buf, 0, 4096);
        snprintf(buf, 512, "%s seq=%ld\n", argv[4], seq);
        if (pwrite(fd, buf, 4096, atoll(argv[3])) == 4096)
            printf("EBS-GUEST-WRITE-OK %ld\n", seq);
        else
            printf("EBS-GUEST-WRITE-FAIL %ld %d\n", seq, errno);
        fflush(stdout);
        nanosleep(&pause, NULL);
    }
    close(fd);
    return 0;
}
"""


class GuestImageUnavailable(Exception):
    """The kernel package cannot be found or fetched."""


def cache_dir():
    return os.environ.get('EBS_GUEST_CACHE_DIR') or os.path.join(
        os.path.expanduser('~'), '.cache', 'cinder-ebs-driver', 'guest')


def qemu_cache_dir():
    """Where libvirt keeps QEMU's capabilities, next to the image cache."""
    return os.path.join(os.path.dirname(cache_dir()), 'libvirt-cache')


def kernel_package():
    """The versioned kernel package the meta package depends on."""
    try:
        out = subprocess.run(['apt-cache', 'depends', META_PACKAGE],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise GuestImageUnavailable(
            'cannot resolve %s with apt-cache: %s' % (META_PACKAGE, exc))
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith('Depends:') and 'linux-image-' in line:
            return line.split(':', 1)[1].strip()
    raise GuestImageUnavailable(
        'apt-cache knows no kernel behind %s (run apt-get update?)'
        % META_PACKAGE)


def _fetch_kernel(package, dest):
    """Download and unpack ``package``; keep vmlinuz and the modules."""
    work = tempfile.mkdtemp(prefix='kernel-', dir=os.path.dirname(dest))
    try:
        res = subprocess.run(['apt-get', 'download', '-q', package],
                             cwd=work, capture_output=True, text=True)
        debs = glob.glob(os.path.join(work, '*.deb'))
        if res.returncode or not debs:
            raise GuestImageUnavailable('apt-get download %s failed: %s'
                                        % (package, res.stderr.strip()))
        root = os.path.join(work, 'root')
        subprocess.run(['dpkg', '-x', debs[0], root], check=True)
        staged = os.path.join(work, 'staged')
        os.makedirs(os.path.join(staged, 'modules'))
        vmlinuz = glob.glob(os.path.join(root, 'boot', 'vmlinuz-*'))
        if not vmlinuz:
            raise GuestImageUnavailable('%s has no vmlinuz' % package)
        shutil.copy(vmlinuz[0], os.path.join(staged, 'vmlinuz'))
        for name in MODULES:
            _copy_module(root, name, os.path.join(staged, 'modules'))
        os.rename(staged, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _copy_module(root, name, dest_dir):
    found = None
    for suffix in ('.ko', '.ko.xz', '.ko.gz'):
        hits = glob.glob(os.path.join(root, 'lib', 'modules', '*', 'kernel',
                                      '**', name + suffix), recursive=True)
        if hits:
            found = hits[0]
            break
    if not found:
        raise GuestImageUnavailable('kernel module %s not found' % name)
    target = os.path.join(dest_dir, name + '.ko')
    if found.endswith('.xz'):
        with lzma.open(found) as src, open(target, 'wb') as dst:
            shutil.copyfileobj(src, dst)
    elif found.endswith('.gz'):
        with gzip.open(found) as src, open(target, 'wb') as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copy(found, target)


def _init_script():
    return INIT_SCRIPT % {'modules': ' '.join(MODULES)}


def _build_initramfs(kernel_dir, dest):
    """Pack busybox, the modules and /init into a gzipped newc cpio."""
    work = tempfile.mkdtemp(prefix='initramfs-', dir=os.path.dirname(dest))
    try:
        root = os.path.join(work, 'root')
        for sub in ('bin', 'dev', 'proc', 'sys', 'tmp', 'lib/modules'):
            os.makedirs(os.path.join(root, sub))
        shutil.copy(BUSYBOX, os.path.join(root, 'bin', 'busybox'))
        for name in MODULES:
            shutil.copy(os.path.join(kernel_dir, 'modules', name + '.ko'),
                        os.path.join(root, 'lib', 'modules'))
        _build_static(PWRITE_SOURCE, os.path.join(root, 'bin', 'ebs-pwrite'),
                      work)
        _build_static(guest_iobench.SOURCE,
                      os.path.join(root, 'bin', 'ebs-iobench'), work)
        init = os.path.join(root, 'init')
        with open(init, 'w') as f:
            f.write(_init_script())
        os.chmod(init, 0o755)
        names = []
        for top, dirs, files in os.walk(root):
            for entry in sorted(dirs + files):
                names.append(os.path.relpath(os.path.join(top, entry), root))
        cpio = subprocess.run(
            [BUSYBOX, 'cpio', '-o', '-H', 'newc'], cwd=root,
            input=('\n'.join(names) + '\n').encode(), capture_output=True,
            check=True)
        tmp = os.path.join(work, 'initramfs.img')
        with gzip.open(tmp, 'wb') as f:
            f.write(cpio.stdout)
        os.rename(tmp, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_static(code, dest, work):
    """Compile a guest program, statically (the guest has no libc)."""
    source = os.path.join(work, os.path.basename(dest) + '.c')
    with open(source, 'w') as f:
        f.write(code)
    try:
        subprocess.run(['gcc', '-static', '-O2', '-o', dest, source],
                       capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise GuestImageUnavailable(
            'cannot build %s with gcc -static (gcc and '
            'libc6-dev are needed): %s' % (os.path.basename(dest),
                                           getattr(exc, 'stderr', exc)))


_IMAGE = {}


def ensure_image():
    """Return ``(kernel path, initramfs path)``, building what is missing.

    The answer is remembered for the life of the process.

    :raises GuestImageUnavailable: busybox or the kernel package is missing.
    """
    if 'paths' not in _IMAGE:
        _IMAGE['paths'] = _ensure_image()
    return _IMAGE['paths']


def _ensure_image():
    if not os.access(BUSYBOX, os.X_OK):
        raise GuestImageUnavailable('%s is missing (busybox-static)'
                                    % BUSYBOX)
    base = cache_dir()
    os.makedirs(base, exist_ok=True)
    try:
        package = kernel_package()
    except GuestImageUnavailable:
        # Offline, or no package lists: a kernel fetched earlier will do.
        cached = sorted(glob.glob(os.path.join(base, 'linux-image-*',
                                               'vmlinuz')))
        if not cached:
            raise
        package = os.path.basename(os.path.dirname(cached[-1]))
    kernel_dir = os.path.join(base, package)
    if not os.path.isdir(kernel_dir):
        _fetch_kernel(package, kernel_dir)
    digest = hashlib.sha256(_init_script().encode())
    digest.update(PWRITE_SOURCE.encode())
    digest.update(guest_iobench.SOURCE.encode())
    with open(BUSYBOX, 'rb') as f:
        digest.update(f.read())
    initramfs = os.path.join(
        kernel_dir, 'initramfs-%s.img' % digest.hexdigest()[:16])
    if not os.path.exists(initramfs):
        _build_initramfs(kernel_dir, initramfs)
    return os.path.join(kernel_dir, 'vmlinuz'), initramfs
