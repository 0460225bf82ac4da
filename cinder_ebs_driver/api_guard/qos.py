"""The cinder-api guard's QoS rule: a type's specs some disk can meet.

A volume type's back-end QoS specs (consumer ``back-end`` or ``both``)
choose its volumes' disks within what its extra specs name
(:mod:`cinder_ebs_driver.qos`). When no disk those extra specs allow
meets the specs at any size (``ebs:performance_level=PL0`` with
``total_iops_sec=20000``, or ``read_iops_sec``, which ECS cannot honour),
every create of the type would fail; the guard refuses the change that
makes the type so instead (HTTP 400, at every microversion):

* associating the specs with the type
  (``GET /qos-specs/{id}/associate?vol_type_id=...``);
* changing or deleting the keys of specs associated with types
  (``PUT /qos-specs/{id}``, ``PUT /qos-specs/{id}/delete_keys``);
* setting the type's extra specs (``POST /types/{id}/extra_specs``,
  ``PUT /types/{id}/extra_specs/{key}``).

Only types that may land on an EBS backend are checked: those with an
``ebs:`` extra spec, those whose ``volume_backend_name`` is an EBS
backend of cinder.conf, and, when every backend there is EBS, those that
name none.

Like the guard's other rules, a check returns None or the message of the
refusal, passes the request on when the caller may not make it (Cinder
then answers 403), and raises when a lookup fails (Cinder then answers
with its usual error).
"""

import functools

from cinder import objects
from cinder.policies import qos_specs as qos_policy
from cinder.policies import type_extra_specs as extra_specs_policy
from cinder.volume import configuration
from cinder.volume import driver as cinder_driver
from cinder.volume import qos_specs as cinder_qos_specs
from cinder.volume import volume_types as cinder_volume_types
from oslo_config import cfg

from cinder_ebs_driver.api_guard import rules
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import qos
from cinder_ebs_driver import volume_types

CONSUMER = 'consumer'
BACKEND_NAME_KEY = 'volume_backend_name'
DRIVER_PACKAGE = 'cinder_ebs_driver.'


@functools.lru_cache(maxsize=1)
def ebs_backends():
    """(EBS backend names, whether every backend is EBS) in cinder.conf.

    cinder-api reads the same cinder.conf as the volume services in most
    deployments; where it does not list the backends, no type is taken
    for an EBS one unless its extra specs name an ``ebs:`` key.
    """
    names, others = set(), 0
    for section in cfg.CONF.enabled_backends or ():
        conf = configuration.Configuration(cinder_driver.volume_opts,
                                           config_group=section)
        if (conf.safe_get('volume_driver') or '').startswith(DRIVER_PACKAGE):
            names.add(conf.safe_get('volume_backend_name') or section)
        else:
            others += 1
    return frozenset(names), bool(names) and not others


def for_ebs(extra_specs):
    """Whether a type with these extra specs may land on an EBS backend."""
    if any(key.startswith(volume_types.SCOPE) for key in extra_specs):
        return True
    names, only_ebs = ebs_backends()
    backend = extra_specs.get(BACKEND_NAME_KEY)
    return backend in names if backend else only_ebs


def _named(extra_specs, key):
    value = extra_specs.get(key)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def refusal(type_name, extra_specs, consumer, specs):
    """Why the type's volumes could never meet the specs, or None."""
    extra_specs = extra_specs or {}
    if (consumer not in qos.BACKEND_CONSUMERS or not specs
            or not for_ebs(extra_specs)):
        return None
    category = _named(extra_specs, volume_types.CATEGORY_KEY)
    level = _named(extra_specs, volume_types.PERFORMANCE_LEVEL_KEY)
    message = qos.unmet_at_every_size(
        specs, volume_types.parse_bool_spec(extra_specs.get('multiattach')),
        category=category.lower() if category else None,
        level=level.upper() if level else None,
        min_sizes=volume_types.ESSD_MIN_SIZE)
    if message is None:
        return None
    return (_('Volume type %(type)s cannot have these back-end QoS specs: '
              '%(why)s') % {'type': type_name, 'why': message})


def _qos_specs(context, qos_id):
    found = objects.QualityOfServiceSpecs.get_by_id(context, qos_id)
    return found.consumer, dict(found.specs or {})


def check_associate(context, qos_id, type_id):
    """GET /qos-specs/{id}/associate: specs some disk of the type meets."""
    if not type_id or not rules.allowed(context, qos_policy.UPDATE_POLICY):
        return None
    consumer, specs = _qos_specs(context, qos_id)
    volume_type = cinder_volume_types.get_volume_type(context, type_id)
    return refusal(volume_type['name'], volume_type.get('extra_specs'),
                   consumer, specs)


def check_update(context, qos_id, body):
    """PUT /qos-specs/{id}: the new keys, for every associated type."""
    keys = body.get('qos_specs') if isinstance(body, dict) else None
    if not isinstance(keys, dict) or not rules.allowed(
            context, qos_policy.UPDATE_POLICY):
        return None
    consumer, specs = _qos_specs(context, qos_id)
    keys = dict(keys)
    consumer = keys.pop(CONSUMER, consumer)
    specs.update(keys)
    return _check_associations(context, qos_id, consumer, specs)


def check_delete_keys(context, qos_id, body):
    """PUT /qos-specs/{id}/delete_keys: what is left, for every type.

    Deleting a ``_max`` cap, say, can leave per-GiB specs no disk meets.
    """
    keys = body.get('keys') if isinstance(body, dict) else None
    if not isinstance(keys, list) or not rules.allowed(
            context, qos_policy.UPDATE_POLICY):
        return None
    consumer, specs = _qos_specs(context, qos_id)
    for key in keys:
        specs.pop(key, None)
    return _check_associations(context, qos_id, consumer, specs)


def _check_associations(context, qos_id, consumer, specs):
    for association in cinder_qos_specs.get_associations(context, qos_id):
        volume_type = cinder_volume_types.get_volume_type(
            context, association['id'])
        message = refusal(volume_type['name'],
                          volume_type.get('extra_specs'), consumer, specs)
        if message:
            return message
    return None


def check_type_specs(context, type_id, new_specs, update=False):
    """POST or PUT a type's extra specs: its QoS specs still met."""
    if not isinstance(new_specs, dict) or not rules.allowed(
            context, extra_specs_policy.UPDATE_POLICY if update
            else extra_specs_policy.CREATE_POLICY):
        return None
    volume_type = cinder_volume_types.get_volume_type(context, type_id)
    if not volume_type.get('qos_specs_id'):
        return None
    consumer, specs = _qos_specs(context, volume_type['qos_specs_id'])
    extra_specs = dict(volume_type.get('extra_specs') or {})
    extra_specs.update(new_specs)
    return refusal(volume_type['name'], extra_specs, consumer, specs)
