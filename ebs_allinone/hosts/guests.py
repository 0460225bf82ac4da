"""Tiny QEMU guests (TCG) defined and started through libvirt.

The guest is the one of :mod:`ebs_allinone.hosts.guest_image`: it boots in a
couple of seconds, plays its role (``writer``, ``reader`` or ``idle``) on
the disk whose serial it was given, and reports on its serial console,
which is a file.
"""

import os
import re
import time
import uuid

import libvirt
from lxml import etree
from oslo_log import log as logging

from ebs_allinone.daemons import process
from ebs_allinone.hosts import guest_image

LOG = logging.getLogger(__name__)

MEMORY_MIB = 128
READY = r'EBS-GUEST-READY'


class GuestError(Exception):
    """The guest did not print what was expected, or did not go away."""


def serial_for_guest(volume_id):
    """What the guest sees of a disk serial (virtio-blk keeps 20 bytes)."""
    return volume_id[:guest_image.VIRTIO_SERIAL_LEN]


def domain_xml(name, kernel, initrd, console_path, cmdline_args):
    """A diskless, network-less TCG domain booting ``kernel``."""
    dom = etree.Element('domain', type='qemu')
    etree.SubElement(dom, 'name').text = name
    etree.SubElement(dom, 'uuid').text = str(uuid.uuid4())
    etree.SubElement(dom, 'memory', unit='MiB').text = str(MEMORY_MIB)
    etree.SubElement(dom, 'vcpu').text = '1'
    os_ = etree.SubElement(dom, 'os')
    etree.SubElement(os_, 'type', arch='x86_64', machine='pc').text = 'hvm'
    etree.SubElement(os_, 'kernel').text = kernel
    etree.SubElement(os_, 'initrd').text = initrd
    etree.SubElement(os_, 'cmdline').text = ' '.join(
        ['console=ttyS0', 'quiet', 'panic=-1'] + list(cmdline_args))
    features = etree.SubElement(dom, 'features')
    etree.SubElement(features, 'acpi')
    for event in ('on_poweroff', 'on_reboot', 'on_crash'):
        etree.SubElement(dom, event).text = 'destroy'
    devices = etree.SubElement(dom, 'devices')
    etree.SubElement(devices, 'emulator').text = '/usr/bin/qemu-system-x86_64'
    serial = etree.SubElement(devices, 'serial', type='file')
    etree.SubElement(serial, 'source', path=console_path)
    etree.SubElement(serial, 'target', port='0')
    etree.SubElement(devices, 'memballoon', model='none')
    return etree.tostring(dom, encoding='unicode', pretty_print=True)


class Guest(object):
    """A persistent domain running the tiny guest with a role.

    :param conn: an open ``libvirt.virConnect``.
    :param daemons: the :class:`libvirt_daemons.LibvirtDaemons` behind it.
    :param workdir: where the serial console file goes.
    :param role: ``writer``, ``reader``, ``appender`` or ``idle`` (see
        guest_image).
    :param volume_id: the disk the guest waits for (its serial).
    :param record: what the writer writes / the reader waits for.
    :param offset: where the appender writes.
    :param interval_ms: how often the appender writes.
    :param mib: how much of the disk the iobench role uses.
    """

    def __init__(self, conn, daemons, workdir, role='idle', volume_id='',
                 record='', prefix='ebs-guest', boot_timeout=60, offset=0,
                 interval_ms=50, mib=64):
        self.conn = conn
        self.daemons = daemons
        self.workdir = workdir
        self.role = role
        self.volume_id = volume_id
        self.record = record
        self.offset = offset
        self.interval_ms = interval_ms
        self.mib = mib
        self.boot_timeout = boot_timeout
        self.name = '%s-%s-%s' % (prefix, role, uuid.uuid4().hex[:8])
        self.console_path = os.path.join(workdir, self.name + '.console')
        self.domain = None
        self.uuid = None
        self.qemu_pid = None
        self.boot_seconds = None
        self.started_at = None

    def define(self):
        """Define the domain (persistent, not started)."""
        kernel, initrd = guest_image.ensure_image()
        args = ['ebs_role=%s' % self.role]
        if self.volume_id:
            args.append('ebs_serial=%s' % serial_for_guest(self.volume_id))
        if self.record:
            args.append('ebs_record=%s' % self.record)
        if self.role == 'appender':
            args += ['ebs_offset=%d' % self.offset,
                     'ebs_interval_ms=%d' % self.interval_ms]
        if self.role == 'iobench':
            args.append('ebs_mib=%d' % self.mib)
        xml = domain_xml(self.name, kernel, initrd, self.console_path, args)
        self.domain = self.conn.defineXML(xml)
        self.uuid = self.domain.UUIDString()

    def boot(self, wait=True, progress=None):
        """Start the domain; with ``wait``, until the guest's init runs."""
        self.started_at = time.monotonic()
        self.domain.create()
        self.qemu_pid = self.daemons.qemu_pid(self.name)
        if wait:
            self.wait_ready(progress)

    def wait_ready(self, progress=None):
        self.wait_for_console(READY, self.boot_timeout, progress)
        if self.boot_seconds is None:
            self.boot_seconds = time.monotonic() - self.started_at
        return self.boot_seconds

    def console(self):
        try:
            with open(self.console_path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def wait_for_console(self, pattern, timeout=30, progress=None):
        """Wait for a console line matching ``pattern``; return the match.

        :param progress: called with the seconds waited so far.
        :raises GuestError: not within ``timeout`` seconds.
        """
        regex = re.compile(pattern)
        start = time.monotonic()
        while True:
            match = regex.search(self.console())
            if match:
                return match
            waited = time.monotonic() - start
            if waited > timeout:
                raise GuestError(
                    'guest %s printed no %r within %ss; console:\n%s\n'
                    'QEMU log:\n%s' % (self.name, pattern, timeout,
                                       self.console(),
                                       self.daemons.domain_log(self.name)))
            if progress is not None:
                progress(waited)
            time.sleep(0.05)

    def remove(self):
        """Destroy and undefine the domain; wait for its QEMU to exit.

        :raises GuestError: QEMU is still running.
        """
        if self.domain is None:
            return
        try:
            if self.domain.isActive():
                self.domain.destroy()
            self.domain.undefine()
        except libvirt.libvirtError:
            if self.domain_exists():
                raise
        if self.qemu_pid and not process.wait_gone(self.qemu_pid, 15):
            raise GuestError('QEMU of %s (pid %d) is still running'
                             % (self.name, self.qemu_pid))

    def domain_exists(self):
        try:
            self.conn.lookupByName(self.name)
        except libvirt.libvirtError:
            return False
        return True
