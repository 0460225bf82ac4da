"""Cinder's API, scheduler and volume services in-process, on the emulator.

:class:`EBSFunctionalTestBase` runs Cinder's own functional harness
(eventlet, ``fake:/`` messaging, in-memory SQLite) with the EBS driver as
the volume backend, talking HTTP to an ``ebs-emulator`` subprocess started
for each test. Tests drive Cinder over its REST API with the helpers below
and look at the backend through the official SDK. The volume and scheduler
services heartbeat their own service records
(:mod:`ebs_allinone.cinder.colocated`), so they stay up however long a
test runs.

Subclasses may change:

* ``_osapi_version`` - the default volume API microversion (3.50);
* ``API_PASTE_CONFIG`` - the api-paste.ini that builds cinder-api's
  pipeline (default: the one installed with Cinder);
* ``EMULATOR_KWARGS`` - arguments of the emulator fixture;
* ``DRIVER_FLAGS`` / :meth:`extra_flags` - more configuration options,
  as ``{name: value}`` (backend options go to ``backend_defaults``);
* ``ALLOW_ATTACHMENT_DELETE`` - skip the Nova check Cinder makes before
  deleting an attachment that has an instance and connection info;
* ``RPC_POLL`` - seconds between the services' looks for an RPC message
  (None: the ``fake:/`` transport's own 50 ms).

Cinder's call asking Nova to resize the disk of its guests after an online
extend is always replaced by a mock (:attr:`nova_extend`): there is no Nova.
Tests that make Cinder copy volume data itself (generic migration) call
:meth:`allow_host_copy` first.
"""

# Cinder's functional package monkey-patches with eventlet: import it first.
from cinder.tests import functional  # noqa: F401  isort:skip

import functools
import json
import os
import socket
import sys
import time
import uuid

from alibabacloud_ecs20140526 import models as ecs_models

from cinder.scheduler import driver as scheduler_driver  # noqa: F401  (opts)
from cinder import service
from cinder.tests.functional.api import client as api_client
from cinder.tests.functional import functional_helpers
import fixtures
from oslo_config import cfg
from oslo_log import log as logging

from cinder_ebs_driver import driver as ebs_driver  # noqa: F401  (options)
from cinder_ebs_driver import host_release
from ebs_allinone.cinder import colocated
from tests import emulator_fixture

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

SHARED_GROUP = 'backend_defaults'
DRIVER = 'cinder_ebs_driver.driver.EBSVolumeDriver'
BACKEND_NAME = 'ebs'
# Hosts mapped through ebs_host_instance_map; the others are found by the
# system uuid of their connector (the instances' SerialNumber).
EXPLICITLY_MAPPED_HOSTS = 8
# The host running cinder-volume (image copy, generic migration) is the
# emulator's last instance.
VOLUME_HOST_INSTANCE_INDEX = -1

FINAL_VOLUME_STATES = ('available', 'error', 'in-use', 'error_deleting',
                       'error_extending', 'error_managing',
                       'error_restoring')


class ApiError(AssertionError):
    pass


def copy_device(src, dst, size_in_m, blocksize=None, sparse=False, **kw):
    """What Cinder's ``copy_volume`` does with dd, unprivileged.

    Only the data extents of the (sparse) source are copied.
    """
    length = int(size_in_m) * 1024 * 1024
    with open(src, 'rb') as fin, open(dst, 'r+b') as fout:
        offset = 0
        while offset < length:
            try:
                start = os.lseek(fin.fileno(), offset, os.SEEK_DATA)
            except OSError:  # ENXIO: no data after offset
                break
            end = min(os.lseek(fin.fileno(), start, os.SEEK_HOLE), length)
            fin.seek(start)
            fout.seek(start)
            while start < end:
                data = fin.read(min(end - start, 1024 * 1024))
                fout.write(data)
                start += len(data)
            offset = end


def every_page(describe, region_id, make_request, list_key, item_key):
    """Every item of a Describe* action of the SDK, following PageNumber.

    :param describe: the SDK method (``client.describe_disks`` ...).
    :param make_request: builds its request from ``region_id``,
        ``page_size`` and ``page_number``.
    """
    items = []
    page_number = 1
    while True:
        body = describe(make_request(
            region_id=region_id, page_size=100,
            page_number=page_number)).body.to_map()
        batch = (body.get(list_key) or {}).get(item_key) or []
        items.extend(batch)
        if not batch or len(items) >= body.get('TotalCount', 0):
            return items
        page_number += 1


def rpc_poll_time(seconds):
    """A ``time`` module for the ``fake:/`` transport: pauses of ``seconds``.

    Its listeners look for a message every 50 ms, so each RPC call waits
    up to 50 ms for the next look: every call is rounded up to that grid,
    and a backend a few milliseconds slower pays a whole step more (an
    ``attachment_delete`` took 69 ms for the EBS driver's 30 ms in the
    volume manager, 27 ms for the fake driver's 9 ms). RabbitMQ delivers
    a message as it comes.
    """
    class PollTime(object):
        time = staticmethod(time.time)

        @staticmethod
        def sleep(pause):
            time.sleep(min(pause, seconds))

    return PollTime


def installed_etc(name):
    """A file Cinder installs under ``sys.prefix/etc/cinder``."""
    return os.path.join(sys.prefix, 'etc', 'cinder', name)


class EBSFunctionalTestBase(functional_helpers._FunctionalTestBase):
    """Cinder services in-process with the EBS driver and an emulator."""

    _osapi_version = '3.50'
    # Real (file based) coordination locks: the driver's per-volume locks
    # must work between the greenthreads of the volume service.
    MOCK_TOOZ = False
    API_PASTE_CONFIG = None
    EMULATOR_KWARGS = {}
    DRIVER_FLAGS = {}
    ALLOW_ATTACHMENT_DELETE = True
    POLL_INTERVAL = 0.05
    TIMEOUT = 60
    RPC_POLL = None

    def setUp(self):
        # Before the services start; undone after they stopped.
        if self.RPC_POLL is not None:
            self.useFixture(fixtures.MonkeyPatch(
                'oslo_messaging._drivers.impl_fake.time',
                rpc_poll_time(self.RPC_POLL)))
        # The emulator must answer before the volume service starts (the
        # driver's setup and first stats call reach it). Its cleanup runs
        # last, after the services stopped and the backend was checked.
        kwargs = dict(transition_delay=0.02)
        kwargs.update(self.EMULATOR_KWARGS)
        # Attributes without a leading underscore are deleted by Cinder's
        # cleanup before the backend check runs.
        self._emulator = self.useFixture(
            emulator_fixture.EmulatorFixture(**kwargs))
        self._ecs = self._emulator.sdk_client()
        self.addCleanup(self._check_backend_clean)
        super().setUp()
        self.override_config('resource_query_filters_file',
                             installed_etc('resource_filters.json'))
        if self.ALLOW_ATTACHMENT_DELETE:
            self.patch('cinder.volume.api.API.attachment_deletion_allowed',
                       return_value=None)
        self._nova_extend = self.patch('cinder.compute.nova.API.extend_volume')
        self.addCleanup(self._delete_leftover_volumes)
        # Before the services stop: no re-check may outlive its test.
        self.addCleanup(host_release.stop_all)

    @property
    def emulator(self):
        return self._emulator

    @property
    def ecs(self):
        return self._ecs

    @property
    def nova_extend(self):
        """The mock of Cinder's "extend the volume in the guests" call."""
        return self._nova_extend

    # -- configuration ---------------------------------------------------

    def instance(self, index):
        return self.emulator.instances[index]

    def host_name(self, index):
        return self.instance(index)['HostName']

    def host_instance_map(self):
        mapping = {self.host_name(n): self.instance(n)['InstanceId']
                   for n in range(min(EXPLICITLY_MAPPED_HOSTS,
                                      len(self.emulator.instances)))}
        # The cinder-volume host itself (os-brick reports the host name).
        volume_host = self.instance(VOLUME_HOST_INSTANCE_INDEX)
        mapping[socket.gethostname()] = volume_host['InstanceId']
        return mapping

    def device_path_template(self):
        return os.path.join(
            self.emulator.state_dir, 'instances', '{instance_id}', 'dev',
            'disk', 'by-id',
            'nvme-Alibaba_Cloud_Elastic_Block_Storage_{serial}')

    def backend_flags(self):
        """The driver's options for the emulator."""
        emu = self.emulator
        return {
            'volume_backend_name': BACKEND_NAME,
            'ebs_endpoint': emu.endpoint,
            'ebs_protocol': 'http',
            'ebs_region_id': emu.region_id,
            'ebs_zone_id': emu.zone_id,
            'ebs_access_key_id': emu.access_key_id,
            'ebs_access_key_secret': emu.access_key_secret,
            'ebs_default_performance_level': 'PL0',
            'ebs_pool_capacity_gb': 100000,
            'ebs_api_timeout': 5,
            'ebs_api_retries': 2,
            'ebs_api_retry_interval': 0.05,
            'ebs_state_timeout': 30,
            'ebs_state_poll_interval': 0.02,
            'ebs_host_instance_map': self.host_instance_map(),
            'ebs_device_path_template': self.device_path_template(),
        }

    def extra_flags(self):
        """More options: ``{name: value}`` or ``{name: {'v':, 'g':}}``."""
        return dict(self.DRIVER_FLAGS)

    def _get_flags(self):
        flags = super()._get_flags()
        flags['volume_driver'] = {'v': DRIVER, 'g': SHARED_GROUP}
        # The scheduler waits at start until it has the volume service's
        # capabilities. When the volume service's notify_service_capabilities
        # cast is handled before update_service_capabilities (a race in the
        # scheduler), it never sees them "first" and waits the whole
        # scheduler_driver_init_wait_time (60 s). Scheduling itself reads
        # the capabilities anyway, so a short wait loses nothing.
        flags['scheduler_driver_init_wait_time'] = {'v': 1}
        for name, value in self.backend_flags().items():
            flags[name] = {'v': value, 'g': SHARED_GROUP}
        for name, value in self.extra_flags().items():
            if not (isinstance(value, dict) and 'v' in value):
                group = SHARED_GROUP if name.startswith('ebs_') else None
                value = {'v': value, 'g': group}
            flags[name] = value
        return flags

    def start_service(self, name, host=None, **kwargs):
        # As Cinder's TestCase does, with services that heartbeat their own
        # records: the volume and scheduler services share this process.
        kwargs.setdefault('host', host or uuid.uuid4().hex)
        kwargs.setdefault('binary', 'cinder-%s' % name)
        svc = colocated.Service.create(**kwargs)
        svc.start()
        self._services.append(svc)
        return svc

    def api_paste_config(self):
        return self.API_PASTE_CONFIG or installed_etc('api-paste.ini')

    def _start_api_service(self):
        # As Cinder's harness does: the option is registered only when the
        # WSGI loader is created.
        CONF.api_paste_config = self.api_paste_config()
        self.osapi = service.WSGIService('osapi_volume')
        self.osapi.start()
        self.auth_url = 'http://%s:%s/v%s' % (
            self.osapi.host, self.osapi.port, self.osapi_version_major)

    # -- backend ---------------------------------------------------------

    def backend_disks(self, **filters):
        """Every disk of the region matching ``filters``, all pages."""
        return every_page(
            self.ecs.describe_disks, self.emulator.region_id,
            functools.partial(ecs_models.DescribeDisksRequest, **filters),
            'Disks', 'Disk')

    def backend_disk(self, disk_id):
        disks = self.backend_disks(disk_ids=json.dumps([disk_id]))
        return disks[0] if disks else None

    def volume_disk(self, volume_id):
        """The backend disk of a Cinder volume (named after it), or None."""
        disks = self.backend_disks(disk_name='volume-%s' % volume_id)
        self.assertLessEqual(len(disks), 1, disks)
        return disks[0] if disks else None

    def disk_file(self, disk_id):
        """Where the emulator keeps a disk's data."""
        return os.path.join(self.emulator.state_dir, 'disks',
                            '%s.img' % disk_id)

    def write_disk(self, disk_id, data, offset=0):
        """Write to a disk's data as an instance would.

        On ECS only an instance writes to a disk, and a disk that was
        never attached cannot be snapshotted (see ebs_emulator.rules):
        such a disk is first attached to a spare instance, which writes,
        and detached again.
        """
        self.attach_once(disk_id)
        with open(self.disk_file(disk_id), 'r+b') as f:
            f.seek(offset)
            f.write(data)

    def attach_once(self, disk_id):
        """Attach a disk never attached to a spare instance, and detach it.

        ECS snapshots only disks that were attached before.
        """
        if self.backend_disk(disk_id)['AttachedTime']:
            return
        # Not the cinder-volume host's (the last) nor the first hosts'.
        spare = self.emulator.instances[-2]['InstanceId']
        self.ecs.attach_disk(ecs_models.AttachDiskRequest(
            disk_id=disk_id, instance_id=spare))
        self.wait_for(lambda: spare in self.disk_instances(
            self.backend_disk(disk_id)), what='the spare instance attach')
        self.ecs.detach_disk(ecs_models.DetachDiskRequest(
            disk_id=disk_id, instance_id=spare))
        self.wait_for(lambda: self.backend_disk(disk_id)['Status'] ==
                      'Available', what='the spare instance detach')

    def read_disk(self, disk_id, length, offset=0):
        with open(self.disk_file(disk_id), 'rb') as f:
            f.seek(offset)
            return f.read(length)

    def backend_snapshots(self, **filters):
        """Every snapshot of the region matching ``filters``, all pages."""
        return every_page(
            self.ecs.describe_snapshots, self.emulator.region_id,
            functools.partial(ecs_models.DescribeSnapshotsRequest,
                              **filters),
            'Snapshots', 'Snapshot')

    @staticmethod
    def disk_instances(disk):
        attachments = ((disk or {}).get('Attachments') or {}).get(
            'Attachment') or []
        return sorted(a['InstanceId'] for a in attachments)

    def _check_backend_clean(self):
        """No test may leave a disk or a snapshot on the backend."""
        disks = self.backend_disks()
        snapshots = self.backend_snapshots()
        self.assertEqual([], [(d['DiskId'], d.get('DiskName'),
                               d.get('Status')) for d in disks],
                         'disks left on the backend')
        self.assertEqual([], [(s['SnapshotId'], s.get('SnapshotName'))
                              for s in snapshots],
                         'snapshots left on the backend')

    # -- REST helpers ----------------------------------------------------

    def api_call(self, method, path, body=None, version=None, expect=None):
        """Call the volume API; return (status, decoded body)."""
        # The test client sets the version header from its api_version.
        saved, self.api.api_version = (self.api.api_version,
                                       version or self.osapi_version)
        try:
            response = self.api.api_request(
                path, method=method,
                body=json.dumps(body) if body is not None else None)
        finally:
            self.api.api_version = saved
        try:
            data = response.json() if response.text else None
        except ValueError:
            data = response.text
        if expect is not None and response.status_code not in (
                expect if isinstance(expect, (list, tuple)) else [expect]):
            raise ApiError('%s %s -> %s %s' % (
                method, path, response.status_code, data))
        return response.status_code, data

    def create_type(self, name=None, extra_specs=None, multiattach=False):
        specs = dict(extra_specs or {})
        if multiattach:
            specs['multiattach'] = '<is> True'
        body = {'volume_type': {
            'name': name or 'type-%s' % uuid.uuid4().hex[:8],
            'os-volume-type-access:is_public': True,
            'extra_specs': specs}}
        _, data = self.api_call('POST', '/types', body, expect=200)
        return data['volume_type']

    def add_encryption(self, type_id):
        body = {'encryption': {'provider': 'luks',
                               'control_location': 'front-end',
                               'cipher': 'aes-xts-plain64',
                               'key_size': 256}}
        return self.api_call('POST', '/types/%s/encryption' % type_id, body,
                             expect=200)[1]

    def create_volume(self, size=1, volume_type=None, wait=True,
                      expect_status='available', **extra):
        body = {'size': size, 'name': 'vol-%s' % uuid.uuid4().hex[:6]}
        if volume_type:
            body['volume_type'] = volume_type
        body.update(extra)
        _, data = self.api_call('POST', '/volumes', {'volume': body},
                                expect=202)
        volume = data['volume']
        if wait:
            volume = self.wait_volume(volume['id'], expect_status)
        return volume

    def get_volume(self, volume_id):
        status, data = self.api_call('GET', '/volumes/%s' % volume_id)
        if status == 404:
            return None
        return data['volume']

    def wait_volume(self, volume_id, expect=None, field='status',
                    done=None, timeout=None):
        """Poll a volume until it leaves transient states (or ``done``)."""
        deadline = time.monotonic() + (timeout or self.TIMEOUT)
        while True:
            volume = self.get_volume(volume_id)
            if volume is None:
                value = None
            else:
                value = volume[field]
            finished = (done(volume) if done else
                        value is None or value in FINAL_VOLUME_STATES)
            if expect is not None and value == expect:
                finished = True
            if finished or time.monotonic() > deadline:
                break
            time.sleep(self.POLL_INTERVAL)
        if expect is not None:
            self.assertEqual(expect, value,
                             'volume %s: %s' % (volume_id, volume))
        return volume

    def wait_for(self, predicate, timeout=None, what='a condition'):
        """Poll ``predicate()`` until it is true; fail after ``timeout``."""
        deadline = time.monotonic() + (timeout or self.TIMEOUT)
        while not predicate():
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s' % what)
            time.sleep(self.POLL_INTERVAL)

    def delete_volume(self, volume_id, wait=True, force=False):
        if force:
            self.api_call('POST', '/volumes/%s/action' % volume_id,
                          {'os-force_delete': None}, expect=202)
        else:
            self.api_call('DELETE', '/volumes/%s' % volume_id, expect=202)
        if wait:
            self.wait_volume(volume_id, done=lambda v: v is None or
                             v['status'] == 'error_deleting')
            self.assertIsNone(self.get_volume(volume_id),
                              'volume %s was not deleted' % volume_id)

    def connector(self, index, **extra):
        """The connector a compute host (emulator instance) sends."""
        instance = self.instance(index)
        connector = {'host': instance['HostName'],
                     'system uuid': instance['SerialNumber'],
                     'platform': 'x86_64', 'os_type': 'linux',
                     'multipath': False}
        connector.update(extra)
        return connector

    def create_attachment(self, volume_id, connector, instance_uuid=None,
                          mode='rw', complete=True, expect=200):
        body = {'attachment': {
            'volume_uuid': volume_id,
            'instance_uuid': instance_uuid or str(uuid.uuid4()),
            'connector': connector,
            'mode': mode}}
        status, data = self.api_call('POST', '/attachments', body,
                                     version='3.54', expect=expect)
        if status != 200:
            return status, data
        attachment = data['attachment']
        if complete:
            self.api_call('POST', '/attachments/%s/action' % attachment['id'],
                          {'os-complete': None}, version='3.54', expect=204)
        return attachment

    def delete_attachment(self, attachment_id):
        self.api_call('DELETE', '/attachments/%s' % attachment_id,
                      version='3.54', expect=200)

    def get_attachments(self, volume_id):
        _, data = self.api_call(
            'GET', '/attachments/detail?volume_id=%s' % volume_id,
            version='3.54', expect=200)
        return data['attachments']

    def create_snapshot(self, volume_id, wait=True, force=False):
        body = {'snapshot': {'volume_id': volume_id, 'force': force,
                             'name': 'snap-%s' % uuid.uuid4().hex[:6]}}
        _, data = self.api_call('POST', '/snapshots', body, expect=202)
        snapshot = data['snapshot']
        if wait:
            snapshot = self.wait_snapshot(snapshot['id'], 'available')
        return snapshot

    def get_snapshot(self, snapshot_id):
        status, data = self.api_call('GET', '/snapshots/%s' % snapshot_id)
        return None if status == 404 else data['snapshot']

    def wait_snapshot(self, snapshot_id, expect=None, timeout=None):
        deadline = time.monotonic() + (timeout or self.TIMEOUT)
        while True:
            snapshot = self.get_snapshot(snapshot_id)
            status = snapshot and snapshot['status']
            if status not in ('creating', 'deleting') or (
                    time.monotonic() > deadline):
                break
            time.sleep(self.POLL_INTERVAL)
        if expect is not None:
            self.assertEqual(expect, status,
                             'snapshot %s: %s' % (snapshot_id, snapshot))
        return snapshot

    def delete_snapshot(self, snapshot_id):
        self.api_call('DELETE', '/snapshots/%s' % snapshot_id, expect=202)
        self.wait_snapshot(snapshot_id)
        self.assertIsNone(self.get_snapshot(snapshot_id))

    def volume_action(self, volume_id, action, body=None, version=None,
                      expect=202):
        return self.api_call('POST', '/volumes/%s/action' % volume_id,
                             {action: body}, version=version,
                             expect=expect)[1]

    def retype(self, volume_id, vtype, policy='never'):
        """Retype a volume; answer it once the retype (or migration) ended."""
        self.volume_action(volume_id, 'os-retype',
                           {'new_type': vtype['id'],
                            'migration_policy': policy})
        return self.wait_volume(volume_id, done=lambda v: v['status'] in (
            'available', 'in-use', 'error') and not v.get(
                'migration_status') in ('starting', 'migrating'))

    def user_messages(self, resource_id):
        _, data = self.api_call('GET', '/messages', version='3.3',
                                expect=200)
        return [m for m in data['messages']
                if m.get('resource_uuid') == resource_id]

    def backend_host(self):
        """The volume service's host@backend#pool for manage calls."""
        _, data = self.api_call('GET', '/scheduler-stats/get_pools',
                                expect=200)
        return data['pools'][0]['name']

    # -- Cinder's own data copies ----------------------------------------

    def allow_host_copy(self):
        """Let the volume service copy volumes (generic migration).

        Cinder attaches both volumes to its own host with os-brick and
        copies with ``dd``; here the privileged parts are replaced: the
        host's connector is the one of the volume service's instance, the
        device check passes, and the copy is done in Python.
        """
        volume_host = self.connector(VOLUME_HOST_INSTANCE_INDEX,
                                     host=socket.gethostname())
        self.patch('cinder.volume.volume_utils.brick_get_connector_properties',
                   return_value=volume_host)
        self.patch('os_brick.initiator.connectors.local.LocalConnector.'
                   'check_valid_device', return_value=True)
        self.patch('cinder.volume.volume_utils.copy_volume',
                   side_effect=copy_device)

    # -- cleanup ---------------------------------------------------------

    def _delete_leftover_volumes(self):
        """Delete what a failed test left, so that orphans stand out."""
        try:
            _, data = self.api_call('GET', '/volumes/detail?all_tenants=1')
            volumes = (data or {}).get('volumes') or []
        except api_client.OpenStackApiException:
            return
        for volume in volumes:
            for attachment in self.get_attachments(volume['id']):
                self.api_call('DELETE', '/attachments/%s' % attachment['id'],
                              version='3.54')
            self.api_call('POST', '/volumes/%s/action' % volume['id'],
                          {'os-reset_status': {'status': 'available',
                                               'attach_status': 'detached'}})
            _, snaps = self.api_call(
                'GET', '/snapshots/detail?volume_id=%s' % volume['id'])
            for snap in (snaps or {}).get('snapshots') or []:
                self.api_call('DELETE', '/snapshots/%s' % snap['id'])
                self.wait_snapshot(snap['id'])
            self.api_call('DELETE', '/volumes/%s' % volume['id'])
        for volume in volumes:
            self.wait_volume(volume['id'], done=lambda v: v is None or
                             v['status'] == 'error_deleting')
