"""The rules of the cinder-api guard filter.

Each ``check_*`` function looks at one request shape (see
:mod:`~cinder_ebs_driver.api_guard.classify`) and returns None when the
request may go on, or the message of the HTTP 400 the guard answers.
Lookups use Cinder's own functions with the caller's RequestContext, so a
caller only learns about volumes and types it may see. A failing lookup
(unknown type or volume, database trouble) raises; the filter then passes
the request on and Cinder gives its usual answer.
"""

from cinder import objects
from cinder.policies import type_extra_specs as extra_specs_policy
from cinder.policies import volume_type as volume_type_policy
from cinder.volume import volume_types
from oslo_log import log as logging

from cinder_ebs_driver.i18n import _

LOG = logging.getLogger(__name__)

MULTIATTACH_KEY = 'multiattach'
# Cinder sets volume.multiattach from the type with an exact comparison
# against this string (volume create flow, manage flow and retype), so a
# type is multi-attach here exactly when its volumes would be.
MULTIATTACH_TRUE = '<is> True'

# The extra specs of a disk's category and performance level, which ECS
# never changes for a multi-attach disk.
DISK_SPEC_KEYS = ('ebs:category', 'ebs:performance_level')
# An attachment in this state no longer uses the volume.
_DETACHED = 'detached'


def is_multiattach_specs(extra_specs):
    """True when volumes of a type with these extra specs are multi-attach.

    As strict as Cinder where it decides ``volume.multiattach``: only the
    exact value ``'<is> True'`` counts ('<is> true' or 'True' do not make a
    multi-attach volume, so they are not refused either).
    """
    if not isinstance(extra_specs, dict):
        return False
    return extra_specs.get(MULTIATTACH_KEY) == MULTIATTACH_TRUE


def _type_is_multiattach(volume_type):
    return is_multiattach_specs(volume_type.get('extra_specs'))


def _version_string(version):
    return version.get_string()


# Volume creation -----------------------------------------------------------

def creation_volume_type(context, volume_body):
    """The volume type Cinder will give a volume created from this body.

    Mirrors the API and the create flow: the requested type (name or id),
    else the type of the source volume, else that of the snapshot, else the
    default type (project default, then ``default_volume_type``). Returns
    None when the type comes from an image (``imageRef``: the image may name
    one in ``cinder_img_volume_type``, which only Glance knows).
    """
    requested = volume_body.get('volume_type')
    if requested:
        return volume_types.get_by_name_or_id(context, requested)
    source_volid = volume_body.get('source_volid')
    if source_volid is not None:
        volume = objects.Volume.get_by_id(context, source_volid)
        return volume_types.get_volume_type(context, volume.volume_type_id)
    snapshot_id = volume_body.get('snapshot_id')
    if snapshot_id is not None:
        snapshot = objects.Snapshot.get_by_id(context, snapshot_id)
        return volume_types.get_volume_type(context,
                                            snapshot.volume_type_id)
    if volume_body.get('imageRef') or volume_body.get('image_id'):
        return None
    return volume_types.get_default_volume_type(context)


def manage_volume_type(context, volume_body):
    """The volume type Cinder will give a managed volume."""
    requested = volume_body.get('volume_type')
    if requested:
        return volume_types.get_by_name_or_id(context, requested)
    return volume_types.get_default_volume_type(context)


def _create_message(volume_type, version):
    return _("Volume type %(type)s is multi-attach: creating a volume of "
             "this type requires volume API microversion 3.50 or later "
             "(the request asked for %(version)s).") % {
                 'type': volume_type.get('name') or volume_type.get('id'),
                 'version': _version_string(version)}


def check_volume_create(context, body, version):
    """POST /volumes below 3.50: refuse a multi-attach volume type."""
    volume_body = body.get('volume') if isinstance(body, dict) else None
    if not isinstance(volume_body, dict):
        return None
    volume_type = creation_volume_type(context, volume_body)
    if volume_type and _type_is_multiattach(volume_type):
        return _create_message(volume_type, version)
    return None


def check_volume_manage(context, body, version):
    """Volume manage below 3.50: refuse a multi-attach volume type."""
    volume_body = body.get('volume') if isinstance(body, dict) else None
    if not isinstance(volume_body, dict):
        return None
    volume_type = manage_volume_type(context, volume_body)
    if volume_type and _type_is_multiattach(volume_type):
        return _create_message(volume_type, version)
    return None


# Who asks ------------------------------------------------------------------

def is_service_request(context):
    """True when the request carries a service token with a service role.

    Cinder's own test (``[keystone_authtoken] service_token_roles`` against
    the context's ``service_roles``, which keystonemiddleware fills in only
    from a validated ``X-Service-Token``), the one that lets only the
    compute service delete an attachment still connected to an instance.
    """
    # cinder.volume.api needs Cinder's objects registered: cinder-api has
    # registered them by the time a request arrives, not always at import.
    from cinder.volume import api as volume_api
    return volume_api.API.is_service_request(context)


# Volume actions ------------------------------------------------------------

def _live_attachments(volume):
    return [attachment for attachment in volume.volume_attachment
            if attachment.attach_status != _DETACHED]


def _adds_consumer(volume, instance_uuid):
    """True when attaching for instance_uuid adds a user of the volume.

    That is when the volume is already attached and the new attachment is
    for another instance (or for no instance at all). A new attachment of
    an instance that already has one is what Nova makes during a live
    migration; Cinder lets it through even for volumes that are not
    multi-attach (LP #1694530), so it is not a multi-attach use.
    """
    attachments = _live_attachments(volume)
    if not attachments:
        return False
    if instance_uuid is None:
        return True
    return all(attachment.instance_uuid != instance_uuid
               for attachment in attachments)


def _attach_message(volume, version):
    return _("Volume %(volume)s is multi-attach and already attached: "
             "attaching it again requires volume API microversion 3.50 or "
             "later (the request asked for %(version)s).") % {
                 'volume': volume.id, 'version': _version_string(version)}


def _new_type_name(action_body):
    """The type an os-retype body names, or None when malformed."""
    if not isinstance(action_body, dict):
        return None
    new_type = action_body.get('new_type')
    if not new_type or not isinstance(new_type, str):
        return None
    return new_type


def _retype_sides(context, volume_id, new_type):
    """(volume, its current type or None, the new type) of a retype."""
    volume = objects.Volume.get_by_id(context, volume_id)
    # Cinder resolves the types with an elevated context.
    target = volume_types.get_by_name_or_id(context.elevated(), new_type)
    current = None
    if volume.volume_type_id:
        current = volume_types.get_volume_type(context.elevated(),
                                               volume.volume_type_id)
    return volume, current, target


def check_retype(context, volume_id, action_body, version):
    """os-retype below 3.50: refuse a retype to or from multi-attach."""
    new_type = _new_type_name(action_body)
    if new_type is None:
        return None
    volume, current, target = _retype_sides(context, volume_id, new_type)
    source_multiattach = bool(volume.multiattach) or bool(
        current and _type_is_multiattach(current))
    if source_multiattach or _type_is_multiattach(target):
        return _("Retyping volume %(volume)s to or from a multi-attach "
                 "volume type requires volume API microversion 3.50 or "
                 "later (the request asked for %(version)s).") % {
                     'volume': volume.id,
                     'version': _version_string(version)}
    return None


def check_retype_migration(context, volume_id, action_body):
    """os-retype at any microversion: what needs a new disk must migrate.

    EBS fixes multi-attach when a disk is created, so a retype that turns
    it on or off is a migration to a new disk. With ``migration_policy``
    ``never`` (the default) Cinder 29 refuses it only after it set the
    volume's ``multiattach`` flag, which it does not restore: the volume
    then keeps its old type with the new flag. Nor does EBS change a
    multi-attach disk's category or performance level: a retype between
    types that both set one of them, differently, migrates too. Both are
    refused here before anything changes, with the rule in the message.
    """
    new_type = _new_type_name(action_body)
    if new_type is None:
        return None
    if (action_body.get('migration_policy') or 'never') != 'never':
        return None
    volume, current, target = _retype_sides(context, volume_id, new_type)
    if bool(volume.multiattach) != _type_is_multiattach(target):
        return _("Retyping volume %(volume)s %(direction)s a multi-attach "
                 "volume type needs a new disk (EBS fixes multi-attach when "
                 "a disk is created): retype it with migration_policy "
                 "on-demand.") % {
                     'volume': volume.id,
                     'direction': (_('from') if volume.multiattach
                                   else _('to'))}
    changed = (_changed_disk_specs(current, target)
               if volume.multiattach and current else [])
    if changed:
        return _("Volume %(volume)s is multi-attach, and EBS does not "
                 "change a multi-attach disk's %(what)s (the "
                 "multi-attach guide's restrictions): retype it with "
                 "migration_policy on-demand, which moves it to a new "
                 "disk.") % {'volume': volume.id,
                             'what': ', '.join(changed)}
    return None


def _changed_disk_specs(current, target):
    """The EBS extra specs both types set, to different values."""
    old = current.get('extra_specs') or {}
    new = target.get('extra_specs') or {}
    return [key for key in DISK_SPEC_KEYS
            if old.get(key) and new.get(key) and old[key] != new[key]]


def check_reserve(context, volume_id, version):
    """Legacy os-reserve below 3.50: first step of another attachment."""
    volume = objects.Volume.get_by_id(context, volume_id)
    if volume.multiattach and _live_attachments(volume):
        return _attach_message(volume, version)
    return None


def check_legacy_attach(context, volume_id, action_body, version):
    """Legacy os-attach below 3.50: refuse attaching elsewhere again."""
    if not isinstance(action_body, dict):
        return None
    volume = objects.Volume.get_by_id(context, volume_id)
    if not volume.multiattach:
        return None
    if _adds_consumer(volume, action_body.get('instance_uuid')):
        return _attach_message(volume, version)
    return None


def check_volume_action(context, volume_id, body, version):
    """POST /volumes/{id}/action below 3.50."""
    action = next(iter(body))
    if action == 'os-retype':
        return check_retype(context, volume_id, body[action], version)
    if action == 'os-reserve':
        return check_reserve(context, volume_id, version)
    if action == 'os-attach':
        return check_legacy_attach(context, volume_id, body[action], version)
    return None


def check_attachment_create(context, body, version):
    """POST /attachments below 3.50: no second attachment of multi-attach."""
    attachment = body.get('attachment') if isinstance(body, dict) else None
    if not isinstance(attachment, dict):
        return None
    volume_id = attachment.get('volume_uuid')
    if not volume_id or not isinstance(volume_id, str):
        return None
    volume = objects.Volume.get_by_id(context, volume_id)
    if not volume.multiattach:
        return None
    if _adds_consumer(volume, attachment.get('instance_uuid')):
        return _attach_message(volume, version)
    return None


# Type level ---------------------------------------------------------------

def allowed(context, policy):
    """Whether Cinder's policy lets the caller do this at all.

    When it does not, Cinder answers 403; the guard must not answer first.
    """
    return bool(context.authorize(policy, fatal=False))


def check_encryption_create(context, type_id, body):
    """POST /types/{id}/encryption: refuse on a multi-attach type."""
    if not allowed(context, volume_type_policy.CREATE_ENCRYPTION_POLICY):
        return None
    volume_type = volume_types.get_volume_type(context, type_id)
    if _type_is_multiattach(volume_type):
        return _("Volume type %(type)s is multi-attach (multiattach="
                 "'<is> True'): multi-attach volumes cannot be encrypted, so "
                 "it cannot get an encryption type.") % {
                     'type': volume_type.get('name') or type_id}
    return None


def _encrypted_type_message(volume_type, type_id):
    return _("Volume type %(type)s has an encryption type: multi-attach "
             "volumes cannot be encrypted, so it cannot be made multi-attach "
             "(multiattach='<is> True').") % {
                 'type': volume_type.get('name') or type_id}


def _refuse_if_encrypted(context, type_id):
    volume_type = volume_types.get_volume_type(context, type_id)
    if volume_types.is_encrypted(context, volume_type['id']):
        return _encrypted_type_message(volume_type, type_id)
    return None


def check_extra_specs_create(context, type_id, body):
    """POST /types/{id}/extra_specs: no multiattach on an encrypted type."""
    specs = body.get('extra_specs') if isinstance(body, dict) else None
    if not is_multiattach_specs(specs):
        return None
    if not allowed(context, extra_specs_policy.CREATE_POLICY):
        return None
    return _refuse_if_encrypted(context, type_id)


def check_extra_spec_update(context, type_id, body):
    """PUT /types/{id}/extra_specs/{key}: the same rule.

    Cinder stores the request body itself as the specs, so the body (not
    the key in the path) says what is set.
    """
    if not is_multiattach_specs(body):
        return None
    if not allowed(context, extra_specs_policy.UPDATE_POLICY):
        return None
    return _refuse_if_encrypted(context, type_id)
