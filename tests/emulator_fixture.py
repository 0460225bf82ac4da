"""Test fixture running the EBS emulator as a real HTTP service.

Usage::

    emu = self.useFixture(emulator_fixture.EmulatorFixture())
    client = emu.sdk_client()            # official ECS SDK client
    client.describe_instances(...)
    emu.set_faults(kind='error', actions=['CreateDisk'], count=1)
    emu.restart()                        # same state dir, same port

The emulator runs as a subprocess (``python -m ebs_emulator.cmd``, started
by :class:`ebs_allinone.daemons.process.EmulatorProcess`) on 127.0.0.1
with a free port and a temporary state directory.  Cleanup stops exactly
that process (by its PID) and removes the directory.
"""

import collections
import http.client
import json
import os
import re
import shutil
import tempfile
import time
import urllib.parse
import uuid

from alibabacloud_ecs20140526 import client as ecs_client
from alibabacloud_tea_openapi import models as openapi_models
import fixtures
import testtools
from testtools import content
from testtools import content_type

from ebs_allinone.daemons import process
from ebs_emulator import config
from ebs_emulator import db
from ebs_emulator import server
from ebs_emulator import signature

LOG_TAIL = 64 * 1024
# The access line the server logs after answering an ECS call.
_ACCESS_LINE = re.compile(r' POST (\w+) (\d{3}) RequestId=')


def add_disks(database, region_id, zone_id, count, tags=None,
              prefix='d-seed'):
    """``count`` Available disks straight into an emulator's database.

    No data files are made: the disks can be listed, tagged and deleted,
    not read.  ``tags(n)`` gives the tags (a dict) of the n-th disk, or
    None.  Far faster than CreateDisk for thousands of disks.
    """
    now = time.time()
    with database.session() as session:
        for n in range(count):
            disk_id = '%s%09d' % (prefix, n)
            session.add(db.Disk(
                id=disk_id, region_id=region_id, zone_id=zone_id,
                name='disk-%d' % n, size=20, category='cloud_essd',
                performance_level='PL1', status='Available',
                created_at=now + n * 1e-6))
            for key, value in ((tags(n) if tags else None) or {}).items():
                session.add(db.Tag(resource_type='disk', resource_id=disk_id,
                                   key=key, value=value, created_at=now))


class EmulatorError(Exception):
    pass


class EmulatorFixture(fixtures.Fixture):
    """An ``ebs-emulator`` process for one test (or test class)."""

    def __init__(self, instances=None, transition_delay=0.05,
                 num_instances=20, extra_args=(),
                 region_id=config.DEFAULT_REGION,
                 zone_id=config.DEFAULT_ZONE, faults=None,
                 use_loop_devices='no', fuse_views='no', readings=None):
        """Prepare the emulator.

        :param instances: list of instance dicts (InstanceId, HostName,
            SerialNumber, ZoneId); default ``num_instances`` default ones.
        :param transition_delay: seconds spent in transient statuses.
        :param extra_args: more ``ebs-emulator`` command line arguments.
        :param faults: fault rules active from the start (see
            :mod:`ebs_emulator.faults`).
        :param use_loop_devices: 'auto', 'yes' or 'no'.
        :param fuse_views: 'auto', 'yes' or 'no' (reservation-enforcing
            per-instance views; off by default: tests that need them ask).
        :param readings: {dispute: reading} of disputed ECS rules (see
            :mod:`ebs_emulator.rules`); the others as the environment
            says (``OS_DEFAULT__STRICT_READINGS``), else the defaults.
        """
        super().__init__()
        self.region_id = region_id
        self.zone_id = zone_id
        if instances is None:
            self.instances = config.default_instances(num_instances,
                                                      zone_id)
            self._instances_given = False
        else:
            self.instances = [dict(i) for i in instances]
            self._instances_given = True
        self.transition_delay = transition_delay
        self.extra_args = list(extra_args)
        for dispute, reading in sorted((readings or {}).items()):
            self.extra_args += ['--reading', '%s=%s' % (dispute, reading)]
        self.initial_faults = faults
        self.use_loop_devices = use_loop_devices
        self.fuse_views = fuse_views
        self.access_key_id = 'EMUTEST%s' % uuid.uuid4().hex[:12].upper()
        self.access_key_secret = uuid.uuid4().hex
        self._launcher = None
        self.port = 0
        self.endpoint = None
        self._log_cache = b''

    # -- lifecycle -------------------------------------------------------

    def _setUp(self):
        self.base_dir = tempfile.mkdtemp(prefix='ebs-emulator-')
        self.addCleanup(shutil.rmtree, self.base_dir, ignore_errors=True)
        self.state_dir = os.path.join(self.base_dir, 'state')
        self.log_file = os.path.join(self.base_dir, 'emulator.log')
        self._write_config()
        extra_args = []
        if self._faults_file:
            extra_args += ['--faults-file', self._faults_file]
        self._launcher = process.EmulatorProcess(
            self.state_dir, self.log_file,
            (self.access_key_id, self.access_key_secret),
            instances=self.instances if self._instances_given else None,
            instances_file=os.path.join(self.base_dir, 'instances.json'),
            num_instances=len(self.instances), region_id=self.region_id,
            zone_id=self.zone_id, transition_delay=self.transition_delay,
            use_loop_devices=self.use_loop_devices,
            fuse_views=self.fuse_views,
            config_file=self._config_file,
            extra_args=extra_args + self.extra_args)
        self.addDetail('ebs-emulator-log', content.Content(
            content_type.UTF8_TEXT, lambda: [self._log_tail()]))
        self.addCleanup(self.stop)
        self.start()

    def _write_config(self):
        self._config_file = os.path.join(self.base_dir, 'emulator.conf')
        fd = os.open(self._config_file, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write('[DEFAULT]\naccess_key = %s:%s\n'
                    % (self.access_key_id, self.access_key_secret))
        self._faults_file = None
        if self.initial_faults:
            self._faults_file = os.path.join(self.base_dir, 'faults.json')
            with open(self._faults_file, 'w') as f:
                json.dump({'rules': self.initial_faults}, f)

    def command(self):
        """The command line that starts the emulator."""
        return self._launcher.command()

    def start(self):
        """Start the emulator and wait until it answers."""
        if self._launcher.running():
            raise EmulatorError('the emulator is already running')
        try:
            self._launcher.start()
        except process.ProcessError as exc:
            raise EmulatorError(str(exc))
        self.port = self._launcher.port
        self.endpoint = self._launcher.endpoint
        self.url = self._launcher.url
        self.admin('GET', 'health')

    def stop(self):
        """Stop the emulator (SIGTERM, SIGKILL after a timeout)."""
        self._launcher.stop()
        self._log_cache = self._read_log()

    def restart(self):
        """Stop and start again on the same state dir and port."""
        self.stop()
        self.start()

    @property
    def process(self):
        """The ``subprocess.Popen`` of the running emulator, or None."""
        return self._launcher.process

    @property
    def pid(self):
        return self._launcher.pid

    # -- clients ---------------------------------------------------------

    def sdk_config(self, **kw):
        params = dict(access_key_id=self.access_key_id,
                      access_key_secret=self.access_key_secret,
                      endpoint=self.endpoint, protocol='http',
                      region_id=self.region_id, connect_timeout=5000,
                      read_timeout=30000)
        params.update(kw)
        return openapi_models.Config(**params)

    def sdk_client(self, **kw):
        """An official ECS SDK client talking to this emulator."""
        return ecs_client.Client(self.sdk_config(**kw))

    def device_path(self, instance_id, disk_id):
        """Where an attached disk appears on an instance."""
        serial = disk_id[2:] if disk_id.startswith('d-') else disk_id
        return os.path.join(
            self.state_dir, 'instances', instance_id, 'dev', 'disk',
            'by-id', 'nvme-Alibaba_Cloud_Elastic_Block_Storage_%s' % serial)

    def raw_request(self, action, params=None, method='POST', body=None,
                    content_type=None, version=server.API_VERSION,
                    access_key_id=None, secret=None, date=None, nonce=None,
                    extra_headers=None, tamper=None, path='/',
                    connection=None):
        """Send a request signed by hand; return (status, headers, body).

        ``params`` go in the query string, ``body`` (bytes) is sent as is.
        ``tamper(query, headers)`` may change the request after signing.
        ``connection`` reuses an ``http.client.HTTPConnection``.
        The answer body is decoded from JSON when possible.
        """
        query = {k: str(v) for k, v in (params or {}).items()}
        body = body or b''
        headers = {
            'host': self.endpoint,
            'x-acs-action': action,
            'x-acs-version': version,
            'x-acs-date': date or signature.format_date(),
            'x-acs-signature-nonce': nonce or uuid.uuid4().hex,
            'x-acs-content-sha256': signature.sha256_hex(body),
            'accept': 'application/json',
        }
        if content_type:
            headers['content-type'] = content_type
        headers.update(extra_headers or {})
        headers['Authorization'] = signature.sign(
            method, path, query, headers, body,
            access_key_id or self.access_key_id,
            secret if secret is not None else self.access_key_secret)
        if tamper:
            tamper(query, headers)
        target = path
        if query:
            target += '?' + urllib.parse.urlencode(query)
        conn = connection or http.client.HTTPConnection(
            '127.0.0.1', self.port, timeout=30)
        try:
            conn.request(method, target, body=body or None,
                         headers=headers)
            response = conn.getresponse()
            data = response.read()
            answer_headers = {k.lower(): v
                              for k, v in response.getheaders()}
        finally:
            if connection is None:
                conn.close()
        try:
            decoded = json.loads(data.decode('utf-8'))
        except ValueError:
            decoded = data
        return response.status, answer_headers, decoded

    # -- admin endpoints -------------------------------------------------

    def admin(self, method, name, body=None):
        """Call ``/_emulator/<name>``; return the decoded JSON answer."""
        try:
            return self._launcher.admin(method, name, body)
        except process.ProcessError as exc:
            raise EmulatorError(str(exc))

    def set_faults(self, rules=None, replace=True, **rule):
        """Set fault injection rules at run time.

        ``set_faults(kind='error', actions=['CreateDisk'], count=1)`` sets
        one rule; ``rules=[{...}, ...]`` sets several; ``replace=False``
        adds to the active rules; ``set_faults()`` clears them all.
        Returns the active rules.
        """
        rules = list(rules or [])
        if rule:
            rules.append(rule)
        return self.admin('POST', 'faults',
                          {'rules': rules, 'replace': replace})['rules']

    def clear_faults(self):
        return self.admin('DELETE', 'faults')['rules']

    def get_faults(self):
        return self.admin('GET', 'faults')['rules']

    def get_state(self):
        return self.admin('GET', 'state')

    # -- measuring -------------------------------------------------------

    def seed_disks(self, count, tags=None, prefix='d-seed'):
        """Add ``count`` disks (see :func:`add_disks`); answer their ids.

        The emulator is stopped while its database is written, and
        started again on the same port.
        """
        self.stop()
        database = db.Database(self.state_dir)
        try:
            add_disks(database, self.region_id, self.zone_id, count,
                      tags=tags, prefix=prefix)
        finally:
            database.dispose()
        self.start()
        return ['%s%09d' % (prefix, n) for n in range(count)]

    def driver_options(self, **options):
        """The driver's connection options for this emulator, as a dict.

        ``options`` add or override options.
        """
        values = dict(ebs_endpoint=self.endpoint, ebs_protocol='http',
                      ebs_region_id=self.region_id, ebs_zone_id=self.zone_id,
                      ebs_access_key_id=self.access_key_id,
                      ebs_access_key_secret=self.access_key_secret)
        values.update(options)
        return values

    def host_instance_map(self):
        """Every instance by its host name (``ebs_host_instance_map``)."""
        return {i['HostName']: i['InstanceId'] for i in self.instances}

    def driver_conf(self, **options):
        """The driver's connection options for this emulator, as a conf.

        An object read by attribute and ``safe_get``, as the backend
        client and the driver's helpers read a Cinder ``Configuration``;
        ``options`` add or override options.
        """
        return _Conf(self.driver_options(**options))

    # -- diagnostics -----------------------------------------------------

    def call_counts(self, status=None):
        """ECS calls answered so far, by action, from the access log.

        :param status: count only the answers with this HTTP status.
        The line of a call is written just after its answer is sent.
        """
        with open(self.log_file, errors='replace') as log:
            lines = _ACCESS_LINE.findall(log.read())
        return collections.Counter(
            action for action, code in lines
            if status is None or int(code) == status)

    def _read_log(self):
        try:
            with open(self.log_file, 'rb') as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - LOG_TAIL))
                return f.read()
        except OSError:
            return b''

    def _log_tail(self):
        return self._read_log() or self._log_cache


class _Conf(object):
    """Options read by attribute or ``safe_get``; unknown ones are None."""

    def __init__(self, values):
        self.__dict__.update(values)

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return None

    def safe_get(self, name):
        return getattr(self, name)


class EmulatorPerClassTestCase(testtools.TestCase):
    """One emulator process shared by all the tests of a class.

    Subclasses set ``EMULATOR_KWARGS`` (arguments of
    :class:`EmulatorFixture`) or override :meth:`emulator_kwargs`; the
    emulator is ``cls.emu``.
    """

    EMULATOR_KWARGS = {}

    @classmethod
    def emulator_kwargs(cls):
        return dict(cls.EMULATOR_KWARGS)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu = EmulatorFixture(**cls.emulator_kwargs())
        cls.emu.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanUp()
        super().tearDownClass()
