"""Whether the simulated hosts can run guests here, and how to make them."""

from ebs_allinone.hosts import guest_image
from ebs_allinone.hosts import libvirt_daemons


def unavailable_reason():
    """Why there can be no guests on this machine, or None.

    Builds (or finds in its cache) the guest image, which needs the
    kernel package from the distribution's archive the first time.
    """
    reason = libvirt_daemons.unavailable_reason()
    if reason:
        return reason
    try:
        guest_image.ensure_image()
    except guest_image.GuestImageUnavailable as exc:
        return 'no guest image: %s' % exc
    return None


def host_factory():
    """``f(stack, name, instance_id)`` making a host with a guest."""
    from ebs_allinone.hosts import guest as guest_host

    def make(stack, name, instance_id):
        return guest_host.GuestHost(name, instance_id,
                                    stack.compute_volume_api())
    return make
