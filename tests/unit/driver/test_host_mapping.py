"""Connector to ECS instance mapping."""

from unittest import mock

from cinder import exception
from cinder.tests.unit import test

from cinder_ebs_driver import host_mapping

SERIAL = '6a5f4d4e-0000-4000-8000-000000000001'


class TestHostMapper(test.TestCase):

    def setUp(self):
        super().setUp()
        self.client = mock.Mock()
        self.client.list_instances.return_value = [
            {'InstanceId': 'i-1', 'SerialNumber': SERIAL.upper()},
            {'InstanceId': 'i-2', 'SerialNumber': 'other'},
            {'InstanceId': 'i-3'},
        ]
        self.conf = mock.Mock()
        self.conf.safe_get.return_value = {'host-a': 'i-explicit'}
        self.mapper = host_mapping.HostMapper(self.client, self.conf)

    def test_explicit_map_first(self):
        self.assertEqual('i-explicit', self.mapper.instance_for(
            {'host': 'host-a', 'system uuid': SERIAL}))
        self.client.list_instances.assert_not_called()

    def test_system_uuid_matches_serial_number_cached(self):
        connector = {'host': 'host-b', 'system uuid': SERIAL}
        self.assertEqual('i-1', self.mapper.instance_for(connector))
        self.assertEqual('i-1', self.mapper.instance_for(connector))
        self.client.list_instances.assert_called_once_with()

    def test_unknown_uuid_refreshes_then_fails(self):
        self.mapper.instance_for({'host': 'b', 'system uuid': SERIAL})
        err = self.assertRaises(
            exception.InvalidConnectorException, self.mapper.instance_for,
            {'host': 'host-c', 'system uuid': 'nope'})
        self.assertIn('host-c', str(err))
        self.assertIn('ebs_host_instance_map', str(err))
        self.assertEqual(2, self.client.list_instances.call_count)

    def test_new_instance_found_after_refresh(self):
        self.mapper.instance_for({'host': 'b', 'system uuid': SERIAL})
        self.client.list_instances.return_value.append(
            {'InstanceId': 'i-4', 'SerialNumber': 'new'})
        self.assertEqual('i-4', self.mapper.instance_for(
            {'host': 'd', 'system uuid': 'new'}))

    def test_no_uuid_and_not_mapped(self):
        err = self.assertRaises(exception.InvalidConnectorException,
                                self.mapper.instance_for, {'host': 'x'})
        self.assertIn('not reported', str(err))

    def test_connector_without_host(self):
        for connector in ({}, None, {'host': ''}, {'system uuid': SERIAL}):
            err = self.assertRaises(exception.InvalidConnectorException,
                                    self.mapper.instance_for, connector)
            self.assertIn('host', str(err))
