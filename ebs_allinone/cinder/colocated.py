"""Cinder services sharing one process, each heartbeating its own record.

Cinder keeps the id of a service's database record in a class attribute,
``cinder.service.Service.service_id``, and its heartbeat
(``report_state``) updates the record of that id. That holds for one
service per process. When the volume and scheduler services run in the
same process (the all-in-one, the functional tests), the service created
or started last owns the attribute, the heartbeats of the others update
its record instead of theirs, and once ``service_down_time`` has passed
they look down: the scheduler finds no valid backend for new volumes.

Build such services with :class:`Service` instead of
``cinder.service.Service``.
"""

from cinder import service


class Service(service.Service):
    """A Cinder service whose heartbeat updates its own record.

    ``origin_service_id`` is the id of the record the service created or
    looked up when it was built (Cinder keeps it per instance, and updates
    it when the heartbeat has to recreate the record).
    """

    def report_state(self):
        shared = service.Service.service_id
        own = self.origin_service_id
        # Cinder's heartbeat reads the class attribute before its first
        # database call, so this service's id is the one it updates.
        service.Service.service_id = own
        try:
            super().report_state()
        finally:
            # The other readers of the attribute (the workers table) keep
            # the value they had, unless it was this service's record and
            # the heartbeat has just recreated it.
            if shared != own:
                service.Service.service_id = shared
