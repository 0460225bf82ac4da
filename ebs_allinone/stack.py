"""The services of the all-in-one, started and stopped as one.

Layout of the run's directory (a temporary one unless given)::

    emulator/        the EBS emulator's state (database, disks, devices)
    emulator.log     its output
    cinder/          Cinder's state (SQLite database, locks)
    keystone/        with Keystone: its state (ebs_allinone.identity.keystone)
    glance/          with the image service: Glance's configuration,
                     database, file store and logs (ebs_allinone.image.glance)
    clouds.yaml, <user>-openrc, servers-api.log   with Keystone
    cinder.conf, api-paste.ini, cinder.log, cinder-process.log
    hosts/<name>/    each simulated compute host's libvirtd and guest

Every start registers its stop; :meth:`AllInOne.stop` runs them in reverse
order and then looks for leftovers. A temporary directory is removed at
the end unless the run failed (``stop(keep_dir=True)``): then it stays,
with the logs of every service.
"""

import contextlib
import os
import shutil
import tempfile
import uuid

from oslo_log import log as logging

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.cinder import config as cinder_config
from ebs_allinone.cinder import processes as cinder_processes
from ebs_allinone.daemons import process
from ebs_allinone.hosts import device
from ebs_allinone.identity import auth as identity_mod
from ebs_allinone.image import glance as glance_mod
from ebs_allinone import leftovers
from ebs_allinone import zones as zones_mod
from ebs_emulator import config as emulator_config
from nova_shim import host as host_mod
from nova_shim.volume_api import cinder as cinder_volumes

LOG = logging.getLogger(__name__)

MIN_HOSTS = 2
MAX_HOSTS = 16


def host_names(count):
    """host-a, host-b, ... host-p."""
    if not MIN_HOSTS <= count <= MAX_HOSTS:
        raise ValueError('between %d and %d hosts, not %d'
                         % (MIN_HOSTS, MAX_HOSTS, count))
    return ['host-%s' % chr(ord('a') + i) for i in range(count)]


def emulator_instances(names, zone_id):
    """One emulator instance per host name.

    :param zone_id: the zone of every instance, or {host name: zone}.
    """
    instances = []
    for index, name in enumerate(names):
        instance_id = 'i-emu%04d' % index
        instances.append({
            'InstanceId': instance_id, 'HostName': name,
            'SerialNumber': emulator_config.instance_serial(instance_id),
            'ZoneId': zone_id[name] if isinstance(zone_id, dict)
            else zone_id})
    return instances


class AllInOne(object):
    """Emulator, Cinder and simulated compute hosts on this machine.

    :param state_dir: keep everything there (kept at the end); default a
        temporary directory, removed at the end.
    :param num_hosts: simulated compute hosts (2 to 16).
    :param host_factory: ``f(stack, name, instance_id)`` returning a
        compute host object; default :class:`device.DeviceHost`.
    :param names: the compute hosts' names, instead of ``num_hosts``
        generated ones (any number: for compute hosts that something else
        runs, such as more than the driver's limit of 16).
    :param outer_filters: extra paste filters put first in Cinder's API
        pipelines, {name: ``[filter:name]`` section} (see
        :func:`cinder_config.write_api_paste`).
    :param auth: ``noauth`` (Cinder's noauth middleware) or ``keystone``
        (a private Keystone, see :mod:`ebs_allinone.identity.auth`).
    :param credentials: how the driver signs its calls, ``access_key`` or
        ``sts`` (see :mod:`ebs_allinone.cinder.config`).
    :param image: also run Glance (with ``auth='keystone'`` only), in the
        catalog as the image service, and point Cinder at it (see
        :mod:`ebs_allinone.image.glance`).
    :param zones: emulator zones, one EBS backend and Cinder availability
        zone each, the compute hosts spread over them (see
        :mod:`ebs_allinone.zones`).
    :param performance_level: the backends' default ESSD performance
        level (``ebs_default_performance_level``); None: the driver's.
    :param backends_per_zone: EBS backends in each zone (see
        :func:`ebs_allinone.zones.backends`).
    """

    topology = 'single'
    # The hosts of the volume services; each has an emulator instance
    # (image copies attach volumes to it).
    volume_hosts = (cinder_config.VOLUME_HOST,)

    def __init__(self, state_dir=None, num_hosts=MIN_HOSTS,
                 host_factory=None, debug=False, names=None,
                 outer_filters=None, auth=identity_mod.NoAuth.name,
                 credentials=cinder_config.ACCESS_KEY, image=False,
                 zones=1, performance_level=None, backends_per_zone=1):
        if image and auth != identity_mod.Keystone.name:
            raise ValueError('the image service needs Keystone')
        self.given_dir = state_dir
        self.zones = zones_mod.zones(zones)
        # The backends, zone by zone (see backends below).
        self.zone_backends = zones_mod.backends(self.zones,
                                                backends_per_zone)
        self.credentials = credentials
        self.performance_level = performance_level
        self.outer_filters = dict(outer_filters or {})
        self.names = list(names) if names else host_names(num_hosts)
        # {compute host: its zone}
        self.host_zones = {
            name: self.zones[index] for name, index in zones_mod.spread(
                self.names, len(self.zones)).items()}
        self.backends = []
        self.volume_instances = []
        self.host_factory = host_factory or _device_host
        self.debug = debug
        self.dir = None
        self.emulator = None
        self.cinder = None
        self.hosts = []
        self.pids = {}
        self.auth = auth
        self.identity = None
        self.image = image
        self.glance = None
        self.keep_dir = False
        self._stack = contextlib.ExitStack()

    # -- start ------------------------------------------------------------
    def make_dir(self):
        if self.given_dir:
            self.dir = os.path.abspath(self.given_dir)
            os.makedirs(self.dir, exist_ok=True)
        else:
            self.dir = tempfile.mkdtemp(prefix='ebs-allinone-')
            self._stack.callback(self._remove_dir)
        return self.dir

    def _remove_dir(self):
        if not self.keep_dir:
            shutil.rmtree(self.dir, True)

    @property
    def dir_kept(self):
        """Whether the run's directory stays after :meth:`stop`."""
        return self.dir is not None and bool(self.given_dir or self.keep_dir)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start_emulator(self, progress=None):
        """The emulator, one instance per compute host and volume host.

        A volume host has an instance in each zone.
        """
        placed = {name: zone.emulator_zone
                  for name, zone in self.host_zones.items()}
        for zone in self.zones:
            for volume_host in self.volume_hosts:
                placed[zones_mod.volume_instance_name(
                    volume_host, zone)] = zone.emulator_zone
        instances = emulator_instances(list(placed), placed)
        by_name = {i['HostName']: i['InstanceId'] for i in instances}
        # Each compute host's instance, and the volume hosts' of the first
        # zone.
        self.host_instances = {
            name: by_name[name]
            for name in self.names + list(self.volume_hosts)}
        # Every volume host's instance in every zone, zone by zone.
        self.volume_instances = [
            by_name[zones_mod.volume_instance_name(volume_host, zone)]
            for zone in self.zones for volume_host in self.volume_hosts]
        self.backends = [
            (zone, zones_mod.backend_host_map(
                zone, {name: by_name[name] for name in self.names},
                by_name, self.volume_hosts))
            for zone in self.zone_backends]
        secret = uuid.uuid4().hex
        key_id = 'ALLINONE%s' % uuid.uuid4().hex[:12].upper()
        conf_file = self.path('emulator.conf')
        fd = os.open(conf_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write('[DEFAULT]\naccess_key = %s:%s\n' % (key_id, secret))
        self.emulator = process.EmulatorProcess(
            self.path('emulator'), self.path('emulator.log'),
            (key_id, secret), instances=instances,
            instances_file=self.path('instances.json'),
            transition_delay=0.1, config_file=conf_file,
            extra_args=self._emulator_args())
        self._stack.callback(self.emulator.stop)
        self.emulator.start(progress)
        self.pids['ebs-emulator'] = self.emulator.pid
        return self.emulator

    def _emulator_args(self):
        args = []
        if self.credentials == cinder_config.STS:
            args += ['--sts-token-lifetime',
                     str(cinder_config.STS_TOKEN_LIFETIME)]
        if self.image:
            # Image copies write the volume with qemu-img convert, which
            # truncates a regular file (a FUSE view refuses): the volume
            # hosts see block devices, as on ECS. Each volume host has an
            # instance in every zone, the one its backend of that zone
            # attaches to.
            for instance_id in self.volume_instances:
                args += ['--block-device-instance', instance_id]
        return args

    def start_identity(self, progress=None):
        """Keystone (and the stand-in compute API), or nothing (noauth)."""
        if self.auth == identity_mod.Keystone.name:
            self.identity = identity_mod.Keystone(
                self.dir,
                accounts=glance_mod.ACCOUNT if self.image else None)
        else:
            self.identity = identity_mod.NoAuth()
        self._stack.callback(self.identity.stop)
        self.identity.start(progress)
        self.pids.update(self.identity.pids)
        return self.identity

    def start_image(self, progress=None):
        """Glance, in the catalog as the image service."""
        keystone = self.identity.keystone
        self.glance = glance_mod.Glance(self.path('glance'), keystone,
                                        debug=self.debug)
        self._stack.callback(self.glance.stop)
        self.glance.start(progress)
        self.pids['glance-api'] = self.glance.pid
        keystone.register(glance_mod.IMAGE_SERVICE, self.glance.url)
        return self.glance

    def configure_cinder(self, conf):
        """The identity's sections of cinder.conf; Glance's URL.

        The machine's host name, which os-brick's connector of an image
        copy carries, is mapped in every backend section already (see
        :func:`ebs_allinone.zones.backend_host_map`).
        """
        self.identity.configure_cinder(conf)
        if self.glance is not None:
            # Image copies (volume from image, upload to image) go there,
            # not to an image service of the catalog.
            conf['DEFAULT']['glance_api_servers'] = self.glance.url

    def start_cinder(self, progress=None, api_port=0):
        """Cinder's API, scheduler and volume services (one process)."""
        if self.identity is None:
            self.start_identity(progress)
        os.makedirs(self.path('cinder'), exist_ok=True)
        cinder_config.write_api_paste(self.path('api-paste.ini'),
                                      outer_filters=self.outer_filters)
        cinder_config.write_cinder_conf(
            self.path('cinder.conf'), self.path('cinder'), self.emulator,
            self.host_instances, api_port=api_port,
            paste_path=self.path('api-paste.ini'),
            log_path=self.path('cinder.log'), debug=self.debug,
            configure=self.configure_cinder,
            credentials=self.credentials, backends=self.backends,
            backup=True, performance_level=self.performance_level)
        self.cinder = cinder_processes.CinderProcess(
            self.path('cinder.conf'), self.path('cinder-process.log'))
        self._stack.callback(self.cinder.stop)
        self.cinder.start(progress)
        self.pids['cinder'] = self.cinder.pid
        self.api_started()
        admin = self.client(cinder_api.MULTIATTACH_VERSION)
        return cinder_api.wait_for_backend(admin, progress=progress,
                                           watch=self.check_children,
                                           backends=len(self.zone_backends))

    def api_started(self):
        """Once cinder-api listens: its URL to the clients, the catalog."""
        self.identity.set_url(self.cinder.url)
        self.identity.register_volume_api(self.cinder.url)

    def client(self, version, service=False):
        """A cinderclient of the all-in-one's operator at ``version``.

        :param service: with the compute service's service token (under
            noauth: as the noauth user that has the service role).
        """
        return cinder_api.session_client(
            self.identity.session(service=service), version,
            endpoint_override=self.identity.endpoint())

    def compute_volume_api(self):
        """The volume API as the compute hosts use it (service token).

        With noauth the user ``nova`` has the service role, as a service
        token gives Nova's requests; with Keystone the requests carry the
        ``nova`` user's token in ``X-Service-Token``. Either way
        attachments are created at Nova's 3.44.
        """
        return cinder_volumes.CinderVolumeAPI(
            self.identity.session(service=True),
            endpoint_override=self.identity.endpoint(), service_token=True)

    def start_hosts(self, progress=None):
        """Create and start every simulated compute host."""
        host_mod.init_privsep()
        for name in self.names:
            host = self.host_factory(self, name, self.host_instances[name])
            self._stack.callback(host.stop)
            host.start(progress)
            self.hosts.append(host)
        return self.hosts

    def host(self, name):
        """The started simulated compute host called ``name``."""
        return self.hosts[self.names.index(name)]

    def zone_hosts(self, zone=None):
        """The compute hosts of ``zone`` (default: the first), by name."""
        zone = zone or self.zones[0]
        return [name for name in self.names if self.host_zones[name] == zone]

    def zone_backend_names(self, zone):
        """The names of ``zone``'s backends (``--backends-per-zone``)."""
        return [backend.backend for backend in self.zone_backends
                if backend.index == zone.index]

    def describe(self):
        """What ``serve`` says about the topology (its own paragraph)."""
        return ''

    # -- the services' health ---------------------------------------------
    def children(self):
        """{name: process.ChildProcess} of the services started."""
        found = {'ebs-emulator': self.emulator}
        if self.identity is not None:
            found.update(self.identity.children())
        if self.glance is not None:
            found['glance-api'] = self.glance.server
        found['cinder'] = self.cinder
        return {name: child for name, child in found.items()
                if child is not None}

    def exited(self):
        """Errors of the services that exited since they started.

        :returns: a :class:`process.ProcessError` for each, with the
            last lines of its log.
        """
        return [error for error in (
            child.exited() for _name, child in sorted(
                self.children().items())) if error is not None]

    def check_children(self):
        """:raises process.ProcessError: a service has exited."""
        for error in self.exited():
            raise error

    # -- stop -------------------------------------------------------------
    def stop(self, keep_dir=False):
        """Stop everything started, in reverse order; return leftovers.

        :param keep_dir: keep a temporary run directory too (after a
            failure: the services' logs are there).
        """
        self.keep_dir = self.keep_dir or keep_dir
        for host in self.hosts:
            for what, pid in host.pids().items():
                self.pids['%s %s' % (host.name, what)] = pid
        try:
            self._stack.close()
        except Exception:
            LOG.exception('Stopping the all-in-one failed')
        if self.dir is None:
            return []
        return leftovers.find(self.pids, self.dir,
                              directory_must_go=not self.dir_kept)


def _device_host(stack, name, instance_id):
    return device.DeviceHost(name, instance_id, stack.compute_volume_api())
