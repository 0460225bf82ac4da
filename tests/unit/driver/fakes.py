"""Helpers for the driver's unit tests: a driver on a mocked client and
Cinder's own fake volumes, snapshots and attachments."""

from unittest import mock

from cinder import context
from cinder import objects
from cinder.tests.unit import fake_constants as fake
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import fake_volume
from cinder.tests.unit import test
from cinder.volume import configuration
from cinder.volume import driver as cinder_driver
from oslo_serialization import jsonutils

from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver import driver as ebs_driver
from cinder_ebs_driver import host_release

BACKEND = 'ebs-unit'
DISK_ID = 'd-unit0000000000000001'
SNAP_ID = 's-unit0000000000000001'
ZONE = 'emu-zone-a'


def uuid(n):
    """A fixed uuid numbered n."""
    return '00000000-0000-4000-8000-%012d' % n


#: The encryption key id of encrypted volumes.
KEY_ID = uuid(99)


def disk(disk_id=DISK_ID, status='Available', instances=(),
         multiattach=True, category='cloud_essd', level='PL0', size=1,
         tags=None, name='disk', zone=ZONE, attached_before=True,
         source_snapshot=''):
    """A DescribeDisks item as the client returns it.

    :param attached_before: whether it was ever attached (AttachedTime).
    """
    return {
        'AttachedTime': ('2026-01-01T00:00:00Z'
                         if attached_before or instances else ''),
        'SourceSnapshotId': source_snapshot,
        'DiskId': disk_id,
        'DiskName': name,
        'Status': status,
        'Size': size,
        'Category': category,
        'PerformanceLevel': level if category == 'cloud_essd' else '',
        'MultiAttach': 'Enabled' if multiattach else 'Disabled',
        'ZoneId': zone,
        'Attachments': {'Attachment': [{'InstanceId': i}
                                       for i in instances]},
        'Tags': {'Tag': [{'TagKey': k, 'TagValue': v}
                         for k, v in (tags or {}).items()]},
    }


def ebs_snapshot(snap_id=SNAP_ID, disk_id=DISK_ID, status='accomplished',
                 size=1, tags=None, name='snap'):
    return {
        'SnapshotId': snap_id,
        'SnapshotName': name,
        'SourceDiskId': disk_id,
        'SourceDiskSize': str(size),
        'Status': status,
        'Tags': {'Tag': [{'TagKey': k, 'TagValue': v}
                         for k, v in (tags or {}).items()]},
    }


class DriverTestCase(test.TestCase):
    """A driver whose backend client is a mock with the client's API."""

    def setUp(self):
        super().setUp()
        self.ctxt = context.get_admin_context()
        self.configuration = configuration.Configuration(
            cinder_driver.volume_opts, config_group=BACKEND)
        self.driver = ebs_driver.EBSVolumeDriver(
            configuration=self.configuration)
        self.flags_backend(ebs_endpoint='127.0.0.1:1',
                           ebs_region_id='emu-region-1',
                           ebs_zone_id=ZONE,
                           ebs_access_key_id='AK',
                           ebs_access_key_secret='secret',
                           ebs_default_performance_level='PL0',
                           volume_backend_name='ebs')
        self.client = mock.create_autospec(ebs_client.EBSClient,
                                           instance=True)
        self.client.list_disks.return_value = []
        self.client.list_snapshots.return_value = []
        self.client.list_instances.return_value = []
        # The attachment records the driver reads are those of the volumes
        # the test built (the last one built with an id).
        self.built_volumes = {}
        # ECS snapshot id -> ids of the Cinder snapshots recording it.
        self.snapshot_records = {}
        self.driver.set_client(self.client,
                               attachment_records=self.attachment_records,
                               snapshot_refs=self.snapshot_refs)
        # No re-check of a kept host may outlive its test.
        self.addCleanup(host_release.stop_all)

    def flags_backend(self, **kw):
        for name, value in kw.items():
            self.override_config(name, value, group=BACKEND)

    def volume(self, extra_specs=None, multiattach=True, attachments=(),
               **updates):
        updates.setdefault('provider_id', DISK_ID)
        vol = fake_volume.fake_volume_obj(self.ctxt, multiattach=multiattach,
                                          **updates)
        vol.volume_type = fake_volume.fake_volume_type_obj(
            self.ctxt, extra_specs=dict(extra_specs or {}))
        vol.volume_attachment = objects.VolumeAttachmentList(
            objects=list(attachments))
        self.built_volumes[vol.id] = vol
        return vol

    def snapshot_refs(self, ecs_snapshot_id):
        return list(self.snapshot_records.get(ecs_snapshot_id, ()))

    def attachment_records(self, volume_id):
        volume = self.built_volumes.get(volume_id)
        return list(volume.volume_attachment) if volume else []

    def attachment(self, host, status='attached', with_connector=True,
                   attachment_id=None):
        updates = {'id': attachment_id or fake.ATTACHMENT_ID,
                   'attach_status': status,
                   'attached_host': host}
        if with_connector:
            updates['connector'] = jsonutils.dumps({'host': host})
        return fake_volume.volume_attachment_ovo(self.ctxt, **updates)

    def snapshot(self, volume=None, **updates):
        updates.setdefault('provider_id', SNAP_ID)
        snap = fake_snapshot.fake_snapshot_obj(self.ctxt, **updates)
        snap.volume = volume or self.volume()
        return snap
