"""One multi-attach disk of a private emulator, attached to N instances.

For the failover benchmark and quick experiments on the reservation data
path without Cinder: :class:`SharedDisk` starts an ``ebs-emulator`` with
its FUSE views (persistent reservations enforced), creates a multi-attach
ESSD disk through the official SDK, attaches it to every instance and
gives each instance's device path. :meth:`SharedDisk.close` detaches,
deletes and stops everything it started.
"""

import os
import shutil
import tempfile
import time
import uuid

from alibabacloud_ecs20140526 import client as ecs_client
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import models as openapi_models

from ebs_allinone.daemons import process
from ebs_emulator import config
from ebs_emulator import devices

WAIT_TIMEOUT = 30


class SharedDisk(object):
    """A started emulator and one disk attached to ``instances`` hosts."""

    def __init__(self, instances=2, size_gib=1, transition_delay=0.05):
        self.count = instances
        self.size_gib = size_gib
        self.transition_delay = transition_delay
        self.dir = None
        self.emulator = None
        self.sdk = None
        self.disk_id = None
        self.instance_ids = []
        self.paths = {}

    def start(self):
        self.dir = tempfile.mkdtemp(prefix='ebs-shared-disk-')
        key = ('SHARED%s' % uuid.uuid4().hex[:10].upper(), uuid.uuid4().hex)
        self.emulator = process.EmulatorProcess(
            os.path.join(self.dir, 'state'),
            os.path.join(self.dir, 'emulator.log'), key,
            num_instances=self.count,
            transition_delay=self.transition_delay, fuse_views='yes')
        self.emulator.start()
        self.sdk = ecs_client.Client(openapi_models.Config(
            access_key_id=key[0], access_key_secret=key[1],
            endpoint=self.emulator.endpoint, protocol='http',
            region_id=config.DEFAULT_REGION))
        self.instance_ids = [
            i['InstanceId']
            for i in config.default_instances(self.count)]
        self.disk_id = self.sdk.create_disk(ecs_models.CreateDiskRequest(
            region_id=config.DEFAULT_REGION, zone_id=config.DEFAULT_ZONE,
            size=self.size_gib, disk_category='cloud_essd',
            performance_level='PL0', multi_attach='Enabled')).body.disk_id
        self._wait(lambda: self._disk()['Status'] == 'Available')
        for instance_id in self.instance_ids:
            self.sdk.attach_disk(ecs_models.AttachDiskRequest(
                disk_id=self.disk_id, instance_id=instance_id))
            path = devices.device_path(self.emulator.state_dir, instance_id,
                                       self.disk_id)
            self._wait(lambda: os.path.exists(path))
            self.paths[instance_id] = path
        return self

    def reservations(self):
        """The disk's reservation report (see ``resv-report``)."""
        return self.emulator.admin('GET', 'reservations')['disks'].get(
            self.disk_id)

    def _disk(self):
        body = self.sdk.describe_disks(ecs_models.DescribeDisksRequest(
            region_id=config.DEFAULT_REGION,
            disk_ids='["%s"]' % self.disk_id)).body.to_map()
        return body['Disks']['Disk'][0]

    @staticmethod
    def _wait(done):
        deadline = time.monotonic() + WAIT_TIMEOUT
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError('the emulator did not get there in %ds'
                                   % WAIT_TIMEOUT)
            time.sleep(0.02)

    def close(self):
        try:
            if self.disk_id and self.emulator and self.emulator.running():
                for instance_id in list(self.paths):
                    self.sdk.detach_disk(ecs_models.DetachDiskRequest(
                        disk_id=self.disk_id, instance_id=instance_id))
                self._wait(lambda: not self._disk()['Attachments'][
                    'Attachment'])
                self.sdk.delete_disk(ecs_models.DeleteDiskRequest(
                    disk_id=self.disk_id))
        finally:
            if self.emulator:
                self.emulator.stop()
            if self.dir:
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
