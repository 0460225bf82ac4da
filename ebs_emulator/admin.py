"""The emulator's unsigned admin endpoints, ``/_emulator/...``.

For tests and debugging; they only answer clients on the loopback
interface:

* ``GET /_emulator/health``
* ``GET|POST|DELETE /_emulator/faults`` (see :mod:`ebs_emulator.faults`)
* ``GET /_emulator/state``
* ``GET /_emulator/reservations`` (persistent reservations of the
  exposed disks; ``{"enforced": false}`` without the FUSE data path)
* ``GET|DELETE /_emulator/overlaps`` (mutating calls that were in flight
  on one disk at once in conflict, see :mod:`ebs_emulator.overlaps`;
  ``DELETE`` starts a new record)
* ``GET /_emulator/credentials`` (STS credentials issued, by issuer, and
  requests refused for their token, by code);
  ``POST /_emulator/credentials/expire`` ends every set issued so far;
  ``POST /_emulator/roles/<name>/revoke`` (and ``.../restore``) revokes a
  RAM role: it can no longer be assumed, its tokens are refused
  (see :mod:`ebs_emulator.sts`)
"""

import ipaddress
import json

from oslo_log import log as logging

from ebs_emulator import faults as faults_mod

LOG = logging.getLogger(__name__)


def handle(app, method, name, body, client_host):
    """Answer ``/_emulator/<name>`` of ``app`` (a ``server.EmulatorApp``).

    :returns: (HTTP status, a JSON-able body).
    """
    if not _is_loopback(client_host):
        return 403, {'error': 'admin endpoints only answer loopback clients'}
    name = name.strip('/')
    try:
        if name == 'health' and method == 'GET':
            return 200, {'status': 'ok', 'region_id': app.region_id}
        if name == 'faults':
            return _faults(app, method, body)
        if name == 'state' and method == 'GET':
            return 200, _state(app)
        if name == 'reservations' and method == 'GET':
            return 200, _reservations(app)
        if name == 'overlaps' and method in ('GET', 'DELETE'):
            return 200, _overlaps(app, method)
        if name.startswith('credentials') or name.startswith('roles/'):
            reply = _credentials(app, method, name)
            if reply is not None:
                return reply
    except ValueError as e:
        return 400, {'error': str(e)}
    except Exception:
        LOG.exception('Admin request %s /_emulator/%s failed', method, name)
        return 500, {'error': 'internal error, see the log'}
    return 404, {'error': 'no admin endpoint %s /_emulator/%s'
                          % (method, name)}


def _is_loopback(host):
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if getattr(address, 'ipv4_mapped', None):
        address = address.ipv4_mapped
    return address.is_loopback


def _faults(app, method, body):
    if method == 'GET':
        pass
    elif method == 'DELETE':
        app.faults.clear()
        LOG.info('Fault injection cleared')
    elif method in ('POST', 'PUT'):
        if body is None:
            raise ValueError('body too large')
        try:
            data = json.loads(body.decode('utf-8') or '{}')
        except ValueError as e:
            raise ValueError('the body is not JSON: %s' % e)
        replace = True
        if isinstance(data, dict):
            replace = bool(data.get('replace', True))
        app.faults.set_rules(faults_mod.FaultInjector.parse_rules(data),
                             replace=replace)
        LOG.info('Fault injection rules: %s', app.faults.describe())
    else:
        return 405, {'error': 'method not allowed'}
    return 200, {'rules': app.faults.describe()}


def _credentials(app, method, name):
    tokens = app.verifier.tokens
    if tokens is None:
        return None
    if name == 'credentials' and method == 'GET':
        report = tokens.report()
        if app.metadata is not None:
            report['metadata_requests'] = app.metadata.requests
        return 200, report
    if name == 'credentials/expire' and method == 'POST':
        ended = tokens.expire_all()
        LOG.info('Ended %d STS credential set(s)', ended)
        return 200, {'expired': ended}
    parts = name.split('/')
    if (len(parts) == 3 and parts[0] == 'roles' and method == 'POST'
            and parts[2] in ('revoke', 'restore')):
        if parts[2] == 'revoke':
            tokens.revoke(parts[1])
        else:
            tokens.restore(parts[1])
        LOG.info('RAM role %s: %sd', parts[1], parts[2])
        return 200, {'role': parts[1], 'revoked': tokens.revoked(parts[1])}
    return None


def _reservations(app):
    report = app.service.reservation_report()
    if report is None:
        return {'enforced': False, 'disks': {}}
    return {'enforced': True, 'disks': report}


def _overlaps(app, method):
    recorder = app.service.overlaps
    if method == 'DELETE':
        recorder.reset()
        LOG.info('Record of mutating calls cleared')
    return recorder.report()


def _state(app):
    state = {'faults': app.faults.describe(),
             'stats': dict(app.stats),
             'region_id': app.region_id}
    dump = getattr(app.service, 'debug_state', None)
    if callable(dump):
        state['service'] = dump()
    return state
