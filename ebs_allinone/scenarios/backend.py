"""What the EBS backend (the emulator) holds, seen through the ECS API.

The demo checks every Cinder step against the backend with the same
client the driver uses, so a check is what an operator would see in the
cloud console.
"""

import types

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import naming


class Backend(object):
    """ECS API client of the all-in-one's emulator.

    :param emulator: a started
        :class:`ebs_allinone.daemons.process.EmulatorProcess`.
    """

    def __init__(self, emulator):
        self.emulator = emulator
        conf = types.SimpleNamespace(
            ebs_endpoint=emulator.endpoint, ebs_protocol='http',
            ebs_region_id=emulator.region_id, ebs_zone_id=emulator.zone_id,
            ebs_access_key_id=emulator.access_key_id,
            ebs_access_key_secret=emulator.access_key_secret,
            ebs_api_retries=2, ebs_api_retry_interval=0.2)
        self.client = ebs_client.EBSClient(conf)

    def disk_of_volume(self, volume_id):
        """The disk tagged with the Cinder volume id; None when none."""
        disks = self.client.list_disks(tags={naming.VOLUME_TAG: volume_id})
        if len(disks) > 1:
            raise AssertionError('volume %s has %d disks: %s' % (
                volume_id, len(disks), [d['DiskId'] for d in disks]))
        return disks[0] if disks else None

    def snapshot_of(self, snapshot_id):
        snaps = self.client.list_snapshots(
            tags={naming.SNAPSHOT_TAG: snapshot_id})
        return snaps[0] if snaps else None

    @staticmethod
    def attached_instances(disk):
        return sorted(ebs_client.attached_instance_ids(disk))

    def contents(self):
        """(disk ids, snapshot ids, admin counts) left on the backend."""
        disks = [d['DiskId'] for d in self.client.list_disks()]
        snaps = [s['SnapshotId'] for s in self.client.list_snapshots()]
        counts = self.emulator.state().get('service', {})
        return disks, snaps, counts
