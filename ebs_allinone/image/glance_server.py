"""Glance's image API in a small threaded WSGI server of its own.

Run as ``python -m ebs_allinone.image.glance_server --config-dir DIR
--port PORT``. Glance 33 has no standalone server any more (its
``glance-api`` script only says so): it is a WSGI application,
``glance.wsgi.api``, which reads ``glance-api.conf`` from the directory
in ``OS_GLANCE_CONFIG_DIR``. This process serves it on 127.0.0.1 with the
server of :mod:`ebs_allinone.identity.keystone_server`, prints ``glance
listening on HOST:PORT`` once the socket is bound and stops on SIGTERM or
SIGINT.

The standard library's server hands the request body over as it came;
image uploads (the openstack CLI, Cinder's upload-to-image) arrive with
``Transfer-Encoding: chunked``, so :class:`Dechunk` decodes them first,
as a WSGI server in front of Glance would.
"""

import argparse
import atexit
import os
import sys

from ebs_allinone.identity import keystone_server


class ChunkedInput(object):
    """A readable file of the body of a chunked request (RFC 9112 7.1)."""

    def __init__(self, raw):
        self.raw = raw
        self.left = 0
        self.done = False

    def _next_chunk(self):
        line = self.raw.readline(65537)
        if not line:
            raise IOError('the chunked request body ended early')
        size = int(line.split(b';', 1)[0].strip() or b'0', 16)
        if size == 0:
            # Trailer fields, up to the empty line.
            while self.raw.readline(65537) not in (b'\r\n', b'\n', b''):
                pass
            self.done = True
        self.left = size

    def read(self, size=-1):
        parts = []
        while not self.done and (size is None or size < 0 or size > 0):
            if self.left == 0:
                self._next_chunk()
                continue
            want = self.left if size is None or size < 0 else min(
                size, self.left)
            data = self.raw.read(want)
            if not data:
                raise IOError('the chunked request body ended early')
            parts.append(data)
            self.left -= len(data)
            if size is not None and size >= 0:
                size -= len(data)
            if self.left == 0:
                # The CRLF after each chunk's data.
                self.raw.readline(3)
        return b''.join(parts)


class Dechunk(object):
    """WSGI middleware: a chunked request's body, decoded."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        encoding = environ.get('HTTP_TRANSFER_ENCODING', '').lower()
        if encoding == 'chunked':
            environ['wsgi.input'] = ChunkedInput(environ['wsgi.input'])
            environ['wsgi.input_terminated'] = True
            environ.pop('CONTENT_LENGTH', None)
        return self.app(environ, start_response)


def application(config_dir):
    """Glance's API application configured by ``DIR/glance-api.conf``."""
    os.environ['OS_GLANCE_CONFIG_DIR'] = config_dir
    del sys.argv[1:]
    from glance.common import wsgi_app
    return Dechunk(wsgi_app.init_app())


def main(argv=None):
    parser = argparse.ArgumentParser(prog='glance_server')
    parser.add_argument('--config-dir', required=True)
    parser.add_argument('--port', type=int, default=0)
    args = parser.parse_args(argv)
    status = keystone_server.serve(application(args.config_dir), args.port,
                                   'glance')
    # Glance waits for its task threads at exit; do it now, while new
    # threads may still start (at exit it fails, with a traceback).
    from glance.common import wsgi_app
    atexit.unregister(wsgi_app.drain_workers)
    wsgi_app.drain_workers()
    return status


if __name__ == '__main__':
    sys.exit(main())
