"""Cinder volume driver for EBS (Alibaba Cloud ESSD) disks.

One Cinder volume is one EBS disk; multi-attach volumes are ESSD disks
created with multi-attach enabled and attached, through the ECS API, to the
instances that are the compute hosts (up to ``ebs_max_attach_hosts``).
The driver class is the Cinder interface only; the work is done by:

* :mod:`cinder_ebs_driver.volume_types` - extra specs and their rules;
* :mod:`cinder_ebs_driver.volumes` / :mod:`~cinder_ebs_driver.snapshots` -
  disk and snapshot lifecycle;
* :mod:`cinder_ebs_driver.volume_changes` - extend, revert and retype of
  a volume's disk in place;
* :mod:`cinder_ebs_driver.host_mapping` - connector to ECS instance;
* :mod:`cinder_ebs_driver.attachments` - multi-attach rules;
* :mod:`cinder_ebs_driver.attach_locks` - what attach and detach lock;
* :mod:`cinder_ebs_driver.connection` - connection_info;
* :mod:`cinder_ebs_driver.manage` - manage / unmanage;
* :mod:`cinder_ebs_driver.stats` - scheduler statistics.
"""

import contextlib
import threading
import time

from cinder.common import config as cinder_config
from cinder import coordination
from cinder import exception
from cinder import interface
from cinder.volume import configuration
from cinder.volume import driver
from oslo_log import log as logging

from cinder_ebs_driver import attach_locks
from cinder_ebs_driver import attachments
from cinder_ebs_driver import client as ebs_client
from cinder_ebs_driver.client import credentials
from cinder_ebs_driver import connection
from cinder_ebs_driver import host_mapping
from cinder_ebs_driver import host_release
from cinder_ebs_driver.i18n import _
from cinder_ebs_driver import manage
from cinder_ebs_driver import naming
from cinder_ebs_driver import options
from cinder_ebs_driver import origins
from cinder_ebs_driver import reconcile
from cinder_ebs_driver import snapshots
from cinder_ebs_driver import stats
from cinder_ebs_driver import volume_changes
from cinder_ebs_driver import volumes

LOG = logging.getLogger(__name__)

CONF = cinder_config.CONF
CONF.register_opts(options.ebs_opts, group=configuration.SHARED_CONF_GROUP)

# Besides the options the credential type needs (see
# cinder_ebs_driver.client.credentials).
REQUIRED_OPTIONS = ('ebs_endpoint', 'ebs_region_id', 'ebs_zone_id')
# Generic Cinder options the driver reads.
GENERIC_OPTIONS = ('volume_backend_name', 'reserved_percentage',
                   'max_over_subscription_ratio')

VOLUME_LOCK = attach_locks.VOLUME_LOCK


@interface.volumedriver
class EBSVolumeDriver(driver.VolumeDriver):
    """Cinder volume driver for Alibaba Cloud EBS (ESSD) disks.

    Supports multi-attach of ESSD disks to up to 16 compute hosts, snapshots,
    clones, online and offline extend, revert to snapshot, retype in place,
    and manage / unmanage of disks and snapshots.

    Version history::

        1.0.0 - Initial driver
    """

    VERSION = '1.0.0'
    CI_WIKI_NAME = 'Alibaba_Cloud_EBS_CI'
    SUPPORTS_ACTIVE_ACTIVE = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(options.ebs_opts)
        self.client = None
        self._volumes = None
        self._volume_changes = None
        self._snapshots = None
        self._origins = None
        self._reconciler = None
        self._manage = None
        self._attacher = None
        self._releaser = None
        self._hosts = None
        self._stats_time = None
        self._stats_lock = threading.Lock()

    @staticmethod
    def get_driver_options():
        return (list(options.ebs_opts) +
                driver.BaseVD._get_oslo_driver_opts(*GENERIC_OPTIONS))

    # -- setup -----------------------------------------------------------

    def do_setup(self, context):
        """Create the backend client and the helpers that use it."""
        self.set_client(ebs_client.EBSClient(self.configuration))

    def set_client(self, client, attachment_records=None,
                   snapshot_refs=None, cinder_volumes=None):
        """Use a backend client (do_setup's; tests pass a mock).

        :param attachment_records: ``attachment_records(volume_id)``
            answers a volume's attachment records; Cinder's database by
            default (a driver run outside Cinder passes its own).
        :param snapshot_refs: ``snapshot_refs(ecs_snapshot_id)`` answers
            the ids of the Cinder snapshots recording an ECS snapshot;
            Cinder's database by default.
        :param cinder_volumes: ``cinder_volumes(volume_ids)`` answers
            what Cinder holds for the volumes (see
            :func:`~cinder_ebs_driver.reconcile.cinder_volumes`); Cinder's
            database by default.
        """
        conf = self.configuration
        self.client = client
        self._attacher = attachments.Attacher(client, conf)
        self._hosts = host_mapping.HostMapper(client, conf)
        self._releaser = host_release.HostReleaser(
            self._attacher, client, conf, records=attachment_records)
        self._reconciler = reconcile.Reconciler(
            self._releaser, self._hosts, volumes=cinder_volumes,
            max_repairs=conf.safe_get('ebs_reconcile_max_repairs'))
        self._origins = origins.OriginKeeper(client, snapshot_refs)
        self._volumes = volumes.VolumeOps(client, conf, self._attacher,
                                          self._origins)
        self._volume_changes = volume_changes.VolumeChanges(client, conf,
                                                            self._volumes)
        self._snapshots = snapshots.SnapshotOps(client, conf, self._volumes,
                                                self._origins)
        self._manage = manage.ManageOps(client, conf)

    def check_for_setup_error(self):
        """Refuse to start with an incomplete or invalid configuration."""
        conf = self.configuration
        missing = [name for name in REQUIRED_OPTIONS
                   if not conf.safe_get(name)]
        missing += credentials.missing_options(conf)
        if missing:
            msg = (_('The EBS backend %(backend)s needs %(missing)s in its '
                     'configuration section (ebs_credential_type '
                     '%(type)s).') %
                   {'backend': self._backend_name(),
                    'missing': ', '.join(missing),
                    'type': conf.safe_get('ebs_credential_type')})
            LOG.error(msg)
            raise exception.VolumeDriverException(message=msg)
        template = conf.safe_get('ebs_device_path_template')
        connection.device_path(template, 'd-check', 'i-check', 'host')
        for host, instance_id in (
                conf.safe_get('ebs_host_instance_map') or {}).items():
            if not instance_id:
                msg = (_('ebs_host_instance_map has no instance id for '
                         'host %s; use host:instance pairs.') % host)
                LOG.error(msg)
                raise exception.VolumeDriverException(message=msg)
        if self.client is None:
            msg = _('The EBS backend client was not created (do_setup).')
            raise exception.VolumeDriverException(message=msg)

    def _backend_name(self):
        return (self.configuration.safe_get('volume_backend_name') or
                self.__class__.__name__)

    # -- stats -----------------------------------------------------------

    def get_volume_stats(self, refresh=False):
        """The backend's stats; a refresh lists the backend's disks.

        A refresh asked for less than ``ebs_stats_min_interval`` seconds
        after the last listing answers its figures: cinder-volume asks
        for refreshes several times while it starts and after every
        volume deletion.
        The volumes this driver creates, deletes or extends meanwhile are
        counted in them; a manage, an unmanage or a failed change makes
        the next refresh list again.
        """
        min_interval = self.configuration.safe_get('ebs_stats_min_interval')
        # One listing at a time: a refresh asked for while another lists
        # (the periodic report during start-up) waits and answers its
        # figures.
        with self._stats_lock:
            fresh = (self._stats_time is not None and
                     time.monotonic() - self._stats_time < (min_interval or 0))
            if not self._stats or (refresh and not fresh):
                self._update_volume_stats()
            return self._stats

    def _update_volume_stats(self):
        disks = stats.cinder_disks(self.client)
        data = stats.build(self.configuration, disks, self._backend_name(),
                           self.VERSION)
        self._stats = data
        self._stats_time = time.monotonic()
        if self.configuration.safe_get('ebs_reconcile_attachments'):
            try:
                self._reconciler.reconcile(disks)
            except Exception:
                LOG.exception('Reconciling the backend\'s attachments with '
                              'Cinder\'s records failed; the next listing '
                              'tries again.')
        try:
            self._origins.sweep()
        except exception.VolumeBackendAPIException as err:
            LOG.warning('Could not look for retained snapshots to '
                        'release: %s', err)

    @contextlib.contextmanager
    def _changing_capacity(self, delta_gb=None):
        """Around a volume change: the stats follow it.

        :param delta_gb: GiB the backend's disks grow by (negative: shrink)
            when the change succeeds; the last figures are adjusted by it.
            When it is not known, or the change fails, the next refresh
            lists the disks again.
        """
        try:
            yield
        except Exception:
            self._stats_time = None
            raise
        if delta_gb is None or not self._stats:
            self._stats_time = None
        else:
            stats.add_provisioned(self._stats, self.configuration, delta_gb)

    def get_pool(self, volume):
        return stats.pool_name(self.configuration)

    # -- volumes ---------------------------------------------------------

    def create_volume(self, volume):
        with self._changing_capacity(volume.size):
            return self._volumes.create(volume)

    def create_volume_from_snapshot(self, volume, snapshot):
        snapshot_id = self._snapshots.snapshot_id(snapshot)
        with self._changing_capacity(volume.size):
            return self._volumes.create_from_snapshot(volume, snapshot_id)

    def create_cloned_volume(self, volume, src_vref):
        with self._changing_capacity(volume.size):
            return self._volumes.clone(volume, src_vref)

    @coordination.synchronized(VOLUME_LOCK)
    def delete_volume(self, volume):
        # Without a provider_id the volume may have no disk at all.
        with self._changing_capacity(
                -volume.size if volume.provider_id else None):
            self._volumes.delete(volume)

    @coordination.synchronized(VOLUME_LOCK)
    def extend_volume(self, volume, new_size):
        with self._changing_capacity(new_size - volume.size):
            self._volume_changes.extend(volume, new_size)

    @coordination.synchronized(VOLUME_LOCK)
    def revert_to_snapshot(self, context, volume, snapshot):
        snapshot_id = self._snapshots.snapshot_id(snapshot)
        self._volume_changes.revert(volume, snapshot_id)

    @coordination.synchronized(VOLUME_LOCK)
    def retype(self, context, volume, new_type, diff, host):
        return self._volume_changes.retype(context, volume, new_type,
                                           diff)

    def update_migrated_volume(self, context, volume, new_volume,
                               original_volume_status):
        """Keep the original volume id on the disk that now backs it.

        Cinder itself then swaps ``provider_id`` between the two volume
        records (the temporary one takes the old disk and deletes it): the
        model update must not contain it, or the swap would give the
        original volume its old disk back.
        """
        disk_id = new_volume.provider_id
        try:
            self.client.modify_disk_attribute(
                disk_id, name=volume.name,
                description=naming.volume_description(volume))
            self.client.tag_disk(disk_id, naming.volume_tags(volume))
        except exception.VolumeBackendAPIException as err:
            LOG.warning('Could not rename disk %(disk)s after migrating '
                        'volume %(vol)s: %(err)s',
                        {'disk': disk_id, 'vol': volume.id, 'err': err})
            return {'_name_id': new_volume._name_id or new_volume.id}
        return {'_name_id': None}

    # -- snapshots -------------------------------------------------------

    def create_snapshot(self, snapshot):
        return self._snapshots.create(snapshot)

    def delete_snapshot(self, snapshot):
        self._snapshots.delete(snapshot)

    # -- attach / detach -------------------------------------------------

    def validate_connector(self, connector):
        """A connector must name a host that maps to an ECS instance."""
        self._hosts.instance_for(connector)

    def create_export(self, context, volume, connector):
        pass

    def ensure_export(self, context, volume):
        pass

    def remove_export(self, context, volume):
        pass

    def initialize_connection(self, volume, connector, initiator_data=None,
                              **kwargs):
        """Attach the disk to the connector's host instance (once).

        Holds the volume's lock for this host only, across the attach and
        its wait: attachments on other hosts proceed at the same time (ECS
        attaches them concurrently and enforces its 16 instances itself).
        A second attachment on a host where the volume is attached reads
        the disk and sends nothing more. With ``ebs_max_attach_hosts``
        below 16 the volume-wide lock is held too, since the count of
        hosts then decides whether to send AttachDisk. A single-attach
        disk that a dead attach left on another instance is detached from
        it first (:meth:`Reconciler.free_for_attach
        <cinder_ebs_driver.reconcile.Reconciler.free_for_attach>`).
        """
        instance_id = self._hosts.instance_for(connector)
        disk_id = self._volumes.disk_id(volume)
        host = host_mapping.connector_host(connector)
        try:
            self._attach(volume, disk_id, instance_id, host)
        except attachments.AttachedElsewhere as refusal:
            self._free_for_attach(volume, disk_id, refusal)
            self._attach(volume, disk_id, instance_id, host)
        info = connection.build(
            volume, disk_id, instance_id, connector,
            self.configuration.ebs_device_path_template)
        LOG.info('Volume %(vol)s is attached to host %(host)s (instance '
                 '%(inst)s) at %(path)s.',
                 {'vol': volume.id, 'host': connector.get('host'),
                  'inst': instance_id, 'path': info['data']['device_path']})
        return info

    def _attach(self, volume, disk_id, instance_id, host):
        names = attach_locks.attach_lock_names(
            volume, host, self._attacher.counts_hosts())
        with attach_locks.held(names):
            self._attacher.attach(
                volume, disk_id, instance_id,
                maybe_attached=attachments.host_holds_connection(volume,
                                                                 host))

    def _free_for_attach(self, volume, disk_id, refusal):
        """Detach what a dead attach left, or raise ``refusal`` explained.

        :raises InvalidVolume: the disk is attached where Cinder has an
            attachment, an attach may be in flight, or an instance's host
            is unknown.
        """
        left = self._reconciler.free_for_attach(volume.id, disk_id,
                                                refusal.instances)
        if not left:
            return
        advice = {
            'kept': _('an attachment of the volume in Cinder is on that '
                      'host: detach the volume there first'),
            'in-flight': _('another attach of the volume may be in flight: '
                           'try again once it ended'),
            'unknown-host': _('no host is known for that instance: map it '
                              '(ebs_host_instance_map) or detach the disk '
                              'from it, then run ebs-cinder-reconcile '
                              '--repair'),
        }
        msg = (_('%(refusal)s Why it stays there: %(why)s.') %
               {'refusal': refusal.reason,
                'why': '; '.join('%s: %s' % (instance, advice[verdict])
                                 for instance, verdict in sorted(
                                     left.items()))})
        LOG.error(msg)
        raise attachments.AttachedElsewhere(left, reason=msg)

    def terminate_connection(self, volume, connector, **kwargs):
        """Detach from the host once no attachment there needs the disk.

        Returns True while another attachment of the volume on the same
        host keeps the connection (Cinder then keeps the export); since
        those may be deleted at this moment too, a re-check detaches the
        host once none is left (:mod:`cinder_ebs_driver.host_release`). Holds
        the volume's lock for this host, so that the detach never overlaps
        an attach to the same host. ``connector=None`` detaches the disk
        from every host, under the volume-wide lock.
        """
        if connector is None:
            disk_id = self._volumes.disk_id(volume)
            with attach_locks.held([attach_locks.volume_lock_name(volume)]):
                detached = self._attacher.detach_all(disk_id)
            LOG.info('Force-detached volume %(vol)s from %(inst)s.',
                     {'vol': volume.id,
                      'inst': ', '.join(detached) or _('no instance')})
            return False
        host = host_mapping.connector_host(connector)
        instance_id = self._hosts.instance_for(connector)
        disk_id = self._volumes.disk_id(volume)
        with attach_locks.held([attach_locks.host_lock_name(volume, host)]):
            # Read under the lock, not from ``volume``: an attach to this
            # host may have ended since Cinder loaded it, and Cinder records
            # that attach's connector only after it returned.
            needed = self._releaser.host_needed(volume.id, host,
                                                terminating=1)
            if needed is None:
                self._attacher.detach(disk_id, instance_id)
                return False
        return self._keep_connection(volume, host, disk_id, instance_id,
                                     needed)

    def _keep_connection(self, volume, host, disk_id, instance_id, why):
        LOG.info('Volume %(vol)s stays attached to host %(host)s: %(why)s.',
                 {'vol': volume.id, 'host': host,
                  'why': ('another attachment there holds it' if
                          why == 'kept' else 'an attach to it may be in '
                          'flight')})
        # Those attachments may be going at this moment too.
        self._releaser.schedule(volume, host, disk_id, instance_id)
        return True

    # -- manage / unmanage -----------------------------------------------

    def manage_existing(self, volume, existing_ref):
        with self._changing_capacity():
            return self._manage.manage(volume, existing_ref)

    def manage_existing_get_size(self, volume, existing_ref):
        return self._manage.get_size(volume, existing_ref)

    def unmanage(self, volume):
        with self._changing_capacity():
            self._manage.unmanage(volume)

    def get_manageable_volumes(self, cinder_volumes, marker, limit, offset,
                               sort_keys, sort_dirs):
        return self._manage.manageable_volumes(
            cinder_volumes, marker, limit, offset, sort_keys, sort_dirs)

    def manage_existing_snapshot(self, snapshot, existing_ref):
        return self._manage.manage_snapshot(snapshot, existing_ref)

    def manage_existing_snapshot_get_size(self, snapshot, existing_ref):
        return self._manage.snapshot_size(snapshot, existing_ref)

    def unmanage_snapshot(self, snapshot):
        self._manage.unmanage_snapshot(snapshot)

    def get_manageable_snapshots(self, cinder_snapshots, marker, limit,
                                 offset, sort_keys, sort_dirs):
        return self._manage.manageable_snapshots(
            cinder_snapshots, marker, limit, offset, sort_keys, sort_dirs)
