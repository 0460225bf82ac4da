"""Free loopback ports for the cluster's private servers."""

import socket

from oslotest import base

from ebs_allinone.daemons import ports


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
