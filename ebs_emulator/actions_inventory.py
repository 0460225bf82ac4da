"""Read-only inventory: DescribeInstances, DescribeRegions, DescribeZones.

Instances are not created through the API: they are the simulated
compute hosts given to the emulator by configuration.
"""

from ebs_emulator import categories
from ebs_emulator import lookup
from ebs_emulator import paging
from ebs_emulator import views


def describe_instances(request):
    params = request.params
    lookup.check_region(request)
    wanted_ids = params.json_list('InstanceIds', max_items=100)
    zone = params.str('ZoneId')
    name = params.str('InstanceName')
    status = params.str('Status')
    selected = []
    for instance in request.service.instances.values():
        if wanted_ids is not None and instance['InstanceId'] not in wanted_ids:
            continue
        if zone is not None and instance['ZoneId'] != zone:
            continue
        if name is not None and instance.get('HostName') != name:
            continue
        if status is not None and status != 'Running':
            continue
        selected.append(instance)
    page, fields = paging.paginate(params, selected, max_results=100)
    result = {'Instances': {'Instance': [
        views.instance_view(instance, request.service.region_id)
        for instance in page]}}
    result.update(fields)
    return result


def describe_regions(request):
    region = request.service.region_id
    return {'Regions': {'Region': [{
        'RegionId': region,
        'LocalName': region,
        'RegionEndpoint': 'ecs.%s.aliyuncs.com' % region,
        'Status': 'available',
    }]}}


def describe_zones(request):
    lookup.check_region(request)
    return {'Zones': {'Zone': [{
        'ZoneId': zone,
        'LocalName': zone,
        'AvailableDiskCategories': {
            'DiskCategories': list(categories.CATEGORIES)},
    } for zone in request.service.zones]}}


ACTIONS = {
    'DescribeInstances': describe_instances,
    'DescribeRegions': describe_regions,
    'DescribeZones': describe_zones,
}
