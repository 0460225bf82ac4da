"""``ebs-allinone serve``: the services stay up; how to use them.

With guests, each simulated compute host also boots one idle guest, and
the instructions give, per host, the ``ebs-nova-shim`` commands that
attach a volume into it and detach it.
"""

import shlex
import threading

from ebs_allinone.cinder import client
from ebs_allinone.cinder import config
from ebs_allinone.identity import auth as identity
from ebs_allinone.identity import keystone as keystone_mod
from ebs_allinone.scenarios import startup

# cinder CLI flags for the noauth all-in-one (python-cinderclient).
CLI_TEMPLATE = """\
Cinder is up. Volume API: {url} (noauth, project {project})

The cinder CLI (python-cinderclient), as environment variables:

    export OS_AUTH_TYPE=noauth
    export OS_USER_ID={user}
    export OS_PROJECT_ID={project}
    export CINDER_ENDPOINT={url}
    export OS_VOLUME_API_VERSION={version}
    cinder type-create multiattach
    cinder type-key multiattach set multiattach="<is> True"
    cinder create --volume-type multiattach --name shared 20

(ESSD disks of the default performance level PL1 start at 20 GiB; add
ebs:performance_level=PL0 to the type for smaller ones. The emulator
stores disks sparse.)

or as flags:

    cinder {flags} list

{attach}
Compute hosts: {hosts}
EBS backend (emulator): http://{emulator} region {region}, {zone}
Attached disks appear under {devices}
{services}
{openstack}
Press Ctrl-C to stop everything.
"""

CINDER_ATTACH = """\
Attach as a simulated compute host (the host name selects its emulator
instance; the server id is any UUID):

    cinder attachment-create --connect true --host {host} \\
        --initiator iqn.2004-10.org.example:{host} --ip 127.0.0.1 \\
        <volume> <server uuid>
    cinder attachment-complete <attachment id>

Deleting an attachment that is connected to a server is for the compute
service only (Cinder checks the service token; anyone else gets HTTP 500
here, as Cinder then asks Nova, which does not exist). Here the noauth
user {service_user!r} plays the compute service:

    OS_USER_ID={service_user} cinder attachment-delete <attachment id>
"""

GUEST_ATTACH = """\
Each compute host runs a private libvirtd with one idle guest. Attach a
volume into a host's guest, and detach it, as nova-compute does
(ebs-nova-shim: Cinder attachment, os-brick, live libvirt attach; the
noauth user {service_user!r} plays the compute service, which detach
needs). The guest prints "EBS-GUEST-DISK vdX" on its serial console when
it sees the disk and "EBS-GUEST-DISK-GONE vdX" when it is gone.

{commands}"""

GUEST_HOST = """\
{name} (instance {instance}): guest {guest}
    libvirt: {uri}
    serial console: {console}

    {shim} \\
        attach {guest} <volume id>
    {shim} \\
        detach {guest} <volume id>
"""

OPENSTACK_NOTE = """\
The openstack CLI (python-openstackclient 10.5) cannot drive this noauth
Cinder: with --os-auth-type none or admin_token, keystoneauth discovers
the API version with an unauthenticated GET of the /v3/ endpoint, which
Cinder's noauth middleware answers with 204 and no version document, and
with the API root as endpoint openstacksdk leaves /v3 out of every URL.
Use the cinder CLI above."""


KEYSTONE_TEMPLATE = """\
Cinder is up behind Keystone. Volume API: {url} (keystone)
Identity API: {auth_url} (region {region})

The openstack CLI (python-openstackclient), as the operator (admin):

    export OS_CLIENT_CONFIG_FILE={clouds} OS_CLOUD={admin_cloud}
    openstack volume type create --property multiattach="<is> True" \\
        multiattach
    openstack volume create --type multiattach --size 20 shared
    openstack --os-volume-api-version 3.54 volume attachment create \\
        --connect --host {host} --initiator iqn.2004-10.org.example:{host} \\
        --ip 127.0.0.1 shared --server <server uuid>
    openstack --os-volume-api-version 3.54 volume attachment complete \\
        <attachment id>

(volume attachment create needs 3.54 or later with this openstacksdk,
which sends "mode": null below it; multi-attach needs 3.50.)

The cinder CLI (python-cinderclient) reads the same account from OS_*
variables (the openstack CLI does too):

    . {admin_openrc}
    cinder list

Other accounts: the end user demo (project demo, role member):
OS_CLOUD={demo_cloud} or . {demo_openrc}; the compute service nova
(project service, role service): OS_CLOUD={nova_cloud}.

Cinder counts a request as the compute service's only when it carries
the nova user's token as a service token (X-Service-Token, validated by
keystonemiddleware with [keystone_authtoken] service_token_roles =
service), as Nova sends it; the CLIs cannot send one. So only the
compute service may delete an attachment connected to a server, and end
users create attachments of multi-attach volumes at 3.50 or later only.
Server lookups of the CLI go to a stand-in compute API (any UUID is a
server); there is no Nova.

{image}Compute hosts: {hosts}
EBS backend (emulator): http://{emulator} region {region_ebs}, {zone}
Attached disks appear under {devices}
{guests}
Press Ctrl-C to stop everything.
"""

IMAGE_TEMPLATE = """\
Image API (Glance): {url} (catalog type image), file store {store}
Cinder copies images to volumes and volumes to images through it (the
cinder-volume host {volume_host} attaches the volume to its own emulator
{instance} for the copy):

    openstack image create --disk-format raw --container-format bare \\
        --file <file> raw-image
    openstack volume create --image raw-image --size 20 from-image
    openstack image create --volume from-image from-volume

"""

KEYSTONE_GUESTS = """\
Each compute host runs a private libvirtd with one idle guest (shown
above); the ebs-nova-shim command attaches into them against a noauth
Cinder only: run serve without --auth keystone for that.
"""


class Server(object):
    """Start the services, print how to use them, wait for a signal.

    The signal handler of the command raises out of :meth:`run`.
    """

    def __init__(self, stack, reporter, degraded=None, api_port=0):
        self.stack = stack
        self.out = reporter
        self.degraded = degraded
        self.startup = startup.Startup(stack, reporter, api_port=api_port)
        self._stop = threading.Event()

    def run(self):
        if self.degraded:
            self.out.say('DEGRADED MODE: no guests (%s).' % self.degraded)
        for title, func in self.steps():
            with self.out.step(title):
                func()
        self.out.say()
        self.out.say(self.instructions())
        while not self._stop.wait(1.0):
            pass
        return True

    def stop(self):
        self._stop.set()

    def steps(self):
        steps = self.startup.steps()
        if not self.degraded:
            steps.append(('Boot one idle guest per compute host',
                          self.boot_guests))
        return steps

    def guest_hosts(self):
        """The compute hosts that run a guest (none in degraded mode)."""
        return [host for host in self.stack.hosts
                if getattr(host, 'guest', None) is not None]

    def boot_guests(self):
        """One idle guest per host, booted side by side."""
        hosts = [host for host in self.stack.hosts
                 if hasattr(host, 'define_guest')]
        for host in hosts:
            host.define_guest('idle')
            host.boot_guest()
        progress = self.out.progress_for('waiting for the guests to boot')
        for host in hosts:
            seconds = host.wait_guest(progress)
            self.out.detail('%s: guest %s booted in %.1f s' % (
                host.name, host.guest_name, seconds))

    def shim_command(self, host):
        """The ebs-nova-shim command line for a host, without the action."""
        url = self.stack.cinder.url
        return ' '.join(shlex.quote(part) for part in (
            'ebs-nova-shim', '--connect', host.uri, '--host', host.name,
            '--my-ip', '127.0.0.1', '--cinder-endpoint',
            client.volume_endpoint(url),
            '--project-id', config.PROJECT_ID,
            '--user-id', config.SERVICE_USER))

    def attach_instructions(self):
        text = CINDER_ATTACH.format(
            host=self.stack.names[0],
            service_user=config.SERVICE_USER)
        hosts = self.guest_hosts()
        if not hosts:
            return text
        commands = '\n'.join(GUEST_HOST.format(
            name=host.name, instance=host.instance_id,
            guest=host.guest_name, uri=host.uri,
            console=host.console_path, shim=self.shim_command(host))
            for host in hosts)
        return text + '\n' + GUEST_ATTACH.format(
            service_user=config.SERVICE_USER, commands=commands)

    def keystone_instructions(self):
        ident = self.stack.identity
        keystone = ident.keystone
        emulator = self.stack.emulator
        return KEYSTONE_TEMPLATE.format(
            url=self.stack.cinder.url, auth_url=keystone.url,
            region=keystone_mod.REGION, clouds=ident.clouds_file,
            admin_cloud=identity.CLOUDS[identity.OPERATOR],
            demo_cloud=identity.CLOUDS[identity.END_USER],
            nova_cloud=identity.CLOUDS[identity.COMPUTE_USER],
            admin_openrc=ident.openrc(identity.OPERATOR),
            demo_openrc=ident.openrc(identity.END_USER),
            host=self.stack.names[0],
            hosts=', '.join('%s (instance %s)' % (
                name, self.stack.host_instances[name])
                for name in self.stack.names),
            emulator=emulator.endpoint, region_ebs=emulator.region_id,
            zone=self.zones_text(),
            devices=config.device_path_template(emulator.state_dir),
            guests=KEYSTONE_GUESTS if self.guest_hosts() else '',
            image=self.image_instructions())

    def image_instructions(self):
        glance = getattr(self.stack, 'glance', None)
        if glance is None:
            return ''
        host = self.stack.volume_hosts[0]
        zones = self.stack.zones
        if len(zones) == 1:
            instance = 'instance %s' % self.stack.host_instances.get(host)
        else:
            # One instance per zone, each a block device host
            # (AllInOne.volume_instances, zone by zone).
            own = self.stack.volume_instances[::len(self.stack.volume_hosts)]
            instance = 'instance in the volume\'s zone\n(%s)' % ', '.join(
                '%s in %s' % (instance_id, zone.availability_zone)
                for instance_id, zone in zip(own, zones))
        return IMAGE_TEMPLATE.format(
            url=glance.url, store=glance.path('images'), volume_host=host,
            instance=instance)

    def zones_text(self):
        """The emulator's zone; with several, each with its backend."""
        zones = self.stack.zones
        backends = self.stack.zone_backends
        if len(zones) == 1:
            text = 'zone %s' % self.stack.emulator.zone_id
            if len(backends) > 1:
                text += ', backends %s' % ', '.join(
                    zone.backend for zone in backends)
            return text
        lines = ['zones (EBS backends and a Cinder availability zone '
                 'each):']
        for zone in zones:
            own = self.stack.zone_backend_names(zone)
            lines.append('    %s: %s %s, availability zone %s, hosts %s'
                         % (zone.emulator_zone,
                            'backends' if len(own) > 1 else 'backend',
                            ', '.join(own), zone.availability_zone,
                            ', '.join(self.stack.zone_hosts(zone))))
        lines.append('    (cinder create --availability-zone %s ...; a '
                     'volume attaches on the hosts of its zone only)'
                     % zones[-1].availability_zone)
        return '\n'.join(lines)

    def instructions(self):
        if self.stack.auth == identity.Keystone.name:
            return self.keystone_instructions()
        url = self.stack.cinder.url
        user = config.USER_ID
        project = config.PROJECT_ID
        version = '3.50'
        flags = ' '.join(shlex.quote(part) for part in (
            '--os-auth-type', 'noauth', '--os-user-id', user,
            '--os-project-id', project, '--os-endpoint', url,
            '--os-volume-api-version', version))
        emulator = self.stack.emulator
        return CLI_TEMPLATE.format(
            url=url, user=user, project=project, version=version,
            flags=flags, attach=self.attach_instructions(),
            hosts=', '.join('%s (instance %s)' % (
                name, self.stack.host_instances[name])
                for name in self.stack.names),
            emulator=emulator.endpoint, region=emulator.region_id,
            zone=self.zones_text(),
            devices=config.device_path_template(emulator.state_dir),
            services=self.stack.describe(), openstack=OPENSTACK_NOTE)
