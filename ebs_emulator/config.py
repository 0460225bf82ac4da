"""Configuration of the ``ebs-emulator`` service.

Every option can be given on the command line or in the ``[DEFAULT]``
section of a file passed with ``--config-file``.
"""

import json
import uuid

from oslo_config import cfg
from oslo_log import log as logging

from ebs_emulator import faults
from ebs_emulator import rules


DEFAULT_REGION = 'emu-region-1'
DEFAULT_ZONE = 'emu-zone-a'
DEFAULT_INSTANCES = 20
# The well-known key pair of a local emulator (it is a test backend).
DEFAULT_ACCESS_KEY_ID = 'EMULATORACCESSKEY'
DEFAULT_ACCESS_KEY_SECRET = 'emulator-secret'
# Namespace of the instances' deterministic SerialNumber values.
SERIAL_NAMESPACE = uuid.UUID('5a4c1d2e-0b7f-4f43-9f4e-6a2d3e8c9b10')

emulator_opts = [
    cfg.HostAddressOpt('bind', default='127.0.0.1',
                       help='Address to listen on. The admin endpoints '
                            '(/_emulator/...) only answer loopback '
                            'clients.'),
    cfg.PortOpt('port', default=8080,
                help='TCP port to listen on; 0 picks a free port (the '
                     'ready line reports it).'),
    cfg.StrOpt('state-dir', required=True,
               help='Directory holding the emulator state (database, '
                    'disk files, per-instance device paths).'),
    cfg.MultiStrOpt('access-key', default=[], secret=True,
                    help='Accepted credentials as ID:SECRET (repeatable). '
                         'Without any, the well-known pair %s:%s is used.'
                         % (DEFAULT_ACCESS_KEY_ID,
                            DEFAULT_ACCESS_KEY_SECRET)),
    cfg.StrOpt('instances-file',
               help='JSON file with the ECS instances to register: a list '
                    'of {"InstanceId", "HostName", "SerialNumber", '
                    '"ZoneId"} objects. Overrides --instances.'),
    cfg.IntOpt('instances', default=DEFAULT_INSTANCES, min=0, max=10000,
               help='Number of default instances i-emu0000... (host names '
                    'host-0..., deterministic serial numbers).'),
    cfg.FloatOpt('transition-delay', default=0.2, min=0.0,
                 help='Seconds a disk or snapshot stays in a transient '
                      'status (Creating, Attaching, ...).'),
    cfg.StrOpt('region', default=DEFAULT_REGION, help='Region id.'),
    cfg.StrOpt('zone', default=DEFAULT_ZONE, help='Zone id.'),
    cfg.StrOpt('faults-file',
               help='JSON file with fault injection rules to start with.'),
    cfg.MultiStrOpt('fault', default=[],
                    help='A fault injection rule as a JSON object, e.g. '
                         '\'{"kind": "error", "actions": ["CreateDisk"], '
                         '"count": 1}\' (repeatable; added after the '
                         'rules of --faults-file).'),
    cfg.StrOpt('use-loop-devices', default='auto',
               choices=['auto', 'yes', 'no'],
               help='Expose attached disks through loop devices (auto: '
                    'when the machine allows it).'),
    cfg.StrOpt('fuse-views', default='auto',
               choices=['auto', 'yes', 'no'],
               help='Serve each attached instance its own view of a disk '
                    'through FUSE, which enforces NVMe persistent '
                    'reservations per instance (needs root, /dev/fuse and '
                    'libfuse). auto: when the machine allows it, else '
                    'loop devices or files without reservations; yes: '
                    'refuse to start without it.'),
    cfg.MultiStrOpt('block-device-instance', default=[],
                    help='An instance whose attached disks appear as block '
                         'devices: a loop device over the instance\'s FUSE '
                         'view (repeatable). For hosts that write disks '
                         'with tools that treat a regular file as an image '
                         'file (qemu-img convert truncates it), such as '
                         'the cinder-volume host copying images. Persistent '
                         'reservation ioctls do not pass through a loop '
                         'device; reads and writes are still checked.'),
    cfg.MultiStrOpt('reading', default=[],
                    help='Where Alibaba\'s pages disagree on a rule, the '
                         'reading to enforce, as DISPUTE=READING '
                         '(repeatable; `ebs-emulator rules` lists the '
                         'disputes and their readings). Unset disputes '
                         'take their default reading, or their strict one '
                         'with --strict-readings.'),
    cfg.BoolOpt('strict-readings', default=False,
                help='Enforce the strict reading of every disputed rule '
                     '(those --reading does not set). Also set by the '
                     'environment variable OS_DEFAULT__STRICT_READINGS.'),
    cfg.FloatOpt('performance-scale', default=0.0, min=0.0,
                 help='Hold each attached disk\'s I/O, shared by all its '
                      'instances, to its IOPS and throughput (as '
                      'DescribeDisks reports them) times this factor, '
                      'e.g. 0.01 on a machine that cannot reach the real '
                      'figures. 0: no limit. Needs the FUSE data path '
                      '(--fuse-views).'),
    cfg.IntOpt('max-clock-skew', default=900, min=1,
               help='Accepted difference in seconds between x-acs-date and '
                    'the emulator clock.'),
    cfg.IntOpt('sts-token-lifetime', default=0, min=0,
               help='Seconds the STS credentials issued by AssumeRole and '
                    'the instance metadata service live, whatever was '
                    'asked (tests use a few seconds); 0: as asked '
                    '(DurationSeconds), 3600 for the metadata service.'),
    cfg.StrOpt('instance-ram-role', default='EcsRamRoleEbs',
               help='RAM role attached to the instances, served by the '
                    'instance metadata service (/latest/meta-data/ram/'
                    'security-credentials/); empty: none.'),
    cfg.StrOpt('metadata-listen',
               help='Also serve the instance metadata paths (and nothing '
                    'else) on this HOST:PORT, for instance '
                    '100.100.100.200:80 inside a network namespace that '
                    'holds that address.'),
    cfg.BoolOpt('metadata-token-required', default=False,
                help='Serve instance metadata only with a metadata token '
                     '(security hardening mode, HttpTokens required).'),
    cfg.StrOpt('ready-file',
               help='Write "HOST:PORT" to this file once listening.'),
    cfg.BoolOpt('exit-with-parent', default=False,
                help='Stop when the process that started the emulator '
                     'exits (for test harnesses).'),
]


def list_opts():
    """Options for the sample configuration generator."""
    return [('DEFAULT', emulator_opts)]


def make_conf(argv=None):
    """Parse the command line into a fresh ConfigOpts."""
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(emulator_opts)
    logging.register_options(conf)
    conf(argv, project='ebs-emulator', prog='ebs-emulator',
         default_config_files=[])
    return conf


def parse_access_keys(values):
    """``['ID:SECRET', ...]`` -> ``{ID: SECRET}``."""
    keys = {}
    for value in values or ():
        key_id, sep, secret = value.partition(':')
        if not sep or not key_id or not secret:
            raise ValueError('an access key must be given as ID:SECRET')
        keys[key_id] = secret
    if not keys:
        keys[DEFAULT_ACCESS_KEY_ID] = DEFAULT_ACCESS_KEY_SECRET
    return keys


def instance_serial(instance_id):
    """Deterministic SerialNumber of a default instance."""
    return str(uuid.uuid5(SERIAL_NAMESPACE, instance_id))


def default_instances(count=DEFAULT_INSTANCES, zone_id=DEFAULT_ZONE):
    """The default instances i-emu0000... in ``zone_id``."""
    return [{'InstanceId': 'i-emu%04d' % i,
             'HostName': 'host-%d' % i,
             'SerialNumber': instance_serial('i-emu%04d' % i),
             'ZoneId': zone_id}
            for i in range(count)]


def load_instances(path, zone_id=DEFAULT_ZONE):
    """Instances from a JSON file (see --instances-file)."""
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as e:
            raise ValueError('%s is not valid JSON: %s' % (path, e))
    if isinstance(data, dict):
        data = data.get('instances')
    if not isinstance(data, list):
        raise ValueError('%s: expected a list of instances' % path)
    instances = []
    seen = set()
    for item in data:
        if not isinstance(item, dict) or not item.get('InstanceId'):
            raise ValueError('%s: every instance needs an InstanceId' % path)
        instance_id = str(item['InstanceId'])
        if instance_id in seen:
            raise ValueError('%s: duplicate instance %s'
                             % (path, instance_id))
        seen.add(instance_id)
        instances.append({
            'InstanceId': instance_id,
            'HostName': str(item.get('HostName') or instance_id),
            'SerialNumber': str(item.get('SerialNumber')
                                or instance_serial(instance_id)),
            'ZoneId': str(item.get('ZoneId') or zone_id),
        })
    return instances


def fault_rules_from_conf(conf):
    """The fault rules given by --faults-file and --fault."""
    rules = []
    if conf.faults_file:
        with open(conf.faults_file) as f:
            try:
                rules.extend(faults.FaultInjector.parse_rules(json.load(f)))
            except ValueError as e:
                raise ValueError('%s: %s' % (conf.faults_file, e))
    for text in conf.fault:
        try:
            rule = json.loads(text)
        except ValueError as e:
            raise ValueError('--fault %s is not JSON: %s' % (text, e))
        rules.extend(faults.FaultInjector.parse_rules([rule]))
    return rules


def instances_from_conf(conf):
    if conf.instances_file:
        return load_instances(conf.instances_file, conf.zone)
    return default_instances(conf.instances, conf.zone)


def readings_from_conf(conf):
    """The reading of each disputed rule (see ebs_emulator.rules)."""
    return rules.parse_readings(conf.strict_readings, conf.reading)


def _tristate(value):
    return {'auto': None, 'yes': True, 'no': False}[value]


def use_loop_devices(conf):
    return _tristate(conf.use_loop_devices)


def use_fuse(conf):
    return _tristate(conf.fuse_views)
