"""``ebs-allinone serve``: the services stay up; how to use them."""

import shlex
import threading

from ebs_allinone import cinder_config
from ebs_allinone import startup

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

Compute hosts: {hosts}
EBS backend (emulator): http://{emulator} region {region}, zone {zone}
Attached disks appear under {devices}

{openstack}
Press Ctrl-C to stop everything.
"""

OPENSTACK_NOTE = """\
The openstack CLI (python-openstackclient 10.5) cannot drive this noauth
Cinder: with --os-auth-type none or admin_token, keystoneauth discovers
the API version with an unauthenticated GET of the /v3/ endpoint, which
Cinder's noauth middleware answers with 204 and no version document, and
with the API root as endpoint openstacksdk leaves /v3 out of every URL.
Use the cinder CLI above."""


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
        for title, func in self.startup.steps():
            with self.out.step(title):
                func()
        self.out.say()
        self.out.say(self.instructions())
        while not self._stop.wait(1.0):
            pass
        return True

    def stop(self):
        self._stop.set()

    def instructions(self):
        url = self.stack.cinder.url
        user = cinder_config.USER_ID
        project = cinder_config.PROJECT_ID
        version = '3.50'
        flags = ' '.join(shlex.quote(part) for part in (
            '--os-auth-type', 'noauth', '--os-user-id', user,
            '--os-project-id', project, '--os-endpoint', url,
            '--os-volume-api-version', version))
        emulator = self.stack.emulator
        return CLI_TEMPLATE.format(
            url=url, user=user, project=project, version=version,
            flags=flags, host=self.stack.names[0],
            service_user=cinder_config.SERVICE_USER,
            hosts=', '.join('%s (instance %s)' % (
                name, self.stack.host_instances[name])
                for name in self.stack.names),
            emulator=emulator.endpoint, region=emulator.region_id,
            zone=emulator.zone_id,
            devices=cinder_config.device_path_template(emulator.state_dir),
            openstack=OPENSTACK_NOTE)
