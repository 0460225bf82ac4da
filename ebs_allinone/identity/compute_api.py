"""A read-only stand-in for the compute API's server lookups.

``openstack volume attachment create VOLUME --server SERVER`` looks the
server up in the compute service before it asks Cinder for the
attachment. The all-in-one has simulated compute hosts but no Nova, so
with Keystone it registers this stand-in as the ``compute`` service: it
answers version discovery and ``GET /v2.1/servers/{uuid}`` with a server
of that id (any UUID is a server, as with the noauth all-in-one), and
every other request with 501. In particular it does not answer Cinder's
question whether Nova still uses an attachment: Cinder then refuses to
delete a connected attachment unless the compute service asks (its
service token), as when Nova cannot be reached.

Run as ``python -m ebs_allinone.identity.compute_api --port PORT``; it prints
``servers API listening on HOST:PORT``.
"""

import argparse
import json
import re
import sys

from ebs_allinone.identity import keystone_server

VERSION = 'v2.1'
SERVER_PATH = re.compile(
    r'^/%s/(?:[0-9a-f]{32}/)?servers/'
    r'(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'
    % re.escape(VERSION))


def version_document(url):
    return {'id': VERSION, 'status': 'CURRENT', 'version': '2.1',
            'min_version': '2.1', 'updated': '2013-07-23T11:33:21Z',
            'links': [{'rel': 'self', 'href': url}]}


def server_document(server_id):
    return {'id': server_id, 'name': 'server-%s' % server_id[:8],
            'status': 'ACTIVE', 'links': []}


def application(environ, start_response):
    path = environ.get('PATH_INFO', '/').rstrip('/') or '/'
    root = 'http://%s' % environ.get('HTTP_HOST', 'localhost')
    status, body = '501 Not Implemented', {
        'error': 'only server lookups are answered here'}
    if environ.get('REQUEST_METHOD') == 'GET':
        match = SERVER_PATH.match(path)
        if path == '/':
            status, body = '300 Multiple Choices', {'versions': [
                version_document('%s/%s/' % (root, VERSION))]}
        elif path == '/' + VERSION:
            status, body = '200 OK', {'version': version_document(
                '%s/%s/' % (root, VERSION))}
        elif match:
            status, body = '200 OK', {
                'server': server_document(match.group('id'))}
    data = json.dumps(body).encode()
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(data)))])
    return [data]


def main(argv=None):
    parser = argparse.ArgumentParser(prog='servers_api')
    parser.add_argument('--port', type=int, default=0)
    args = parser.parse_args(argv)
    return keystone_server.serve(application, args.port, 'servers API')


if __name__ == '__main__':
    sys.exit(main())
