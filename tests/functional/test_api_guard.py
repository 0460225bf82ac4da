"""The multi-attach API guard in cinder-api's real pipeline.

Cinder's API, scheduler and volume services run in-process; cinder-api loads
this project's etc/cinder/api-paste.ini, so every request goes through the
guard exactly as in a deployment. The compute service's requests are tested
with the all-in-one's api-paste.ini, whose noauth pipeline turns an
``X-Service-Token`` header into the service role keystonemiddleware gives a
validated service token.
"""

import os
import time
import uuid

from cinder.tests.functional import functional_helpers
from cinder.volume import configuration
import fixtures
from oslo_config import cfg
from oslo_serialization import jsonutils

from ebs_allinone.cinder import config

CONF = cfg.CONF

API_PASTE_INI = os.path.abspath(os.path.join(
    os.path.dirname(__file__), '..', '..', 'etc', 'cinder', 'api-paste.ini'))

MULTIATTACH = {'multiattach': '<is> True'}
ENCRYPTION = {'provider': 'luks', 'control_location': 'front-end',
              'cipher': 'aes-xts-plain64', 'key_size': 256}
CONNECTOR = {'initiator': 'iqn.2004-10.org.example:host-a', 'ip': '10.0.0.2',
             'host': 'host-a', 'platform': 'x86_64', 'os_type': 'linux2',
             'multipath': False}
BELOW = '3.49'
AT = '3.50'


class _GuardTestBase(functional_helpers._FunctionalTestBase):
    """Cinder with the guard in its pipeline, and helpers to call it."""

    _osapi_version = '3.0'

    def _get_flags(self):
        flags = super()._get_flags()
        flags['volume_driver'] = {
            'v': 'tests.functional.guard_fake_driver.MultiattachFakeDriver',
            'g': configuration.SHARED_CONF_GROUP}
        return flags

    def _api_paste_config(self):
        return API_PASTE_INI

    def _start_api_service(self):
        # As the base class does, but with this project's api-paste.ini
        # (the guard in the pipeline) instead of Cinder's own.
        CONF.api_paste_config = self._api_paste_config()
        self.osapi = functional_helpers.service.WSGIService('osapi_volume')
        self.osapi.start()
        self.auth_url = 'http://%s:%s/v%s' % (
            self.osapi.host, self.osapi.port, self.osapi_version_major)

    # Helpers -------------------------------------------------------------

    def _call(self, method, path, body=None, version=None, headers=None,
              project=True):
        """One raw API call; returns (status, decoded body)."""
        auth = self.api._authenticate()
        base = auth['x-server-management-url']
        if not project:
            base = base.rsplit('/', 1)[0]
        all_headers = {'X-Auth-Token': auth['x-auth-token']}
        if version is not None:
            all_headers['OpenStack-API-Version'] = 'volume ' + version
        all_headers.update(headers or {})
        data = None if body is None else jsonutils.dumps(body)
        response = self.api.request('%s/%s' % (base, path), method=method,
                                    body=data, headers=all_headers)
        try:
            decoded = response.json() if response.content else None
        except ValueError:
            decoded = response.text
        return response.status_code, decoded

    def _ok(self, method, path, body=None, version=AT, statuses=(200, 202)):
        status, result = self._call(method, path, body, version)
        self.assertIn(status, statuses, result)
        return result

    def _assert_refused(self, status, result, names_version=True):
        self.assertEqual(400, status, result)
        self.assertEqual(['badRequest'], list(result))
        self.assertEqual(400, result['badRequest']['code'])
        if names_version:
            self.assertIn('3.50', result['badRequest']['message'])
        return result['badRequest']['message']

    def _create_type(self, name=None, specs=None):
        body = {'volume_type': {'name': name or 'guard-%s' % uuid.uuid4()}}
        if specs:
            body['volume_type']['extra_specs'] = specs
        return self._ok('POST', 'types', body)['volume_type']

    def _create_volume(self, type_ref, version=AT, **extra):
        body = {'volume': dict({'size': 1, 'volume_type': type_ref}, **extra)}
        volume = self._ok('POST', 'volumes', body, version)['volume']
        return self._wait(volume['id'])

    def _wait(self, volume_id, statuses=('available',), collection='volumes',
              key='volume'):
        deadline = time.time() + 30
        while True:
            item = self._ok('GET', '%s/%s' % (collection, volume_id))[key]
            if item['status'] in statuses:
                return item
            if item['status'].startswith('error') or time.time() > deadline:
                self.fail('%s %s is %s' % (key, volume_id, item['status']))
            time.sleep(0.1)

    def _attach(self, volume_id, instance, version, connector=CONNECTOR,
                headers=None):
        body = {'attachment': {'volume_uuid': volume_id,
                               'instance_uuid': instance,
                               'connector': connector}}
        return self._call('POST', 'attachments', body, version,
                          headers=headers)

    def _complete(self, volume_id, attachment_id):
        self._ok('POST', 'attachments/%s/action' % attachment_id,
                 {'os-complete': None}, AT, statuses=(204,))
        self._wait(volume_id, ('in-use',))

    def _attached_multiattach_volume(self):
        """A multi-attach volume in-use by one instance (3.50 all along)."""
        mtype = self._create_type(specs=MULTIATTACH)
        volume = self._create_volume(mtype['id'])
        self.assertTrue(volume['multiattach'])
        instance = str(uuid.uuid4())
        status, result = self._attach(volume['id'], instance, AT)
        self.assertEqual(200, status, result)
        self._complete(volume['id'], result['attachment']['id'])
        return volume, instance


class APIGuardTest(_GuardTestBase):
    """Each guard rule below 3.50, at 3.50 and without a version header."""

    # Volume create ---------------------------------------------------------

    def test_create_multiattach_by_name_and_id(self):
        mtype = self._create_type(specs=MULTIATTACH)
        for ref in (mtype['name'], mtype['id']):
            body = {'volume': {'size': 1, 'volume_type': ref}}
            message = self._assert_refused(
                *self._call('POST', 'volumes', body, BELOW))
            self.assertIn(mtype['name'], message)
            self._assert_refused(*self._call('POST', 'volumes', body))
            self._assert_refused(*self._call('POST', 'volumes', body, '3.0'))
        volume = self._create_volume(mtype['name'], AT)
        self.assertTrue(volume['multiattach'])
        volume = self._create_volume(mtype['id'], 'latest')
        self.assertTrue(volume['multiattach'])

    def test_create_non_multiattach_unaffected(self):
        plain = self._create_type()
        loose = self._create_type(specs={'multiattach': '<is> true'})
        for ref in (plain['name'], loose['id']):
            for version in (None, '3.0', BELOW, AT):
                volume = self._create_volume(ref, version)
                self.assertFalse(volume['multiattach'])
        volume = self._create_volume(None, None)
        self.assertFalse(volume['multiattach'])

    def test_create_default_type_multiattach(self):
        mtype = self._create_type(specs=MULTIATTACH)
        # cinder-api reads default_volume_type per request.
        self.override_config('default_volume_type', mtype['name'])
        body = {'volume': {'size': 1}}
        self._assert_refused(*self._call('POST', 'volumes', body, BELOW))
        self._assert_refused(*self._call('POST', 'volumes', body))
        volume = self._ok('POST', 'volumes', body, AT)['volume']
        self.assertEqual(mtype['name'], volume['volume_type'])
        self.assertTrue(self._wait(volume['id'])['multiattach'])

    def test_create_from_multiattach_source_and_snapshot(self):
        mtype = self._create_type(specs=MULTIATTACH)
        source = self._create_volume(mtype['id'])
        body = {'volume': {'source_volid': source['id']}}
        self._assert_refused(*self._call('POST', 'volumes', body, BELOW))
        clone = self._ok('POST', 'volumes', body, AT)['volume']
        self._wait(clone['id'])
        snapshot = self._ok('POST', 'snapshots',
                            {'snapshot': {'volume_id': source['id']}},
                            AT)['snapshot']
        self._wait(snapshot['id'], collection='snapshots', key='snapshot')
        body = {'volume': {'snapshot_id': snapshot['id']}}
        self._assert_refused(*self._call('POST', 'volumes', body, BELOW))
        self._ok('POST', 'volumes', body, AT)

    def test_manage_multiattach_type(self):
        mtype = self._create_type(specs=MULTIATTACH)
        body = {'volume': {'host': 'any@lvm#pool', 'ref': {'source-name': 'x'},
                           'volume_type': mtype['name']}}
        self._assert_refused(
            *self._call('POST', 'manageable_volumes', body, BELOW))
        self._assert_refused(*self._call('POST', 'os-volume-manage', body))
        # At 3.50 Cinder itself answers (here: the host is unknown).
        status, result = self._call('POST', 'manageable_volumes', body, AT)
        self.assertLess(status, 500, result)
        self.assertNotIn('3.50', str(result))

    # Retype ----------------------------------------------------------------

    def test_retype_to_and_from_multiattach(self):
        plain = self._create_type()
        mtype = self._create_type(specs=MULTIATTACH)
        volume = self._create_volume(plain['id'], None)
        path = 'volumes/%s/action' % volume['id']
        to_multi = {'os-retype': {'new_type': mtype['name'],
                                  'migration_policy': 'never'}}
        self._assert_refused(*self._call('POST', path, to_multi, BELOW))
        self._assert_refused(*self._call('POST', path, to_multi))
        to_plain = {'os-retype': {'new_type': self._create_type()['id']}}
        self._ok('POST', path, to_plain, BELOW)

        multi = self._create_volume(mtype['id'])
        path = 'volumes/%s/action' % multi['id']
        from_multi = {'os-retype': {'new_type': plain['name'],
                                    'migration_policy': 'on-demand'}}
        self._assert_refused(*self._call('POST', path, from_multi, BELOW))

    def test_retype_at_350_reaches_cinder(self):
        mtype = self._create_type(specs=MULTIATTACH)
        other = self._create_type(specs=MULTIATTACH)
        volume = self._create_volume(mtype['id'])
        self._ok('POST', 'volumes/%s/action' % volume['id'],
                 {'os-retype': {'new_type': other['id']}}, AT)

    def test_multiattach_level_change_without_migration_refused(self):
        pl0 = self._create_type(specs=dict(
            MULTIATTACH, **{'ebs:performance_level': 'PL0'}))
        pl1 = self._create_type(specs=dict(
            MULTIATTACH, **{'ebs:performance_level': 'PL1'}))
        volume = self._create_volume(pl0['id'])
        status, result = self._call(
            'POST', 'volumes/%s/action' % volume['id'],
            {'os-retype': {'new_type': pl1['id']}}, AT)
        self.assertEqual(400, status, result)
        self.assertIn('ebs:performance_level',
                      result['badRequest']['message'])

    def test_multiattach_toggle_without_migration_refused(self):
        """At every microversion: Cinder would set the flag, then fail."""
        plain = self._create_type()
        mtype = self._create_type(specs=MULTIATTACH)
        volume = self._create_volume(plain['id'])
        path = 'volumes/%s/action' % volume['id']
        for body in ({'new_type': mtype['id']},
                     {'new_type': mtype['id'], 'migration_policy': 'never'}):
            status, result = self._call('POST', path, {'os-retype': body},
                                        AT)
            self.assertEqual(400, status, result)
            self.assertIn('migration_policy on-demand',
                          result['badRequest']['message'])

    # Attachments -------------------------------------------------------------

    def test_second_attachment_needs_350(self):
        volume, first = self._attached_multiattach_volume()
        other = str(uuid.uuid4())
        message = self._assert_refused(*self._attach(volume['id'], other,
                                                     BELOW))
        self.assertIn(volume['id'], message)
        self._assert_refused(*self._attach(volume['id'], other, '3.44'))
        self._assert_refused(*self._attach(volume['id'], other, '3.27'))
        status, result = self._attach(volume['id'], other, AT)
        self.assertEqual(200, status, result)
        self._ok('POST', 'attachments/%s/action' % result['attachment']['id'],
                 {'os-complete': None}, AT, statuses=(204,))
        self._wait(volume['id'], ('in-use',))
        # The same instance again (as in a live migration) is not a
        # multi-attach use: Cinder decides.
        status, result = self._attach(volume['id'], first, '3.44')
        self.assertEqual(200, status, result)

    def test_first_attachment_below_350(self):
        mtype = self._create_type(specs=MULTIATTACH)
        volume = self._create_volume(mtype['id'])
        status, result = self._attach(volume['id'], str(uuid.uuid4()), '3.44')
        self.assertEqual(200, status, result)

    def test_legacy_reserve_and_attach(self):
        volume, first = self._attached_multiattach_volume()
        path = 'volumes/%s/action' % volume['id']
        self._assert_refused(*self._call('POST', path, {'os-reserve': None}))
        self._assert_refused(*self._call(
            'POST', path, {'os-attach': {'instance_uuid': str(uuid.uuid4()),
                                         'mountpoint': '/dev/vdc'}}, BELOW))
        self._ok('POST', path, {'os-reserve': None}, AT)
        self._ok('POST', path, {'os-unreserve': None}, AT)

    def test_plain_volume_attachments_unaffected(self):
        volume = self._create_volume(self._create_type()['id'])
        status, result = self._attach(volume['id'], str(uuid.uuid4()), '3.44')
        self.assertEqual(200, status, result)
        path = 'volumes/%s/action' % volume['id']
        self._ok('POST', path, {'os-extend': {'new_size': 2}}, BELOW,
                 statuses=(202, 400))

    # Type level ------------------------------------------------------------

    def test_encryption_on_multiattach_type(self):
        mtype = self._create_type(specs=MULTIATTACH)
        for version in (None, BELOW, AT, 'latest'):
            message = self._assert_refused(
                *self._call('POST', 'types/%s/encryption' % mtype['id'],
                            {'encryption': ENCRYPTION}, version),
                names_version=False)
            self.assertIn('encrypt', message)
        status, result = self._call('GET', 'types/%s/encryption'
                                    % mtype['id'], version=AT)
        self.assertEqual(200, status)
        self.assertEqual({}, result)

    def test_multiattach_on_encrypted_type(self):
        etype = self._create_type()
        self._ok('POST', 'types/%s/encryption' % etype['id'],
                 {'encryption': ENCRYPTION}, AT, statuses=(200,))
        for version in (None, BELOW, AT):
            message = self._assert_refused(
                *self._call('POST', 'types/%s/extra_specs' % etype['id'],
                            {'extra_specs': MULTIATTACH}, version),
                names_version=False)
            self.assertIn('encryption', message)
            self._assert_refused(
                *self._call('PUT', 'types/%s/extra_specs/multiattach'
                            % etype['id'], MULTIATTACH, version),
                names_version=False)
        # Other specs, and spellings Cinder does not treat as multi-attach,
        # still go through.
        self._ok('POST', 'types/%s/extra_specs' % etype['id'],
                 {'extra_specs': {'foo': 'bar',
                                  'multiattach': '<is> False'}},
                 statuses=(200,))
        status, result = self._call('GET', 'types/%s/extra_specs'
                                    % etype['id'], version=AT)
        self.assertEqual('<is> False', result['extra_specs']['multiattach'])

    def test_plain_type_level_requests_unaffected(self):
        first = self._create_type()
        self._ok('POST', 'types/%s/extra_specs' % first['id'],
                 {'extra_specs': MULTIATTACH}, BELOW, statuses=(200,))
        second = self._create_type()
        self._ok('POST', 'types/%s/encryption' % second['id'],
                 {'encryption': ENCRYPTION}, BELOW, statuses=(200,))

    # Bad input ---------------------------------------------------------------

    def test_unknown_types_get_cinders_answer(self):
        for ref in ('no-such-type', str(uuid.uuid4())):
            status, result = self._call(
                'POST', 'volumes',
                {'volume': {'size': 1, 'volume_type': ref}}, BELOW)
            self.assertEqual(404, status, result)
            self.assertIn('itemNotFound', result)
        volume = self._create_volume(self._create_type()['id'])
        status, result = self._call(
            'POST', 'volumes/%s/action' % volume['id'],
            {'os-retype': {'new_type': 'no-such-type'}}, BELOW)
        self.assertEqual(404, status, result)
        missing = str(uuid.uuid4())
        for method, path, body in (
                ('POST', 'types/%s/encryption' % missing,
                 {'encryption': ENCRYPTION}),
                ('POST', 'types/%s/extra_specs' % missing,
                 {'extra_specs': MULTIATTACH}),
                ('PUT', 'types/%s/extra_specs/multiattach' % missing,
                 MULTIATTACH),
                ('POST', 'volumes/%s/action' % missing,
                 {'os-retype': {'new_type': 'x'}}),
                ('POST', 'volumes',
                 {'volume': {'size': 1, 'source_volid': missing}})):
            status, result = self._call(method, path, body, BELOW)
            self.assertEqual(404, status, (path, result))
        status, result = self._attach(missing, str(uuid.uuid4()), BELOW)
        self.assertEqual(404, status, result)

    def test_malformed_version_headers_get_cinders_answer(self):
        mtype = self._create_type(specs=MULTIATTACH)
        body = {'volume': {'size': 1, 'volume_type': mtype['id']}}
        for header, expected in (('volume 3.x', 400),
                                 ('volume 3', 400),
                                 ('volume 9.0', 406),
                                 ('volume 2.0', 406)):
            status, result = self._call(
                'POST', 'volumes', body,
                headers={'OpenStack-API-Version': header})
            self.assertEqual(expected, status, (header, result))
            self.assertNotIn('3.50 or later', str(result))

    def test_malformed_bodies_get_cinders_answer(self):
        status, result = self._call('POST', 'volumes', {'volume': 'x'},
                                    BELOW)
        self.assertEqual(400, status, result)
        status, result = self._call('POST', 'attachments',
                                    {'attachment': {}}, BELOW)
        self.assertEqual(400, status, result)


class QoSGuardTest(_GuardTestBase):
    """Back-end QoS specs no disk of the type can meet are refused."""

    def _qos(self, consumer='back-end', **specs):
        body = {'qos_specs': dict(name='qos-%s' % uuid.uuid4(),
                                  consumer=consumer,
                                  **{key: str(value) for key, value
                                     in specs.items()})}
        return self._ok('POST', 'qos-specs', body)['qos_specs']

    def _associate(self, qos, vtype):
        return self._call('GET', 'qos-specs/%s/associate?vol_type_id=%s' % (
            qos['id'], vtype['id']), version=AT)

    def test_association_refused_when_no_size_meets_the_specs(self):
        pl0 = self._create_type(specs={'ebs:performance_level': 'PL0'})
        message = self._assert_refused(
            *self._associate(self._qos(total_iops_sec=20000), pl0),
            names_version=False)
        self.assertIn(pl0['name'], message)
        self.assertIn('is 10000 IOPS', message)
        self._assert_refused(*self._associate(
            self._qos(read_iops_sec=100), pl0), names_version=False)
        # Specs a PL0 reaches at some size, and front-end specs, pass.
        self.assertEqual(202, self._associate(
            self._qos(total_iops_sec=5000), pl0)[0])
        other = self._create_type(specs={'ebs:performance_level': 'PL0'})
        self.assertEqual(202, self._associate(
            self._qos('front-end', total_iops_sec=90000), other)[0])

    def test_changes_that_would_break_an_associated_type_refused(self):
        vtype = self._create_type()
        qos = self._qos(total_iops_sec=20000)
        self.assertEqual(202, self._associate(qos, vtype)[0])
        # The type's extra specs may not narrow it to PL0 now.
        self._assert_refused(*self._call(
            'POST', 'types/%s/extra_specs' % vtype['id'],
            {'extra_specs': {'ebs:performance_level': 'PL0'}}, AT),
            names_version=False)
        self._assert_refused(*self._call(
            'PUT', 'types/%s/extra_specs/ebs:performance_level' % vtype['id'],
            {'ebs:performance_level': 'PL0'}, AT), names_version=False)
        self._ok('POST', 'types/%s/extra_specs' % vtype['id'],
                 {'extra_specs': {'ebs:category': 'cloud_auto'}})
        # Nor may the specs grow beyond what the type's disks reach.
        self._assert_refused(*self._call(
            'PUT', 'qos-specs/%s' % qos['id'],
            {'qos_specs': {'total_iops_sec': '200000'}}, AT),
            names_version=False)
        self._ok('PUT', 'qos-specs/%s' % qos['id'],
                 {'qos_specs': {'total_iops_sec': '30000'}})

    def test_deleting_a_cap_that_keeps_specs_meetable_refused(self):
        pl0 = self._create_type(specs={'ebs:performance_level': 'PL0'})
        qos = self._qos(total_iops_sec_per_gb=2000, total_iops_sec_max=5000,
                        size_iops_sec=4096)
        self.assertEqual(202, self._associate(qos, pl0)[0])
        self._assert_refused(*self._call(
            'PUT', 'qos-specs/%s/delete_keys' % qos['id'],
            {'keys': ['total_iops_sec_max']}, AT), names_version=False)
        self._ok('PUT', 'qos-specs/%s/delete_keys' % qos['id'],
                 {'keys': ['size_iops_sec']})

    def test_types_of_other_backends_left_alone(self):
        other = self._create_type(specs={'volume_backend_name': 'lvm-1'})
        self.assertEqual(202, self._associate(
            self._qos(total_iops_sec=20000000), other)[0])


class ServiceRequestGuardTest(_GuardTestBase):
    """The compute service creates attachments at any microversion."""

    SERVICE = {'X-Service-Token': 'compute-service-token'}

    def _api_paste_config(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'api-paste.ini')
        config.write_api_paste(path, source=API_PASTE_INI)
        return path

    def _attachments(self, volume_id):
        volume = self._ok('GET', 'volumes/%s' % volume_id)['volume']
        return sorted(item['server_id'] for item in volume['attachments'])

    def test_service_attaches_a_second_server_below_350(self):
        volume, first = self._attached_multiattach_volume()
        second, third = str(uuid.uuid4()), str(uuid.uuid4())
        # As Nova 34 does: attachment create, then complete, at 3.44.
        status, result = self._attach(volume['id'], second, '3.44',
                                      headers=self.SERVICE)
        self.assertEqual(200, status, result)
        self._complete(volume['id'], result['attachment']['id'])
        self.assertEqual(sorted([first, second]),
                         self._attachments(volume['id']))
        # The same request from an end user is still refused.
        self._assert_refused(*self._attach(volume['id'], third, '3.44'))
        self._assert_refused(*self._attach(
            volume['id'], third, '3.44',
            headers={'X-Service-Token': ''}))
        status, result = self._attach(volume['id'], third, '3.27',
                                      headers=self.SERVICE)
        self.assertEqual(200, status, result)

    def test_service_role_follows_cinders_configuration(self):
        volume, _first = self._attached_multiattach_volume()
        self.override_config('service_token_roles', ['compute'],
                             group='keystone_authtoken')
        self._assert_refused(*self._attach(volume['id'], str(uuid.uuid4()),
                                           '3.44', headers=self.SERVICE))

    def test_service_legacy_reserve(self):
        volume, _first = self._attached_multiattach_volume()
        path = 'volumes/%s/action' % volume['id']
        self._assert_refused(*self._call('POST', path, {'os-reserve': None}))
        status, result = self._call('POST', path, {'os-reserve': None},
                                    headers=self.SERVICE)
        self.assertEqual(202, status, result)
        self._ok('POST', path, {'os-unreserve': None}, AT)
        other = str(uuid.uuid4())
        body = {'os-attach': {'instance_uuid': other,
                              'mountpoint': '/dev/vdc'}}
        self._assert_refused(*self._call('POST', path, body, '3.0'))
        status, result = self._call('POST', path, body, '3.0',
                                    headers=self.SERVICE)
        self.assertEqual(202, status, result)
        self.assertIn(other, self._attachments(volume['id']))

    def test_other_rules_apply_to_the_service(self):
        mtype = self._create_type(specs=MULTIATTACH)
        plain = self._create_type()
        self._assert_refused(*self._call(
            'POST', 'volumes', {'volume': {'size': 1,
                                           'volume_type': mtype['id']}},
            BELOW, headers=self.SERVICE))
        volume = self._create_volume(plain['id'])
        self._assert_refused(*self._call(
            'POST', 'volumes/%s/action' % volume['id'],
            {'os-retype': {'new_type': mtype['id']}}, BELOW,
            headers=self.SERVICE))
        self._assert_refused(*self._call(
            'POST', 'types/%s/encryption' % mtype['id'],
            {'encryption': ENCRYPTION}, AT, headers=self.SERVICE),
            names_version=False)
