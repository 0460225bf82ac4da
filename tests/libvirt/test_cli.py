"""``ebs-nova-shim`` against a real guest, one process per command."""

import json
import os
import subprocess
import sys

from oslo_utils import uuidutils

from nova_shim import domain_disks
from tests.libvirt import base


class CommandLineTest(base.LibvirtTestCase):

    def shim(self, *args):
        state = os.path.join(self.workdir, 'volumes.json')
        proc = subprocess.run(
            [sys.executable, '-m', 'nova_shim.cmd', '--connect',
             self.libvirtd.uri, '--local-state', state, '--host',
             'host-cli', '--my-ip', '127.0.0.1'] + list(args),
            capture_output=True, text=True)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def test_attach_and_detach_from_separate_processes(self):
        volume_id = uuidutils.generate_uuid()
        vol = self.loop_volume('cli')
        (dom,) = self.start_guests(('idle', volume_id, ''))

        self.shim('local', 'add', volume_id, vol.path, '--multiattach')
        result = self.shim('attach', dom.name, volume_id)
        self.assertEqual('vdb', result['target_dev'])
        dom.wait_for_console(r'EBS-GUEST-DISK vd', 30)
        found = domain_disks.find_volume_disk(dom.domain.XMLDesc(0),
                                              volume_id)
        self.assertTrue(found['shareable'])
        listed = self.shim('local', 'list')
        self.assertEqual([result['attachment_id']],
                         listed[volume_id]['attachments'])

        detached = self.shim('detach', dom.uuid, volume_id)
        self.assertEqual(result['attachment_id'], detached['attachment_id'])
        self.assertTrue(detached['disconnected'])
        dom.wait_for_console(r'EBS-GUEST-DISK-GONE vd', 30)
        self.assertIsNone(domain_disks.find_volume_disk(
            dom.domain.XMLDesc(0), volume_id))
        self.assertEqual([], self.shim('local', 'list')[volume_id][
            'attachments'])
        self.shim('local', 'remove', volume_id)
