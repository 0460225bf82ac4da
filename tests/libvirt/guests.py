"""Tiny QEMU guests (TCG) defined and started through libvirt."""

import os
import re
import time
import uuid

import fixtures
import libvirt
from lxml import etree

from tests.libvirt import daemons
from tests.libvirt import guest_image

MEMORY_MIB = 128


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


class GuestFixture(fixtures.Fixture):
    """A persistent domain running the tiny guest with a role.

    :param role: ``writer``, ``reader`` or ``idle`` (see guest_image).
    :param volume_id: the disk the guest waits for (its serial).
    :param record: what the writer writes / the reader waits for.
    """

    def __init__(self, conn, libvirtd, workdir, role='idle', volume_id='',
                 record='', start=True, wait=True, boot_timeout=60):
        super().__init__()
        self.conn = conn
        self.libvirtd = libvirtd
        self.workdir = workdir
        self.role = role
        self.volume_id = volume_id
        self.record = record
        self.start = start
        self.wait = wait
        self.boot_timeout = boot_timeout
        self.qemu_pid = None
        self.boot_seconds = None

    def _setUp(self):
        kernel, initrd = guest_image.ensure_image()
        self.name = 'ebs-test-%s-%s' % (self.role, uuid.uuid4().hex[:8])
        self.console_path = os.path.join(self.workdir, self.name + '.console')
        args = ['ebs_role=%s' % self.role]
        if self.volume_id:
            args.append('ebs_serial=%s' % serial_for_guest(self.volume_id))
        if self.record:
            args.append('ebs_record=%s' % self.record)
        xml = domain_xml(self.name, kernel, initrd, self.console_path, args)
        self.domain = self.conn.defineXML(xml)
        self.addCleanup(self._remove)
        self.uuid = self.domain.UUIDString()
        if self.start:
            self.boot(wait=self.wait)

    def boot(self, wait=True):
        """Start the domain; with ``wait``, until the guest's init runs."""
        self.started_at = time.monotonic()
        self.domain.create()
        self.qemu_pid = self.libvirtd.qemu_pid(self.name)
        if wait:
            self.wait_ready()

    def wait_ready(self):
        self.wait_for_console(r'EBS-GUEST-READY', self.boot_timeout)
        if self.boot_seconds is None:
            self.boot_seconds = time.monotonic() - self.started_at

    def console(self):
        try:
            with open(self.console_path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def wait_for_console(self, pattern, timeout=30):
        """Wait for a console line matching ``pattern``; return the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.console())
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(
                    'guest %s printed no %r within %ss; console:\n%s\n'
                    'QEMU log:\n%s' % (self.name, pattern, timeout,
                                       self.console(),
                                       self.libvirtd.domain_log(self.name)))
            time.sleep(0.05)

    def _remove(self):
        try:
            if self.domain.isActive():
                self.domain.destroy()
            self.domain.undefine()
        except libvirt.libvirtError:
            if self.domain_exists():
                raise
        if self.qemu_pid and not daemons.wait_gone(self.qemu_pid, 15):
            raise AssertionError('QEMU of %s (pid %d) is still running'
                                 % (self.name, self.qemu_pid))

    def domain_exists(self):
        try:
            self.conn.lookupByName(self.name)
        except libvirt.libvirtError:
            return False
        return True
