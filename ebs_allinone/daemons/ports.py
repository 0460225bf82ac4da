"""Free TCP ports on the loopback interface."""

import socket

LOOPBACK = '127.0.0.1'


def free_ports(count):
    """``count`` distinct ports that nothing listens on right now.

    The sockets stay open until every port is picked, so the ports
    differ; another process may still take one before it is used.
    """
    sockets = []
    try:
        for _i in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def is_listening(port, timeout=0.2):
    """True when something accepts TCP connections on ``port``."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False
