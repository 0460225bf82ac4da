"""The volume service as the compute side sees it.

:class:`VolumeAPI` is the interface the attach code uses. Two
implementations:

* :class:`nova_shim.volume_api.cinder.CinderVolumeAPI` talks to Cinder
  with python-cinderclient and makes Nova 34's calls, each at the
  microversion Nova uses for it;
* :class:`nova_shim.volume_api.local.LocalVolumes` serves ``local``
  connection info for block devices or files of this machine. It is meant
  for standalone use of the shim and for tests that run without Cinder; it
  keeps Cinder's attachment rules (one guest per volume unless the volume
  is multi-attach).

The calls, in Nova's order (``nova.compute.api``, ``nova.virt.block_device``
and the libvirt driver): attach is :meth:`VolumeAPI.get_volume`, a reserved
attachment without a connector (:meth:`VolumeAPI.attachment_create`), the
volume read again at the shared-targets microversion, the attachment
updated with the host connector (:meth:`VolumeAPI.attachment_update`, which
answers the connection info), then :meth:`VolumeAPI.attachment_complete`;
detach is :meth:`VolumeAPI.get_volume`, :meth:`VolumeAPI.begin_detaching`,
the shared-targets read, for a multi-attach volume one more read (who else
on this host uses it), then :meth:`VolumeAPI.attachment_delete`.
"""

import abc


class VolumeAPI(metaclass=abc.ABCMeta):
    """What the attach code needs from the volume service."""

    @abc.abstractmethod
    def get_volume(self, volume_id, shared_targets=False):
        """Describe a volume.

        :param shared_targets: read it as Nova's compute does right before
            it connects or disconnects the volume.
        :returns: ``{'id', 'multiattach': bool, 'status', 'attachments':
            [{'id', 'instance_uuid', 'host'}]}``.
        """

    @abc.abstractmethod
    def attachment_create(self, volume_id, instance_uuid, mode='rw'):
        """Reserve the volume for ``instance_uuid`` (no connector yet).

        :returns: ``{'id': attachment id}``.
        """

    @abc.abstractmethod
    def attachment_update(self, attachment_id, connector, mountpoint=None):
        """Give the reserved attachment the host ``connector``.

        :param mountpoint: the guest device (``/dev/vdb``), sent inside the
            connector as Nova does.
        :returns: ``{'id', 'connection_info': dict}``.
        """

    @abc.abstractmethod
    def attachment_get(self, attachment_id):
        """Describe an attachment.

        :returns: ``{'id', 'volume_id', 'instance_uuid',
            'connection_info'}``.
        :raises AttachmentNotFound: no such attachment.
        """

    @abc.abstractmethod
    def attachment_complete(self, attachment_id):
        """Mark the attachment attached (the volume becomes in-use)."""

    @abc.abstractmethod
    def attachment_delete(self, attachment_id):
        """Delete the attachment; the backend may drop the host export."""

    @abc.abstractmethod
    def begin_detaching(self, volume_id):
        """Mark the volume detaching, before the guest lets it go."""

    @abc.abstractmethod
    def roll_detaching(self, volume_id):
        """Undo :meth:`begin_detaching` after a detach that failed."""
