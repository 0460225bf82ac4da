"""Keystone's public API in a small threaded WSGI server of its own.

Run as ``python -m ebs_allinone.identity.keystone_server --config-file FILE
--port PORT``. The process serves Keystone's WSGI application (the one
``keystone.wsgi.api`` exposes to Apache or uWSGI) on 127.0.0.1 with the
standard library's WSGI server, one thread per connection but one
request at a time (Keystone's SQLite database answers "database is
locked" to concurrent writers, which Keystone turns into HTTP 500: a
token request updates the user's ``last_active_at`` while another
request creates users), prints ``keystone listening on HOST:PORT`` once
the socket is bound and stops on SIGTERM or SIGINT.
"""

import argparse
import os
import signal
import socketserver
import sys
import threading
from wsgiref import simple_server

HOST = '127.0.0.1'


class ThreadingWSGIServer(socketserver.ThreadingMixIn,
                          simple_server.WSGIServer):
    daemon_threads = True
    # Many short-lived connections from the clients' sessions.
    request_queue_size = 64


class QuietHandler(simple_server.WSGIRequestHandler):
    """Keystone logs every request itself; no second access log."""

    def log_message(self, format, *args):
        pass


def application(config_file):
    """Keystone's public WSGI application configured by ``config_file``."""
    # Keystone's WSGI entry point reads its configuration files from the
    # environment, as under a web server.
    os.environ['OS_KEYSTONE_CONFIG_FILES'] = config_file
    # ... and parses the command line too: leave it nothing of ours.
    del sys.argv[1:]
    from keystone.server import wsgi
    return wsgi.initialize_public_application()


def one_at_a_time(app):
    """``app`` answering one request at a time, body included."""
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            result = app(environ, start_response)
            try:
                return [b''.join(result)]
            finally:
                if hasattr(result, 'close'):
                    result.close()

    return serialized


def serve(app, port, name):
    """Serve ``app`` on 127.0.0.1:``port`` until SIGTERM or SIGINT.

    Prints ``<name> listening on HOST:PORT`` once the socket is bound.
    """
    server = simple_server.make_server(
        HOST, port, app, server_class=ThreadingWSGIServer,
        handler_class=QuietHandler)

    def _stop(signum, frame):
        # shutdown() waits for serve_forever(), which runs in this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    host, port = server.server_address[:2]
    print('%s listening on %s:%d' % (name, host, port), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='keystone_process')
    parser.add_argument('--config-file', required=True)
    parser.add_argument('--port', type=int, default=0)
    args = parser.parse_args(argv)
    return serve(one_at_a_time(application(args.config_file)), args.port,
                 'keystone')


if __name__ == '__main__':
    sys.exit(main())
