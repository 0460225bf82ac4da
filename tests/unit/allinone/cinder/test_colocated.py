"""The heartbeat of services sharing one process, on its own.

The database is replaced by a mock of ``objects.Service.get_by_id`` that
records which record each heartbeat reads.
"""

from unittest import mock

from cinder import exception
from cinder import objects
from cinder import service
from oslotest import base

from ebs_allinone.cinder import colocated


def _service(record_id):
    """A built service (as after ``__init__``) owning record ``record_id``."""
    svc = colocated.Service.__new__(colocated.Service)
    svc.__dict__.update(manager=mock.Mock(**{'is_working.return_value': True}),
                        binary='cinder-test', host='test-host',
                        availability_zone='nova',
                        origin_service_id=record_id)
    return svc


class HeartbeatTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        objects.register_all()
        self.records = {}
        patcher = mock.patch.object(objects.Service, 'get_by_id',
                                    side_effect=self._record)
        self.addCleanup(patcher.stop)
        self.get_by_id = patcher.start()

    def _record(self, context, record_id):
        if record_id not in self.records:
            raise exception.ServiceNotFound(service_id=record_id)
        return self.records[record_id]

    def _shared_id(self, value):
        patcher = mock.patch.object(service.Service, 'service_id', value)
        self.addCleanup(patcher.stop)
        patcher.start()

    def test_each_service_updates_its_own_record(self):
        self.records = {1: mock.Mock(report_count=0, availability_zone='nova'),
                        2: mock.Mock(report_count=0, availability_zone='nova')}
        volume, scheduler = _service(1), _service(2)
        # The scheduler was started last: it owns Cinder's attribute.
        self._shared_id(2)

        volume.report_state()
        volume.report_state()
        scheduler.report_state()

        self.assertEqual([1, 1, 2], [call.args[1] for call in
                                     self.get_by_id.call_args_list])
        self.assertEqual(2, self.records[1].report_count)
        self.assertEqual(1, self.records[2].report_count)
        self.assertEqual(2, service.Service.service_id)

    def test_recreated_record_of_the_owner_is_kept(self):
        scheduler = _service(2)
        self._shared_id(2)

        def recreate(context):
            # What Cinder's _create_service_ref does with the new record.
            self.records[3] = mock.Mock(report_count=0,
                                        availability_zone='nova')
            service.Service.service_id = 3
            scheduler.origin_service_id = 3

        scheduler._create_service_ref = recreate

        scheduler.report_state()

        self.assertEqual([2, 3], [call.args[1] for call in
                                  self.get_by_id.call_args_list])
        self.assertEqual(1, self.records[3].report_count)
        self.assertEqual(3, service.Service.service_id)
