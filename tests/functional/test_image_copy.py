"""Image <-> volume copies through Cinder's generic attach path.

The driver has no image-specific code: Cinder's base driver
(``copy_image_to_volume`` / ``copy_volume_to_image``) attaches the volume
to the cinder-volume host itself with ``initialize_connection`` and that
host's connector (the emulator's last instance, mapped by the harness),
opens the ``local`` device path with os-brick, copies, then calls
``terminate_connection``. These tests check the data on the backend and
that the disk is detached from the cinder-volume host's instance after
each copy.

Only what needs root or Glance is replaced; the images are raw/bare so
that no image conversion is needed (see :meth:`TestImageCopy.setUp`).
"""

# Cinder's functional package monkey-patches with eventlet: import it first.
from cinder.tests import functional  # noqa: F401  isort:skip

import hashlib
import io
import math
import os
import socket
import uuid

from cinder import exception
from cinder.image import image_utils
from cinder.privsep import format_inspector
from cinder.tests.unit.image import fake as fake_image
from oslo_utils import units

from cinder_ebs_driver import driver as ebs_driver
from tests.functional import cinder_harness

CHUNK = units.Mi
MARK = b'image-data-at-offset-zero'
OTHER = b'image-data-further-in'
# Past the first chunk, so that data is not only at offset 0.
OFFSET = 5 * units.Mi
IMAGE_SIZE = 6 * units.Mi


def make_image_data():
    data = bytearray(IMAGE_SIZE)
    data[:len(MARK)] = MARK
    data[OFFSET:OFFSET + len(OTHER)] = OTHER
    return bytes(data)


class RecordingImageService(fake_image._FakeImageService):
    """Cinder's fake Glance, keeping what is uploaded.

    Cinder's fake ignores the data given to ``update``; this one reads it
    (as Glance would) and keeps its length, its SHA-256 and its non-zero
    chunks.
    """

    def __init__(self):
        super().__init__()
        # The base class sets a MagicMock here, which Cinder's
        # TemporaryImages would take for its registry of downloaded
        # images (and hand a mock instead of a path to the copy).
        self.temp_images = None
        self.uploads = {}

    def update(self, context, image_id, metadata, data=None,
               purge_props=False, store_id=None, base_image_ref=None):
        image = super().update(context, image_id, metadata,
                               purge_props=purge_props, store_id=store_id,
                               base_image_ref=base_image_ref)
        if data is not None:
            digest = hashlib.sha256()
            chunks = {}
            length = 0
            while True:
                chunk = data.read(CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                if chunk.count(0) != len(chunk):
                    chunks[length] = chunk
                length += len(chunk)
            self.uploads[image_id] = {'size': length,
                                      'sha256': digest.hexdigest(),
                                      'chunks': chunks}
            image['status'] = 'active'
        return image


_real_qemu_img_info = image_utils.qemu_img_info


def unprivileged_qemu_img_info(path, run_as_root=True, **kwargs):
    """``qemu-img info`` run as the test user (it only reads the file)."""
    return _real_qemu_img_info(path, run_as_root=False, **kwargs)


def raw_copy(prefix, source, dest, out_format, out_subformat=None,
             src_format=None, run_as_root=True, cipher_spec=None,
             passphrase_file=None, compress=False, src_passphrase_file=None,
             disable_sparse=False, src_img_info=None, skip_create=False):
    """``qemu-img convert`` of a raw image to a raw device: a plain copy."""
    src_format = src_format or (src_img_info and src_img_info.file_format)
    if (out_format, src_format) != ('raw', 'raw') or cipher_spec:
        raise exception.ImageUnacceptable(
            image_id=source,
            reason='only raw to raw copies can run without qemu-img as root')
    size_in_m = math.ceil(os.path.getsize(source) / units.Mi)
    cinder_harness.copy_device(source, dest, size_in_m)


class TestImageCopy(cinder_harness.EBSFunctionalTestBase):

    def setUp(self):
        # No Glance: Cinder's fake image service, the same way Cinder's unit
        # tests stub it (fake_image.mock_image_service), but with our own
        # instance. Patched before the services start: cinder-api's volume
        # API keeps the image service it gets when it is built.
        self._images = RecordingImageService()
        self.patch('cinder.image.glance.get_default_image_service',
                   return_value=self._images)
        self.patch('cinder.image.glance.get_remote_image_service',
                   side_effect=lambda context, image_href: (
                       self._images, image_href))
        super().setUp()
        # The generic attach path on the cinder-volume host: its connector
        # (mapped to the emulator's last instance), os-brick's device check
        # (needs root) and dd (needs root) replaced by a Python copy.
        self.allow_host_copy()
        # Cinder's image format check runs through privsep, which Cinder's
        # test fixture forbids; its body only reads the file.
        self.patch('cinder.privsep.format_inspector.get_format_if_safe',
                   side_effect=format_inspector._get_format_if_safe)
        # "qemu-img info" runs through the root helper; it only reads the
        # downloaded image, so it runs as the test user.
        self.patch('cinder.image.image_utils.qemu_img_info',
                   side_effect=unprivileged_qemu_img_info)
        # "qemu-img convert" to the device runs through the root helper;
        # the images are raw, so it is a plain copy (anything else is
        # refused).
        self._convert = self.patch('cinder.image.image_utils._convert_image',
                                   side_effect=raw_copy)
        # Record the connections the generic path makes (the driver's
        # method still does the work).
        self._connections = []
        real_initialize = ebs_driver.EBSVolumeDriver.initialize_connection

        def recording_initialize(driver, volume, connector, *args, **kw):
            info = real_initialize(driver, volume, connector, *args, **kw)
            self._connections.append((connector, info))
            return info

        self.patch('cinder_ebs_driver.driver.EBSVolumeDriver.'
                   'initialize_connection', new=recording_initialize)

    def assert_copied_through_volume_host(self, volume_id):
        """One connection, on the cinder-volume host, gone afterwards."""
        self.assertEqual(1, len(self._connections), self._connections)
        connector, info = self._connections[0]
        self.assertEqual(socket.gethostname(), connector['host'])
        self.assertEqual('local', info['driver_volume_type'])
        volume_host = self.instance(
            cinder_harness.VOLUME_HOST_INSTANCE_INDEX)['InstanceId']
        self.assertIn('/instances/%s/' % volume_host,
                      info['data']['device_path'])
        self.assertEqual([], self.disk_instances(self.volume_disk(volume_id)))
        self.assertEqual([], self.get_attachments(volume_id))

    def test_create_volume_from_image(self):
        image = self._images.create(None, {
            'id': str(uuid.uuid4()),
            'name': 'raw-image',
            'status': 'active',
            'visibility': 'public',
            'protected': False,
            'container_format': 'bare',
            'disk_format': 'raw',
            'min_disk': 0,
            'min_ram': 0,
            'size': IMAGE_SIZE,
            'properties': {}}, io.BytesIO(make_image_data()))

        volume = self.create_volume(size=1, imageRef=image['id'])
        self.assertEqual('true', volume['bootable'])
        self.assertEqual(image['id'],
                         volume['volume_image_metadata']['image_id'])
        disk = self.volume_disk(volume['id'])
        # The image bytes are on the disk, the rest is still zero.
        self.assertEqual(make_image_data(),
                         self.read_disk(disk['DiskId'], IMAGE_SIZE))
        self.assertEqual(bytes(CHUNK),
                         self.read_disk(disk['DiskId'], CHUNK, IMAGE_SIZE))
        # Cinder's raw -> raw "conversion" wrote to the device path.
        self.assertEqual(1, self._convert.call_count)
        self.assertEqual(self._connections[0][1]['data']['device_path'],
                         self._convert.call_args[0][2])
        # Attached to the cinder-volume host for the copy, detached after.
        self.assert_copied_through_volume_host(volume['id'])

        self.delete_volume(volume['id'])

    def test_upload_volume_to_image(self):
        volume = self.create_volume(size=1)
        disk_id = self.volume_disk(volume['id'])['DiskId']
        self.write_disk(disk_id, MARK)
        self.write_disk(disk_id, OTHER, OFFSET)

        result = self.volume_action(volume['id'], 'os-volume_upload_image',
                                    {'image_name': 'from-volume',
                                     'disk_format': 'raw',
                                     'container_format': 'bare',
                                     'force': False})
        image_id = result['os-volume_upload_image']['image_id']
        volume = self.wait_volume(volume['id'], 'available',
                                  done=lambda v: v['status'] != 'uploading')

        upload = self._images.uploads.get(image_id)
        self.assertIsNotNone(upload, 'nothing was uploaded')
        self.assertEqual(units.Gi, upload['size'])
        with open(self.disk_file(disk_id), 'rb') as f:
            digest = hashlib.sha256()
            for chunk in iter(lambda: f.read(CHUNK), b''):
                digest.update(chunk)
        self.assertEqual(digest.hexdigest(), upload['sha256'])
        self.assertEqual([0, OFFSET], sorted(upload['chunks']))
        self.assertEqual(MARK, upload['chunks'][0][:len(MARK)])
        self.assertEqual(OTHER, upload['chunks'][OFFSET][:len(OTHER)])
        # A raw upload is read straight from the device: no conversion.
        self._convert.assert_not_called()
        # Attached to the cinder-volume host for the copy, detached after.
        self.assert_copied_through_volume_host(volume['id'])

        self.delete_volume(volume['id'])
