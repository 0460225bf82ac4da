"""The cluster topology's configuration files, ports and process groups."""

import socket

from oslotest import base

from ebs_allinone.daemons import ports

TRANSPORT = 'rabbit://cinder:pw@127.0.0.1:5999/'
CONNECTION = 'mysql+pymysql://cinder:pw@127.0.0.1:3399/cinder'
LOCKS = 'etcd3+http://127.0.0.1:2399?lock_timeout=10'


class PortsTest(base.BaseTestCase):

    def test_free_ports_differ_and_can_be_bound(self):
        found = ports.free_ports(4)
        self.assertEqual(4, len(set(found)))
        for port in found:
            self.assertFalse(ports.is_listening(port))
            with socket.socket() as sock:
                sock.bind((ports.LOOPBACK, port))
                sock.listen()
                self.assertTrue(ports.is_listening(port))
