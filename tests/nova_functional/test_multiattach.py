"""Nova's own code attaches one multi-attach volume to several servers.

Nova 34's API, conductor, scheduler, placement and libvirt computes (on
fakelibvirt) run in this process; Cinder with the EBS driver, the emulator
and the multi-attach API guard in its default configuration run in their
own processes, started once for the class. Each scenario checks Cinder's
attachments, the disk's attached instances on the backend and the disk XML
Nova's libvirt driver passed to ``attachDeviceFlags``, and leaves Cinder
and the backend empty.
"""

import time

from cinderclient import exceptions as cinder_exc
import fixtures
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.api import client as nova_client
from os_brick.initiator.connectors import local as brick_local
from oslo_utils import uuidutils
import testtools.content

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.cinder import config
from ebs_allinone.cinder.filters import call_log
from nova_shim import attach
from nova_shim.volume_api import cinder as cinder_volumes
from tests.nova_functional import cinder_stack
from tests.nova_functional import nova_harness

# The project of Nova's test users (OSAPIFixture), hexadecimal as Cinder's
# URLs need it.
PROJECT_ID = '6f70656e737461636b20342065766572'
SERVICE_USER = config.SERVICE_USER
MAX_HOSTS = 16
HOSTS = ['compute-%02d' % index for index in range(1, MAX_HOSTS + 2)]
# The smallest ESSD PL1 disk (sparse on the emulator).
VOLUME_GB = 20
AFFECT_LIVE_AND_CONFIG = 3  # VIR_DOMAIN_AFFECT_LIVE | _CONFIG
# os-brick's own, before Nova's harness fakes every connector's
# connect_volume (the shim builds its <disk> from the path it answers).
LOCAL_CONNECT_VOLUME = brick_local.LocalConnector.connect_volume


def _set_metadata(domain, metadata_type, metadata, key, uri, flags=0):
    store = domain.__dict__.setdefault('_test_metadata', {})
    if metadata is None:
        store.pop(uri, None)
    else:
        store[uri] = metadata


def _metadata(domain, metadata_type, uri, flags=0):
    return domain.__dict__.get('_test_metadata', {}).get(uri, '')


class MultiattachWithNovaTest(nova_harness.NovaWithCinderTestBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cinder_stack = cinder_stack.CinderStack(HOSTS)
        try:
            cls.cinder_stack.start()
        except BaseException:
            cls.cinder_stack.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        left = cls.cinder_stack.stop()
        super().tearDownClass()
        if left:
            raise AssertionError('left behind: %s' % '; '.join(left))

    def setUp(self):
        super().setUp()
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        self.volumes = self.cinder_stack.client(PROJECT_ID)
        self.addCleanup(self._check_clean)

    # -- helpers ---------------------------------------------------------
    def _start_computes(self, count):
        for name in HOSTS[:count]:
            self.start_compute(hostname=name)

    def _volume_type(self, multiattach=True):
        name = 'nova-%s' % uuidutils.generate_uuid()[:8]
        vtype = self.volumes.volume_types.create(name)
        self.addCleanup(self.volumes.volume_types.delete, vtype.id)
        if multiattach:
            vtype.set_keys({'multiattach': '<is> True'})
        return vtype

    def _volume(self, multiattach=True):
        vtype = self._volume_type(multiattach)
        volume = self.volumes.volumes.create(VOLUME_GB, volume_type=vtype.id)
        self.addCleanup(self._delete_volume, volume.id)
        volume = cinder_api.wait_for_status(self.volumes.volumes, volume.id,
                                            ('available',))
        self.assertEqual(multiattach, volume.multiattach)
        return volume

    def _delete_volume(self, volume_id):
        try:
            volume = self.volumes.volumes.get(volume_id)
        except cinder_exc.NotFound:
            return
        if volume.status != 'available':
            # Only after a failure: as the compute service, which may
            # delete connected attachments, then reset what is left.
            service = self.cinder_stack.client(PROJECT_ID,
                                               user_id=SERVICE_USER)
            for attachment in service.attachments.list(
                    search_opts={'volume_id': volume_id}):
                service.attachments.delete(attachment.id)
            self.volumes.volumes.reset_state(volume_id, 'available',
                                             attach_status='detached')
        self.volumes.volumes.delete(volume_id)
        cinder_api.wait_for_deleted(self.volumes.volumes, volume_id)

    def _server(self, host):
        # Forced onto the host through the availability zone (admin).
        server = self._create_server(az='nova:%s' % host, networks='none')
        self.addCleanup(self._delete_server_if_present, server)
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    def _delete_server_if_present(self, server):
        # Nova's services share this process: on a loaded machine a
        # delete can meet the compute's periodic resource update on one
        # database context, and the API answers 500 ("Can't upgrade a
        # READER transaction to a WRITER mid-transaction"), the instance
        # left as it was. A second delete finds the context free.
        for attempt in range(2):
            try:
                self._delete_server(server)
                return
            except nova_client.OpenStackApiNotFoundException:
                return
            except nova_client.OpenStackApiException:
                if attempt:
                    raise
                time.sleep(1)

    def _disk_of(self, volume_id):
        for disk in self.cinder_stack.disks():
            tags = (disk.get('Tags') or {}).get('Tag') or []
            if any(tag.get('TagValue') == volume_id for tag in tags):
                return disk['DiskId']
        self.fail('no disk for volume %s' % volume_id)

    def _cinder_attachments(self, volume_id):
        """{server id: attach status} of the volume's attachments."""
        found = self.volumes.attachments.list(
            search_opts={'volume_id': volume_id})
        return {a.instance: a.status for a in found}

    def _backend_hosts(self, volume_id):
        instances = self.cinder_stack.attached_instances(
            self._disk_of(volume_id))
        by_instance = {instance: host for host, instance
                       in self.cinder_stack.host_instances.items()}
        return sorted(by_instance[i] for i in instances)

    def _assert_attached(self, volume_id, servers):
        """Cinder, the backend and Nova agree the servers have the volume."""
        self.assertEqual({s['id']: 'attached' for s in servers},
                         self._cinder_attachments(volume_id))
        self.assertEqual(
            sorted(set(s['OS-EXT-SRV-ATTR:host'] for s in servers)),
            self._backend_hosts(volume_id))
        volume = self.volumes.volumes.get(volume_id)
        self.assertEqual('in-use' if servers else 'available', volume.status)

    def _assert_shared_disk_xml(self, server, volume_id, multiattach=True):
        disk, flags = self.disk_xml(server['id'], volume_id)
        self.assertEqual(AFFECT_LIVE_AND_CONFIG, flags)
        self.assertEqual('block', disk.get('type'))
        self.assertEqual(volume_id, disk.findtext('serial'))
        driver = disk.find('driver')
        self.assertEqual(('qemu', 'raw', 'none'), (
            driver.get('name'), driver.get('type'), driver.get('cache')))
        # Nova sets no AIO mode for 'local' volumes (nor does the shim).
        self.assertIsNone(driver.get('io'))
        self.assertEqual(multiattach, disk.find('shareable') is not None)
        source = disk.find('source').get('dev')
        instance = self.cinder_stack.host_instances[
            server['OS-EXT-SRV-ATTR:host']]
        self.assertIn('/instances/%s/' % instance, source)
        return disk

    def _attach(self, server, volume_id):
        self._attach_volume(server, volume_id)

    def _detach(self, server, volume_id):
        self.api.delete_server_volume(server['id'], volume_id)
        self._wait_for_volume_detach(server['id'], volume_id)

    def _check_clean(self):
        """Nothing of the test's left on Cinder or the backend."""
        self.assertEqual([], [v.id for v in self.volumes.volumes.list()])
        self.assertEqual([], self.volumes.attachments.list())
        self.assertEqual([], [d['DiskId'] for d in self.cinder_stack.disks()])

    # -- scenarios -------------------------------------------------------
    def test_two_servers_on_two_hosts_detach_in_both_orders(self):
        self._start_computes(2)
        first = self._server(HOSTS[0])
        second = self._server(HOSTS[1])
        for detach_order in ((first, second), (second, first)):
            volume = self._volume()
            self._attach(first, volume.id)
            self._assert_attached(volume.id, [first])
            self._attach(second, volume.id)
            self._assert_attached(volume.id, [first, second])
            for server in (first, second):
                self._assert_shared_disk_xml(server, volume.id)
            self._detach(detach_order[0], volume.id)
            self._assert_attached(volume.id, [detach_order[1]])
            self._detach(detach_order[1], volume.id)
            self._assert_attached(volume.id, [])
            self._delete_volume(volume.id)

    def test_two_servers_on_one_host_share_one_backend_attachment(self):
        self._start_computes(1)
        first = self._server(HOSTS[0])
        second = self._server(HOSTS[0])
        volume = self._volume()
        self._attach(first, volume.id)
        self._attach(second, volume.id)
        self._assert_attached(volume.id, [first, second])
        self.assertEqual([HOSTS[0]], self._backend_hosts(volume.id))
        for server in (first, second):
            self._assert_shared_disk_xml(server, volume.id)
        self._detach(first, volume.id)
        self._assert_attached(volume.id, [second])
        self.assertEqual([HOSTS[0]], self._backend_hosts(volume.id))
        self._detach(second, volume.id)
        self._assert_attached(volume.id, [])

    def test_compute_api_259_refused(self):
        self._start_computes(2)
        first = self._server(HOSTS[0])
        second = self._server(HOSTS[1])
        volume = self._volume()
        self._attach(first, volume.id)
        self.api.microversion = '2.59'
        error = self.assertRaises(
            nova_client.OpenStackApiException, self.api.post_server_volume,
            second['id'], {'volumeAttachment': {'volumeId': volume.id}})
        self.assertEqual(400, error.response.status_code)
        self.assertIn('2.60', str(error))
        self._assert_attached(volume.id, [first])
        self.api.microversion = '2.60'
        self._detach(first, volume.id)
        self._assert_attached(volume.id, [])

    def test_second_server_on_a_volume_that_is_not_multiattach(self):
        self._start_computes(2)
        first = self._server(HOSTS[0])
        second = self._server(HOSTS[1])
        volume = self._volume(multiattach=False)
        self._attach(first, volume.id)
        self._assert_shared_disk_xml(first, volume.id, multiattach=False)
        error = self.assertRaises(
            nova_client.OpenStackApiException, self.api.post_server_volume,
            second['id'], {'volumeAttachment': {'volumeId': volume.id}})
        self.assertEqual(400, error.response.status_code)
        self._assert_attached(volume.id, [first])
        self.assertEqual([], self.api.get_server_volumes(second['id']))
        self._detach(first, volume.id)
        self._assert_attached(volume.id, [])

    def test_seventeenth_host_refused(self):
        self._start_computes(MAX_HOSTS + 1)
        servers = [self._server(host) for host in HOSTS]
        volume = self._volume()
        for server in servers[:MAX_HOSTS]:
            self._attach(server, volume.id)
        self._assert_attached(volume.id, servers[:MAX_HOSTS])
        disk_before = self.cinder_stack.disk(self._disk_of(volume.id))
        last = servers[MAX_HOSTS]
        # The harness turns Nova's cast to the compute into a call, so the
        # compute's failure reaches the API (a deployment answers 202 and
        # the attach fails on the compute).
        self.assertRaises(
            nova_client.OpenStackApiException, self.api.post_server_volume,
            last['id'], {'volumeAttachment': {'volumeId': volume.id}})
        self._wait_for_action_fail_completion(
            last, 'attach_volume', 'compute_attach_volume')
        # The driver's message, as Cinder answered Nova's attachment update.
        self.assertIn('is already attached to 16 hosts, the maximum '
                      '(ebs_max_attach_hosts=16)',
                      self.stdlog.logger.output)
        # Nova rolled back its attachment; the backend did not change.
        self.assertEqual([], self.api.get_server_volumes(last['id']))
        self._assert_attached(volume.id, servers[:MAX_HOSTS])
        self.assertEqual(disk_before,
                         self.cinder_stack.disk(self._disk_of(volume.id)))
        for server in servers[:MAX_HOSTS]:
            self._detach(server, volume.id)
        self._assert_attached(volume.id, [])

    def test_server_deleted_while_attached(self):
        self._start_computes(2)
        first = self._server(HOSTS[0])
        second = self._server(HOSTS[1])
        volume = self._volume()
        self._attach(first, volume.id)
        self._attach(second, volume.id)
        self._delete_server(first)
        self._assert_attached(volume.id, [second])
        self._delete_server(second)
        self._assert_attached(volume.id, [])

    def test_forced_detach_in_cinder(self):
        self._start_computes(2)
        first = self._server(HOSTS[0])
        second = self._server(HOSTS[1])
        volume = self._volume()
        self._attach(first, volume.id)
        self._attach(second, volume.id)
        attachment = [a for a in self.volumes.attachments.list(
            search_opts={'volume_id': volume.id})
            if a.instance == first['id']][0]
        path = '/volumes/%s/action' % volume.id
        body = {'os-force_detach': {'attachment_id': attachment.id,
                                    'connector': {'host': HOSTS[0]}}}
        # An end user (even an admin) may not cut a disk from under a
        # server Nova still runs (Cinder's own check, CVE-2023-2088).
        error = self.assertRaises(cinder_exc.ClientException,
                                  self.volumes.client.post, path, body=body)
        self.assertEqual(409, error.code)
        self._assert_attached(volume.id, [first, second])
        # The compute service may, e.g. for a host that is gone.
        service = self.cinder_stack.client(PROJECT_ID, user_id=SERVICE_USER)
        service.client.post(path, body=body)
        cinder_api.wait_for_status(self.volumes.volumes, volume.id,
                                   ('in-use',))
        self._assert_attached(volume.id, [second])
        # Nova still lists the volume on the server; detaching there
        # finishes on Nova's side (Nova ignores the missing attachment) but
        # leaves the volume 'detaching' from its os-begin_detaching: the
        # operator rolls that back, as after any interrupted detach.
        self._detach(first, volume.id)
        self.assertEqual('detaching',
                         self.volumes.volumes.get(volume.id).status)
        self.volumes.volumes.roll_detaching(volume.id)
        self._assert_attached(volume.id, [second])
        self._detach(second, volume.id)
        self._assert_attached(volume.id, [])

    # -- the shim's Cinder calls against Nova's --------------------------
    def _shim(self, host):
        """nova_shim's attacher for a compute of the harness.

        It drives that compute's fakelibvirt connection, as Nova's libvirt
        driver does, and talks to Cinder with Nova's service token.
        """
        self.useFixture(fixtures.MonkeyPatch('nova_shim.attach.libvirt',
                                             fakelibvirt))
        self.useFixture(fixtures.MonkeyPatch('nova_shim.guest.libvirt',
                                             fakelibvirt))
        # fakelibvirt ignores domain metadata, where the shim keeps its
        # per-volume record.
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.setMetadata', _set_metadata))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.metadata', _metadata))
        self.useFixture(fixtures.MonkeyPatch(
            'os_brick.initiator.connectors.local.LocalConnector.'
            'connect_volume', LOCAL_CONNECT_VOLUME))
        api = cinder_volumes.CinderVolumeAPI.noauth(
            self.cinder_stack.url + '/{project_id}', project_id=PROJECT_ID,
            service_token=nova_harness.SERVICE_TOKEN)
        conn = self.computes[host].driver._host.get_connection()
        return attach.VolumeAttacher(conn, api, host=host,
                                     my_ip='127.0.0.1', detach_timeout=5)

    def _scenario_calls(self, attach_volume, detach_volume):
        """The Cinder calls of a scenario.

        The servers (on two hosts) attach one multi-attach volume in turn,
        then detach it in the same order.
        """
        volume = self._volume()
        mark = self.cinder_stack.call_mark()
        for server in self.servers:
            attach_volume(server, volume.id)
        for server in self.servers:
            detach_volume(server, volume.id)
        calls = self.cinder_stack.calls_since(mark)
        self._assert_attached(volume.id, [])
        self._delete_volume(volume.id)
        return calls

    def test_shim_makes_the_cinder_calls_nova_makes(self):
        self._start_computes(2)
        self.servers = [self._server(host) for host in HOSTS[:2]]
        shims = {host: self._shim(host) for host in HOSTS[:2]}

        def shim_attach(server, volume_id):
            shims[server['OS-EXT-SRV-ATTR:host']].attach(server['id'],
                                                         volume_id)

        def shim_detach(server, volume_id):
            shims[server['OS-EXT-SRV-ATTR:host']].detach(server['id'],
                                                         volume_id)

        nova_calls = self._scenario_calls(self._attach, self._detach)
        shim_calls = self._scenario_calls(shim_attach, shim_detach)
        message = 'Nova:\n%s\nnova_shim:\n%s' % (
            call_log.format_calls(nova_calls),
            call_log.format_calls(shim_calls))
        self.addDetail('cinder-calls', testtools.content.text_content(
            message))
        # Nova's own calls were seen (every one as the compute service,
        # none refused), and the shim made the same ones in the same order.
        writes = [(c.method, c.path.rsplit('/', 1)[-1], c.action)
                  for c in nova_calls if c.method != 'GET']
        self.assertEqual(
            2 * [('POST', 'attachments', None), ('PUT', '{id}', None),
                 ('POST', 'action', 'os-complete')] +
            2 * [('POST', 'action', 'os-begin_detaching'),
                 ('DELETE', '{id}', None)], writes, message)
        self.assertTrue(all(c.service_token and c.status < 400
                            for c in nova_calls), message)
        self.assertEqual(nova_calls, shim_calls, message)
