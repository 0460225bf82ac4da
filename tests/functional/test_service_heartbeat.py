"""The in-process services stay up for longer than ``service_down_time``.

The volume and scheduler services share one process: each must heartbeat
its own service record, or the one whose record nobody updates looks down
once ``service_down_time`` has passed and volumes cannot be scheduled.
"""

from tests.functional import cinder_harness
from tests.functional import service_states


class TestServiceHeartbeat(cinder_harness.EBSFunctionalTestBase):

    DRIVER_FLAGS = {'service_down_time': service_states.SERVICE_DOWN_TIME,
                    'report_interval': service_states.REPORT_INTERVAL}

    def services(self):
        """{(binary, host): (state, updated_at)} from ``os-services``."""
        _, data = self.api_call('GET', '/os-services', expect=200)
        return {(s['binary'], s['host']): (s['state'], s['updated_at'])
                for s in data['services']}

    def test_services_stay_up_past_service_down_time(self):
        service_states.assert_services_stay_up(self, self.services)

        volume = self.create_volume(size=1)
        attachment = self.create_attachment(volume['id'], self.connector(0))
        self.wait_volume(volume['id'], 'in-use')
        self.delete_attachment(attachment['id'])
        self.wait_volume(volume['id'], 'available')
        self.delete_volume(volume['id'])
        self.assertEqual({'up'}, {state for state, _updated_at
                                  in self.services().values()})
