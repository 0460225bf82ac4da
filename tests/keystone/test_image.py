"""The all-in-one with Glance: images to volumes and back, for real.

``serve --auth keystone --image`` runs a private Glance in the catalog.
Through the ``openstack`` CLI: a raw image is uploaded, a volume is
created from it (Cinder downloads the image and writes it through the
driver's attachment of the volume to the cinder-volume host's emulator
instance), its bytes are checked on the backend, the volume is uploaded
to a new image and that image's checksum is checked against the bytes
the volume must hold: the image, then zeros to the volume's size.
"""

import hashlib
import os

from ebs_emulator import blockstore
from tests.keystone import base

GIB = 1024 ** 3
MIB = 1024 ** 2
# Not a whole number of MiB: the copy must not round it away.
IMAGE_SIZE = 3 * MIB + 17
MARK = b'ebs-allinone-image-start'
END_MARK = b'ebs-allinone-image-end'
# PL0 disks start at 1 GiB (the default PL1 at 20).
SMALL = 'ebs:performance_level=PL0'
VOLUME_GIB = 1


def image_data():
    data = bytearray(os.urandom(IMAGE_SIZE))
    data[:len(MARK)] = MARK
    data[-len(END_MARK):] = END_MARK
    return bytes(data)


def md5_padded(data, size):
    """MD5 of ``data`` followed by zeros up to ``size`` bytes."""
    digest = hashlib.md5(data, usedforsecurity=False)
    zeros = bytes(MIB)
    left = size - len(data)
    while left > 0:
        digest.update(zeros[:min(left, MIB)])
        left -= MIB
    return digest.hexdigest()


class GlanceServeTest(base.KeystoneServeBase):

    SERVE_ARGS = base.KeystoneServeBase.SERVE_ARGS + ('--image',)

    def image_status(self, image):
        return self.openstack_json('image', 'show', image)['status']

    def wait_image(self, image, timeout=base.WAIT_TIMEOUT):
        def check():
            status = self.image_status(image)
            self.assertNotIn(status, ('killed', 'deleted'), image)
            return status == 'active'
        self.wait_for(check, 'image %s not active' % image, timeout)
        return self.openstack_json('image', 'show', image)

    def wait_volume(self, volume, status):
        def check():
            shown = self.openstack_json('volume', 'show', volume)
            self.assertFalse(shown['status'].startswith('error'),
                             'volume %s: %s' % (volume, shown['status']))
            return shown if shown['status'] == status else None
        return self.wait_for(check, 'volume %s not %s' % (volume, status))

    def test_image_service_is_in_the_catalog(self):
        services = {entry['Type']: entry['Name'] for entry in
                    self.openstack_json('catalog', 'list')}
        self.assertEqual('glance', services.get('image'))
        self.openstack('image', 'list')

    def test_volume_from_image_and_back(self):
        data = image_data()
        path = os.path.join(self.run_dir, 'test-image.raw')
        with open(path, 'wb') as f:
            f.write(data)
        self.addCleanup(os.unlink, path)

        image = self.openstack_json(
            'image', 'create', '--disk-format', 'raw', '--container-format',
            'bare', '--file', path, 'raw-image')
        self.addCleanup(self.openstack, 'image', 'delete', image['id'],
                        check=False)
        image = self.wait_image(image['id'])
        self.assertEqual(IMAGE_SIZE, image['size'])
        self.assertEqual(hashlib.md5(data, usedforsecurity=False).hexdigest(),
                         image['checksum'])

        self.openstack('volume', 'type', 'create', '--property', SMALL,
                       'small-from-image')
        self.addCleanup(self.openstack, 'volume', 'type', 'delete',
                        'small-from-image', check=False)
        volume = self.openstack_json(
            'volume', 'create', '--image', image['id'], '--type',
            'small-from-image', '--size', str(VOLUME_GIB), 'from-image')
        self.addCleanup(self.openstack, 'volume', 'delete', volume['id'],
                        check=False)
        shown = self.wait_volume(volume['id'], 'available')
        self.assertEqual('true', str(shown['bootable']).lower())

        # The bytes on the backend: the image, then zeros.
        disk_id = shown['provider_id']
        store = blockstore.BlockStore(os.path.join(self.run_dir, 'emulator'))
        with open(store.disk_path(disk_id), 'rb') as f:
            self.assertEqual(data, f.read(IMAGE_SIZE))
            self.assertEqual(bytes(MIB), f.read(MIB))
        # The copy's attachment to the cinder-volume host is gone.
        attached = os.path.join(self.run_dir, 'emulator', 'instances')
        links = [name for _d, _s, names in os.walk(attached)
                 for name in names if disk_id[2:] in name]
        self.assertEqual([], links)

        uploaded = self.openstack_json(
            'image', 'create', '--volume', volume['id'], 'from-volume')
        self.addCleanup(self.openstack, 'image', 'delete',
                        uploaded['image_id'], check=False)
        copy = self.wait_image(uploaded['image_id'],
                               timeout=base.WAIT_TIMEOUT * 2)
        self.wait_volume(volume['id'], 'available')
        self.assertEqual(VOLUME_GIB * GIB, copy['size'])
        self.assertEqual(md5_padded(data, VOLUME_GIB * GIB),
                         copy['checksum'])
