"""ECS instance calls of the backend client."""

from alibabacloud_ecs20140526 import models as ecs_models


class InstanceCalls(object):
    """Instance calls; mixed into :class:`~cinder_ebs_driver.client.EBSClient`.

    Needs the calling machinery of
    :class:`~cinder_ebs_driver.client.calls.BaseClient`.
    """

    def list_instances(self):
        """DescribeInstances items of the region, every page."""
        def make_request(page_number, page_size):
            return ecs_models.DescribeInstancesRequest(
                region_id=self._region_id,
                page_number=page_number,
                page_size=page_size)
        return self._paginate('DescribeInstances', make_request, 'Instances',
                              'Instance', 'InstanceId')
