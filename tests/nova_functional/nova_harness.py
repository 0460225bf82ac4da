"""Nova's functional harness with its volume calls going to this Cinder.

:class:`NovaWithCinderTestBase` is Nova's own
``nova.tests.functional.libvirt.base.ServersTestBase`` (API, conductor,
scheduler, placement and libvirt computes on Nova's fakelibvirt, all
in-process) with the changes it takes to make Nova's ``[cinder]`` client
talk over HTTP to the Cinder of :mod:`tests.nova_functional.cinder_stack`
instead of Nova's in-memory ``CinderFixture``:

* no ``CinderFixture``;
* a token on the stubbed Keystone context (``user:project``, what Cinder's
  noauth reads) and ``[cinder] endpoint_template`` at the Cinder;
* Nova's service token (``[service_user] send_service_user_token`` with
  the ``admin_token`` plugin), as Cinder needs from Nova to delete a
  connected attachment and the guard to let Nova attach at 3.44;
* the connector of each compute names that compute, and a detach runs as
  the server's compute (the harness sets ``CONF.host`` process-wide, to
  the last compute started, and Nova's compute skips the hypervisor
  detach of a server whose host is not ``CONF.host``);
* Nova's api-paste.ini from the virtualenv, and SQLAlchemy 2's
  deprecation of ``noload()`` (in Nova's own queries) not made an error.

Every ``attachDeviceFlags`` call of fakelibvirt is recorded, so tests can
check the disk XML Nova's libvirt driver generated (fakelibvirt's
``XMLDesc`` drops ``<shareable/>`` and the cache mode).
"""

# Nova's functional package monkey-patches with eventlet: import it first.
from nova.tests import functional  # noqa: F401  isort:skip

import collections
import os
import sys
import warnings

import fixtures
from keystoneauth1 import loading as ks_loading
from lxml import etree
from nova import context as nova_context
from nova import service_auth
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.libvirt import base as libvirt_base
from nova.virt import block_device
from nova.virt.libvirt import driver as libvirt_driver
from oslo_config import cfg
from sqlalchemy import exc as sa_exc

CONF = cfg.CONF

#: What Nova's service user sends as its token (any value: the Cinder's
#: noauth pipeline turns the header into the service role).
SERVICE_TOKEN = 'nova-service-token'

#: One recorded ``attachDeviceFlags`` call.
AttachCall = collections.namedtuple('AttachCall',
                                    ['server_id', 'xml', 'flags'])


class _NoCinderFixture(fixtures.Fixture):
    """Stands where the harness installs its in-memory Cinder."""

    def __init__(self, test):
        super().__init__()


def _context_with_token(env, **kwargs):
    """Nova's stubbed Keystone context, with a noauth Cinder token."""
    user_id = env['HTTP_X_AUTH_USER']
    project_id = env['HTTP_X_AUTH_PROJECT_ID']
    roles = env['HTTP_X_ROLES'].split(',')
    return nova_context.RequestContext(
        user_id, project_id, is_admin=(user_id == 'admin'), roles=roles,
        auth_token='%s:%s' % (user_id, project_id), **kwargs)


class NovaWithCinderTestBase(libvirt_base.ServersTestBase):
    """Nova's libvirt functional base against a real Cinder over HTTP.

    Subclasses set :attr:`cinder_stack`, a started
    :class:`tests.nova_functional.cinder_stack.CinderStack`, before
    ``setUp`` (in ``setUpClass``).
    """

    ADMIN_API = True
    microversion = '2.60'
    cinder_stack = None

    def setUp(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.CinderFixture', _NoCinderFixture))
        self.flags(api_paste_config=os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'), group='wsgi')
        super().setUp()
        warnings.filterwarnings(
            'ignore', message='.*noload', category=sa_exc.SADeprecationWarning)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.api.auth.NovaKeystoneContext._create_context',
            _context_with_token))
        self.flags(endpoint_template=self.cinder_stack.endpoint_template(),
                   group='cinder')
        # fakelibvirt sends no device-removed event: Nova waits this long
        # for it, then finds the disk gone from the domain.
        self.flags(device_detach_timeout=1, group='libvirt')
        self._send_service_token()
        self._name_hosts_in_connectors()
        self.attach_calls = []
        self._record_attach_calls()

    def _send_service_token(self):
        CONF.register_opts(
            ks_loading.get_auth_plugin_conf_options('admin_token'),
            group='service_user')
        self.flags(send_service_user_token=True, auth_type='admin_token',
                   token=SERVICE_TOKEN, endpoint=self.cinder_stack.url,
                   group='service_user')
        service_auth.reset_globals()
        self.addCleanup(service_auth.reset_globals)

    def _name_hosts_in_connectors(self):
        original = libvirt_driver.LibvirtDriver.get_volume_connector

        def get_volume_connector(driver, instance):
            connector = original(driver, instance)
            connector['host'] = instance.host
            return connector
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.get_volume_connector',
            get_volume_connector))

        original_detach = block_device.DriverVolumeBlockDevice._do_detach

        def _do_detach(bdm, context, instance, *args, **kwargs):
            host = CONF.host
            CONF.set_override('host', instance.host)
            try:
                return original_detach(bdm, context, instance, *args,
                                       **kwargs)
            finally:
                CONF.set_override('host', host)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.virt.block_device.DriverVolumeBlockDevice._do_detach',
            _do_detach))

    def _record_attach_calls(self):
        original = fakelibvirt.Domain.attachDeviceFlags
        calls = self.attach_calls

        def attachDeviceFlags(domain, xml, flags):
            calls.append(AttachCall(domain.UUIDString(), xml, flags))
            return original(domain, xml, flags)
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.attachDeviceFlags',
            attachDeviceFlags))

    # -- helpers ---------------------------------------------------------
    def disk_xml(self, server_id, volume_id):
        """The <disk> element Nova attached for this volume to this server.

        :returns: the parsed element of the last matching call.
        """
        for call in reversed(self.attach_calls):
            if call.server_id != server_id:
                continue
            element = etree.fromstring(call.xml)
            if element.findtext('serial') == volume_id:
                return element, call.flags
        self.fail('no attachDeviceFlags call for volume %s on server %s: %s'
                  % (volume_id, server_id, self.attach_calls))
