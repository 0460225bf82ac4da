"""``ebs-nova-shim``: attach and detach volumes the way nova-compute does.

Examples::

    # Cinder without Keystone (auth_strategy = noauth)
    ebs-nova-shim --cinder-endpoint http://127.0.0.1:8776/v3/admin \\
        --host compute-1 attach instance-0001 <volume id>
    ebs-nova-shim --cinder-endpoint ... detach instance-0001 <volume id>
    # (--project-id and --user-id give the noauth token "user:project")

    # Cinder behind Keystone: the usual OS_* variables (OS_AUTH_URL,
    # OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, ...) are read.

    # No Cinder at all: block devices or files of this machine
    ebs-nova-shim --local-state /var/lib/ebs-shim.json \\
        local add <volume id> /dev/loop3 --multiattach
    ebs-nova-shim --local-state /var/lib/ebs-shim.json attach vm1 <volume id>

    # Only print the <disk> element for a connection_info
    ebs-nova-shim xml --volume-id <id> --device-path /dev/sdb --multiattach
"""

import argparse
import json
import os
import sys

from oslo_config import cfg
from oslo_log import log as logging

from nova_shim import disk
from nova_shim import exception
from nova_shim.volume_api import cinder as cinder_volumes
from nova_shim.volume_api import local as local_volumes

LOG = logging.getLogger(__name__)

DEFAULT_URI = 'qemu:///system'


def _parser():
    parser = argparse.ArgumentParser(
        prog='ebs-nova-shim',
        description='Attach and detach volumes to libvirt guests the way '
                    'nova-compute does (os-brick, shareable disks, live '
                    'attach).')
    parser.add_argument('--connect', default=os.environ.get(
        'LIBVIRT_DEFAULT_URI', DEFAULT_URI),
        help='libvirt URI (default: %(default)s)')
    parser.add_argument('--host', help='host name given to Cinder in the '
                        'connector (default: this system\'s)')
    parser.add_argument('--my-ip', help='IP address in the connector')
    parser.add_argument('--root-helper', help='command prefix for '
                        'privileged calls (default: none when root, else '
                        'sudo)')
    parser.add_argument('--debug', action='store_true')
    api = parser.add_argument_group('volume service')
    api.add_argument('--cinder-endpoint', help='volume endpoint of a Cinder '
                     'without Keystone, e.g. http://127.0.0.1:8776/v3/admin')
    api.add_argument('--project-id', default='admin',
                     help='project for --cinder-endpoint')
    api.add_argument('--user-id', default='admin',
                     help='user for --cinder-endpoint (Cinder without '
                          'Keystone takes the user from the token); where '
                          'a user plays the compute service, detaching '
                          'a volume needs that user')
    api.add_argument('--service-token', help='with --cinder-endpoint: '
                     'send this as X-Service-Token, as nova-compute sends '
                     'its service token (a Cinder whose noauth pipeline '
                     'maps it to the service role). With Keystone, the '
                     'OS_SERVICE_USERNAME, OS_SERVICE_PASSWORD and '
                     'OS_SERVICE_PROJECT_NAME variables give the service '
                     'user whose token is sent. With a service token '
                     'attachments are created at microversion 3.44 like '
                     'Nova\'s; without one at 3.50')
    api.add_argument('--local-state', help='serve volumes of this machine, '
                     'kept in this JSON file, instead of asking Cinder')

    sub = parser.add_subparsers(dest='command', required=True)
    att = sub.add_parser('attach', help='attach a volume to a guest')
    att.add_argument('instance', help='domain name or UUID')
    att.add_argument('volume_id')
    att.add_argument('--mode', choices=('rw', 'ro'), default='rw')
    att.add_argument('--target-dev', help='guest device (default: the '
                     'first free vdX from vdb)')
    det = sub.add_parser('detach', help='detach a volume from a guest')
    det.add_argument('instance', help='domain name or UUID')
    det.add_argument('volume_id')

    xml = sub.add_parser('xml', help='print the <disk> element for a '
                         'connection')
    xml.add_argument('--connection-info', metavar='FILE',
                     help='JSON connection_info ("-" for stdin)')
    xml.add_argument('--volume-id')
    xml.add_argument('--device-path')
    xml.add_argument('--multiattach', action='store_true')
    xml.add_argument('--discard', action='store_true')
    xml.add_argument('--read-only', action='store_true')
    xml.add_argument('--target-dev', default='vdb')
    xml.add_argument('--bus', default='virtio')

    local = sub.add_parser('local', help='manage the volumes served by '
                           '--local-state')
    local_sub = local.add_subparsers(dest='local_command', required=True)
    add = local_sub.add_parser('add', help='serve a device as a volume')
    add.add_argument('volume_id')
    add.add_argument('device_path')
    add.add_argument('--multiattach', action='store_true')
    rem = local_sub.add_parser('remove', help='stop serving a volume')
    rem.add_argument('volume_id')
    local_sub.add_parser('list', help='list volumes and attachments')
    return parser


def _setup_logging(debug):
    conf = cfg.ConfigOpts()
    logging.register_options(conf)
    conf([], project='ebs-nova-shim', default_config_files=[])
    conf.set_override('debug', debug)
    conf.set_override('use_stderr', True)
    logging.setup(conf, 'ebs-nova-shim')


def _volume_api(args):
    if args.local_state:
        return local_volumes.LocalVolumes(args.local_state)
    if args.cinder_endpoint:
        return cinder_volumes.CinderVolumeAPI.noauth(
            args.cinder_endpoint, project_id=args.project_id,
            user_id=args.user_id, service_token=args.service_token)
    if os.environ.get('OS_AUTH_URL'):
        session, service_token = _keystone_session()
        return cinder_volumes.CinderVolumeAPI(
            session, region_name=os.environ.get('OS_REGION_NAME'),
            service_token=service_token)
    raise exception.ShimError('no volume service: give --cinder-endpoint, '
                              '--local-state or the OS_* variables')


def _password_auth(env, prefix):
    from keystoneauth1.identity import v3

    return v3.Password(
        auth_url=env['OS_AUTH_URL'], username=env.get(prefix + 'USERNAME'),
        password=env.get(prefix + 'PASSWORD'),
        project_name=env.get(prefix + 'PROJECT_NAME'),
        user_domain_name=env.get(prefix + 'USER_DOMAIN_NAME', 'Default'),
        project_domain_name=env.get(prefix + 'PROJECT_DOMAIN_NAME',
                                    'Default'))


def _keystone_session():
    """(session, whether it sends a service token) from OS_* variables.

    With OS_SERVICE_USERNAME the user's token goes with the service
    user's, as Nova sends them ([service_user] send_service_user_token).
    """
    from keystoneauth1 import service_token
    from keystoneauth1 import session

    env = os.environ
    auth = _password_auth(env, 'OS_')
    with_service = bool(env.get('OS_SERVICE_USERNAME'))
    if with_service:
        auth = service_token.ServiceTokenAuthWrapper(
            user_auth=auth, service_auth=_password_auth(env, 'OS_SERVICE_'))
    return (session.Session(auth=auth, verify=env.get('OS_CACERT', True)),
            with_service)


def _connection_info(args):
    if args.connection_info:
        if args.connection_info == '-':
            return json.load(sys.stdin)
        with open(args.connection_info) as f:
            return json.load(f)
    if not (args.volume_id and args.device_path):
        raise exception.ShimError('give --connection-info, or --volume-id '
                                  'and --device-path')
    return {'driver_volume_type': 'local', 'serial': args.volume_id,
            'data': {'device_path': args.device_path,
                     'volume_id': args.volume_id,
                     'access_mode': 'ro' if args.read_only else 'rw',
                     'multiattach': args.multiattach,
                     'discard': args.discard}}


def _attacher(args, api):
    import libvirt

    from nova_shim import attach
    from nova_shim import guest
    from nova_shim import host

    host.init_privsep(args.root_helper)
    guest.silence_libvirt_errors()
    conn = libvirt.open(args.connect)
    return attach.VolumeAttacher(conn, api, host=args.host,
                                 my_ip=args.my_ip,
                                 root_helper=args.root_helper)


def _run(args):
    if args.command == 'xml':
        info = _connection_info(args)
        return disk.build_disk_xml(info, args.target_dev, bus=args.bus)
    api = _volume_api(args)
    if args.command == 'local':
        if not isinstance(api, local_volumes.LocalVolumes):
            raise exception.ShimError('"local" needs --local-state')
        if args.local_command == 'add':
            api.add_volume(args.volume_id, args.device_path,
                           multiattach=args.multiattach)
            return None
        if args.local_command == 'remove':
            api.remove_volume(args.volume_id)
            return None
        return api.list_volumes()
    attacher = _attacher(args, api)
    try:
        if args.command == 'attach':
            result = attacher.attach(args.instance, args.volume_id,
                                     mode=args.mode,
                                     target_dev=args.target_dev)
            result.pop('disk_xml', None)
            return result
        return attacher.detach(args.instance, args.volume_id)
    finally:
        attacher.conn.close()


def main(argv=None):
    args = _parser().parse_args(argv)
    _setup_logging(args.debug)
    try:
        result = _run(args)
    except (exception.ShimError, ValueError) as exc:
        print('ebs-nova-shim: error: %s' % exc, file=sys.stderr)
        return 1
    except Exception as exc:
        # libvirt, os-brick and cinderclient errors carry their own text.
        LOG.debug('Command failed', exc_info=True)
        print('ebs-nova-shim: error: %s: %s' % (type(exc).__name__, exc),
              file=sys.stderr)
        return 1
    if isinstance(result, str):
        sys.stdout.write(result)
    elif result is not None:
        print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
