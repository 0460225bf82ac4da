"""The all-in-one behind Keystone, used with real tokens.

* The operator's multi-attach workflow through the ``openstack`` CLI with
  the clouds.yaml that ``serve`` prints (and the ``cinder`` CLI with its
  openrc file).
* The API guard with real tokens: an end user's second attachment below
  3.50 is refused; the same request with the compute service's token in
  ``X-Service-Token`` passes; forged, revoked and role-less service
  tokens do not count as the compute service's; only the compute service
  deletes a connected attachment.
"""

import os
import subprocess
import sys
import uuid

from keystoneauth1 import session as ks_session

from tests.keystone import base

MULTIATTACH = 'multiattach=<is> True'
SMALL = 'ebs:performance_level=PL0'
# What Nova sends its attachment calls with.
NOVA_VERSION = '3.44'


class KeystoneServeTest(base.KeystoneServeBase):

    # -- helpers (through the API: each openstack command costs seconds) --
    def get(self, cloud, path):
        response = self.volume_call(self.session(cloud), 'GET', path,
                                    '3.54')
        self.assertEqual(200, response.status_code, response.text)
        return response.json()

    def volume_status(self, volume, cloud='ebs-admin'):
        return self.get(cloud, '/volumes/%s' % volume)['volume']['status']

    def wait_status(self, volume, status, cloud='ebs-admin'):
        def check():
            got = self.volume_status(volume, cloud)
            self.assertFalse(got.startswith('error'), got)
            return got == status
        self.wait_for(check, 'volume %s not %s' % (volume, status))

    def wait_deleted(self, volume, cloud='ebs-admin'):
        self.wait_for(lambda: volume not in [
            v['id'] for v in self.get(cloud, '/volumes')['volumes']],
            'volume %s not deleted' % volume)

    def attachments(self, volume, cloud='ebs-admin'):
        """{attachment id: status} of a volume."""
        found = self.get(cloud, '/attachments?volume_id=%s' % volume)
        return {a['id']: a['status'] for a in found['attachments']}

    def create_type(self, name):
        created = self.openstack_json(
            'volume', 'type', 'create', '--property', MULTIATTACH,
            '--property', SMALL, name)
        self.addCleanup(self.openstack, 'volume', 'type', 'delete', name,
                        check=False)
        return created

    def create_volume(self, type_name, name, cloud='ebs-admin'):
        volume = self.openstack_json(
            'volume', 'create', '--type', type_name, '--size', '1', name,
            cloud=cloud)['id']
        self.wait_status(volume, 'available', cloud)
        return volume

    def delete_as_compute_service(self, cloud, attachment):
        response = self.volume_call(
            self.session(cloud, service_cloud='ebs-nova'), 'DELETE',
            '/attachments/%s' % attachment, NOVA_VERSION)
        self.assertEqual(200, response.status_code, response.text)

    # -- the operator workflow through the openstack CLI --------------------
    def test_operator_workflow_with_the_openstack_cli(self):
        shown = self.create_type('multiattach-cli')
        self.assertEqual('<is> True', shown['properties']['multiattach'])
        volume = self.create_volume('multiattach-cli', 'cli-shared')
        self.assertTrue(self.get('ebs-admin', '/volumes/%s' % volume)[
            'volume']['multiattach'])

        # host-a: reserve, then connect (attachment set), then complete.
        # (openstacksdk sends "mode": null below 3.54, which Cinder's
        # schema refuses: the CLI creates attachments at 3.54 or later.)
        created = self.openstack_json(
            'volume', 'attachment', 'create', volume,
            '--server', base.SERVERS['host-a'], version='3.54')
        self.assertEqual('reserved', created['Status'])
        host_a = created['ID']
        connected = self.openstack_json(
            'volume', 'attachment', 'set', '--host', 'host-a',
            '--initiator', 'iqn.2004-10.org.example:host-a',
            '--ip', '127.0.0.1', host_a, version='3.54')
        info = connected['Properties']
        self.assertEqual('i-emu0000', info['instance_id'])
        self.assertTrue(info['multiattach'])
        self.openstack('volume', 'attachment', 'complete', host_a,
                       version='3.54')

        # host-b: below 3.50 the guard refuses a second attachment.
        refused = self.openstack(
            'volume', 'attachment', 'create', '--connect', '--host',
            'host-b', '--initiator', 'iqn.2004-10.org.example:host-b',
            '--ip', '127.0.0.1', volume, '--server', base.SERVERS['host-b'],
            version='3.49', check=False)
        self.assertNotEqual(0, refused.returncode)
        self.assertIn('requires volume API microversion 3.50',
                      refused.stderr)
        self.assertEqual([host_a], list(self.attachments(volume)))
        created = self.openstack_json(
            'volume', 'attachment', 'create', '--connect', '--host',
            'host-b', '--initiator', 'iqn.2004-10.org.example:host-b',
            '--ip', '127.0.0.1', volume, '--server', base.SERVERS['host-b'],
            version='3.54')
        host_b = created['ID']
        self.assertEqual('i-emu0001', created['Properties']['instance_id'])
        self.openstack('volume', 'attachment', 'complete', host_b,
                       version='3.54')
        self.assertEqual({host_a: 'attached', host_b: 'attached'},
                         self.attachments(volume))
        self.assertEqual('in-use', self.volume_status(volume))

        # A reservation with no connection: the operator deletes it.
        spare = self.openstack_json(
            'volume', 'attachment', 'create', volume,
            '--server', base.SERVERS['host-c'], version='3.54')['ID']
        self.openstack('volume', 'attachment', 'delete', spare,
                       version='3.54')
        # A connected attachment: only the compute service (Nova, with
        # its service token) may delete it; the CLI cannot send one.
        denied = self.openstack('volume', 'attachment', 'delete', host_a,
                                version='3.54', check=False)
        self.assertNotEqual(0, denied.returncode)
        self.assertEqual({host_a: 'attached', host_b: 'attached'},
                         self.attachments(volume))
        for attachment in (host_a, host_b):
            self.delete_as_compute_service('ebs-admin', attachment)
        self.wait_status(volume, 'available')
        self.assertEqual({}, self.attachments(volume))

        # The cinder CLI reads the same account from the openrc file.
        env = self.clean_env()
        with open(os.path.join(self.run_dir, 'admin-openrc')) as f:
            for line in f:
                key, _sep, value = line.split(None, 1)[1].partition('=')
                env[key] = value.strip()
        listed = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), 'cinder'),
             'list'], env=env, capture_output=True, text=True,
            timeout=base.CLI_TIMEOUT)
        self.assertEqual(0, listed.returncode, listed.stderr)
        self.assertIn(volume, listed.stdout)

        self.openstack('volume', 'delete', volume)
        self.wait_deleted(volume)

    # -- the guard and Cinder's rule with real service tokens ----------------
    def attach(self, session, volume, host, headers=None):
        return self.volume_call(
            session, 'POST', '/attachments', NOVA_VERSION,
            {'attachment': {'volume_uuid': volume,
                            'instance_uuid': base.SERVERS[host],
                            'connector': base.connector(host)}},
            headers=headers)

    def complete(self, session, attachment):
        response = self.volume_call(
            session, 'POST', '/attachments/%s/action' % attachment,
            NOVA_VERSION, {'os-complete': None})
        self.assertEqual(204, response.status_code, response.text)

    def revoked_token(self, cloud):
        """A token of ``cloud``'s user, revoked before Cinder sees it."""
        auth_session = self.session(cloud)
        token = auth_session.get_token()
        response = ks_session.Session().delete(
            self.clouds[cloud]['auth']['auth_url'] + '/auth/tokens',
            headers={'X-Auth-Token': token, 'X-Subject-Token': token},
            raise_exc=False)
        self.assertEqual(204, response.status_code, response.text)
        return token

    def test_service_tokens_for_real(self):
        self.create_type('multiattach-tokens')
        volume = self.create_volume('multiattach-tokens', 'tokens-shared',
                                    cloud='ebs-demo')
        end_user = self.session('ebs-demo')
        compute = self.session('ebs-demo', service_cloud='ebs-nova')

        # The first attachment, as Nova makes it (3.44, service token).
        first = self.attach(compute, volume, 'host-a')
        self.assertEqual(200, first.status_code, first.text)
        first_id = first.json()['attachment']['id']
        self.complete(compute, first_id)

        # The end user alone at Nova's microversion: refused.
        refused = self.attach(end_user, volume, 'host-b')
        self.assertEqual(400, refused.status_code, refused.text)
        self.assertIn('3.50', refused.json()['badRequest']['message'])

        # Tokens that are not the compute service's, as X-Service-Token:
        # keystonemiddleware refuses the request (401) before the guard.
        not_service = {
            'forged': 'gAAAAAB' + uuid.uuid4().hex * 3,
            'revoked': self.revoked_token('ebs-nova'),
            "the end user's own": end_user.get_token(),
        }
        for what, token in not_service.items():
            response = self.attach(end_user, volume, 'host-b',
                                   headers={'X-Service-Token': token})
            self.assertEqual(401, response.status_code,
                             '%s service token: %s' % (what, response.text))
        self.assertEqual([first_id], list(self.attachments(
            volume, cloud='ebs-demo')))

        # The compute service's real token: accepted at 3.44.
        second = self.attach(compute, volume, 'host-b')
        self.assertEqual(200, second.status_code, second.text)
        second_id = second.json()['attachment']['id']
        self.complete(compute, second_id)

        # Only the compute service deletes a connected attachment.
        denied = self.volume_call(end_user, 'DELETE',
                                  '/attachments/%s' % first_id,
                                  NOVA_VERSION)
        self.assertGreaterEqual(denied.status_code, 400, denied.text)
        self.assertEqual({first_id: 'attached', second_id: 'attached'},
                         self.attachments(volume, cloud='ebs-demo'))
        for attachment in (first_id, second_id):
            self.delete_as_compute_service('ebs-demo', attachment)
        self.wait_status(volume, 'available', cloud='ebs-demo')
        self.openstack('volume', 'delete', volume, cloud='ebs-demo')
        self.wait_deleted(volume, cloud='ebs-demo')
