"""Errors of the compute-side volume API."""


class ShimError(Exception):
    """Base class: the message is meant for the operator."""


class VolumeNotShareable(ShimError):
    """A second guest was asked for a volume that is not multi-attach."""

    def __init__(self, volume_id, users):
        self.volume_id = volume_id
        self.users = list(users)
        super().__init__(
            'volume %s is not multi-attach and is already attached to %s; '
            'a second guest can only use a multi-attach volume'
            % (volume_id, ', '.join(self.users)))


class HypervisorCannotShare(ShimError):
    """libvirt or QEMU is older than what shared disks need."""


class VolumeAlreadyAttached(ShimError):
    def __init__(self, volume_id, instance, target_dev):
        super().__init__('volume %s is already attached to %s as %s'
                         % (volume_id, instance, target_dev))


class VolumeNotAttached(ShimError):
    def __init__(self, volume_id, instance):
        super().__init__('volume %s is not attached to %s'
                         % (volume_id, instance))


class NoFreeTargetDevice(ShimError):
    """Every name of the bus's prefix is taken."""


class DeviceDetachFailed(ShimError):
    """The guest did not release the disk in time."""


class GuestNotFound(ShimError):
    def __init__(self, instance):
        super().__init__('no libvirt domain named or with UUID %s'
                         % instance)


class AttachmentNotFound(ShimError):
    """The volume API knows no such attachment."""
