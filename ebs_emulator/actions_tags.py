"""TagResources, UntagResources and ListTagResources for disks and
snapshots."""

from ebs_emulator import db
from ebs_emulator import exception
from ebs_emulator import lookup
from ebs_emulator import paging
from ebs_emulator import params as params_mod
from ebs_emulator import tagging

_MODELS = {'disk': db.Disk, 'snapshot': db.Snapshot}
MAX_RESOURCES = 50


def _resource_type(request, required=True):
    resource_type = request.params.str('ResourceType', required=required)
    if resource_type is None:
        return None
    resource_type = resource_type.lower()
    if resource_type not in _MODELS:
        raise exception.invalid_resource_type()
    return resource_type


def _existing_resources(request, resource_type, required=True):
    resource_ids = request.params.str_list('ResourceId', MAX_RESOURCES)
    if not resource_ids and required:
        raise exception.missing_parameter('ResourceId.N')
    for resource_id in resource_ids:
        if request.session.get(_MODELS[resource_type], resource_id) is None:
            raise exception.resource_not_found(
                'The specified resource %s does not exist.' % resource_id)
    return resource_ids


def tag_resources(request):
    lookup.check_region(request)
    resource_type = _resource_type(request)
    resource_ids = _existing_resources(request, resource_type)
    pairs = request.params.tags()
    if not pairs:
        raise exception.missing_parameter('Tag.N.Key')
    for resource_id in resource_ids:
        tagging.set_tags(request.session, resource_type, resource_id, pairs,
                         request.now)
    return {}


def untag_resources(request):
    lookup.check_region(request)
    resource_type = _resource_type(request)
    resource_ids = _existing_resources(request, resource_type)
    keys = request.params.str_list('TagKey', params_mod.MAX_TAGS)
    remove_all = request.params.bool('All', default=False)
    if not keys and not remove_all:
        return {}
    for resource_id in resource_ids:
        tagging.remove_tags(request.session, resource_type, resource_id,
                            keys or None)
    return {}


def list_tag_resources(request):
    lookup.check_region(request)
    resource_type = _resource_type(request)
    resource_ids = set(_existing_resources(request, resource_type,
                                           required=False))
    wanted = request.params.tags()
    rows = []
    grouped = tagging.tags_by_resource(request.session, resource_type)
    for resource_id in sorted(grouped):
        tags = grouped[resource_id]
        if resource_ids and resource_id not in resource_ids:
            continue
        if not tagging.matches(tags, wanted):
            continue
        rows.extend({'ResourceId': resource_id,
                     'ResourceType': resource_type,
                     'TagKey': tag.key, 'TagValue': tag.value}
                    for tag in tags)
    page, fields = paging.paginate(request.params, rows, max_results=50,
                                   token_only=True, default_limit=50)
    return {'TagResources': {'TagResource': page},
            'NextToken': fields['NextToken']}


ACTIONS = {
    'TagResources': tag_resources,
    'UntagResources': untag_resources,
    'ListTagResources': list_tag_resources,
}
