"""The start of both ``demo`` and ``serve``: the services, as steps."""

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.identity import auth as identity
from ebs_allinone.scenarios import backend as backend_mod


class Startup(object):
    """Start the emulator, Cinder and the compute hosts of a stack.

    After the steps: ``backend`` (the ECS API view of the emulator) and
    ``cinder`` (a cinderclient at microversion 3.50).
    """

    def __init__(self, stack, reporter, api_port=0):
        self.stack = stack
        self.out = reporter
        self.api_port = api_port
        self.backend = None
        self.cinder = None

    def steps(self):
        steps = [('Start the EBS emulator', self.start_emulator)]
        if self.stack.auth == identity.Keystone.name:
            steps.append(('Start Keystone: projects, users, service '
                          'catalog', self.start_keystone))
        if getattr(self.stack, 'image', False):
            steps.append(('Start Glance: image API with a file store',
                          self.start_glance))
        return steps + [
            ('Start Cinder: API, scheduler, volume with the EBS driver',
             self.start_cinder),
            ('Start %d simulated compute hosts' % len(self.stack.names),
             self.start_hosts),
        ]

    def start_emulator(self):
        self.stack.make_dir()
        emulator = self.stack.start_emulator(
            self.out.progress_for('waiting for the emulator'))
        self.backend = backend_mod.Backend(emulator)
        service = emulator.state().get('service', {})
        loops = service.get('use_loop_devices')
        self.out.detail('run directory %s' % self.stack.dir)
        self.out.detail('endpoint http://%s, state in %s' % (
            emulator.endpoint, emulator.state_dir))
        self.out.detail('instances: %s' % ', '.join(
            '%s=%s' % item for item in sorted(
                self.stack.host_instances.items())))
        if service.get('reservations_enforced'):
            shown = ('per-instance FUSE views (persistent reservations '
                     'enforced)')
        else:
            shown = ('loop devices' if loops else 'files') + (
                ' (persistent reservations NOT enforced)')
        self.out.detail('attached disks appear as %s' % shown)

    def start_keystone(self):
        ident = self.stack.start_identity(
            self.out.progress_for('waiting for Keystone'))
        keystone = ident.keystone
        self.out.detail('identity API %s (pid %d), state in %s' % (
            keystone.url, keystone.pid, keystone.dir))
        self.out.detail('projects: %s' % ', '.join(
            '%s=%s' % item for item in sorted(keystone.projects.items())))

    def start_glance(self):
        glance = self.stack.start_image(
            self.out.progress_for('waiting for Glance'))
        self.out.detail('image API %s (pid %d), file store in %s' % (
            glance.url, glance.pid, glance.path('images')))

    def start_cinder(self):
        pool = self.stack.start_cinder(
            progress=self.out.progress_for('waiting for Cinder'),
            api_port=self.api_port)
        self.cinder = self.stack.client(cinder_api.MULTIATTACH_VERSION)
        self.out.detail('volume API %s, backend pool %s'
                        % (self.stack.cinder.url, pool))

    def start_hosts(self):
        hosts = self.stack.start_hosts(
            self.out.progress_for('starting compute hosts'))
        for host in hosts:
            self.out.detail('%s: instance %s, %s' % (
                host.name, host.instance_id, host.mode))
