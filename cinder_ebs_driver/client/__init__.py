"""The EBS backend client: ECS disk API calls for the volume driver.

The driver reaches the backend only through :class:`EBSClient`: one method
per ECS action, built on the official SDK (``alibabacloud_ecs20140526``),
and the waits for the state changes those actions start.  Its parts:

* :mod:`~cinder_ebs_driver.client.calls` - how every call goes through
  the SDK: retries with backoff, errors, logging, pagination;
* :mod:`~cinder_ebs_driver.client.backoff` - which failures are retried,
  how long to wait between attempts, polling;
* :mod:`~cinder_ebs_driver.client.disks` - disk calls;
* :mod:`~cinder_ebs_driver.client.snapshots` - snapshot calls;
* :mod:`~cinder_ebs_driver.client.instances` - instance calls;
* :mod:`~cinder_ebs_driver.client.waiting` - waiting for a disk, an
  attachment or a snapshot to reach a state.
"""

from cinder_ebs_driver.client import calls
from cinder_ebs_driver.client import disks
from cinder_ebs_driver.client import instances
from cinder_ebs_driver.client import snapshots
from cinder_ebs_driver.client import waiting

# Read by the driver's modules.
attached_instance_ids = disks.attached_instance_ids


class EBSClient(disks.DiskCalls, snapshots.SnapshotCalls,
                instances.InstanceCalls, waiting.Waiters, calls.BaseClient):
    """ECS disk, snapshot and instance calls for one Cinder backend.

    Takes the arguments of :class:`calls.BaseClient`.
    """
