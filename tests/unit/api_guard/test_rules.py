"""The rules of the API guard, with Cinder's lookups replaced."""

from unittest import mock

from cinder.api.openstack import api_version_request
from cinder import exception
import fixtures
from oslotest import base

from cinder_ebs_driver.api_guard import rules

V349 = api_version_request.APIVersionRequest('3.49')
MA_TYPE = {'id': 'type-ma', 'name': 'multi',
           'extra_specs': {'multiattach': '<is> True'}}
PLAIN_TYPE = {'id': 'type-plain', 'name': 'plain', 'extra_specs': {}}
INSTANCE_A = '11111111-2222-3333-4444-555555555555'
INSTANCE_B = '66666666-7777-8888-9999-000000000000'


def _attachment(instance_uuid, status='attached'):
    return mock.Mock(instance_uuid=instance_uuid, attach_status=status)


def _volume(multiattach, attachments=(), type_id='type-ma'):
    return mock.Mock(id='vol-1', multiattach=multiattach,
                     volume_attachment=list(attachments),
                     volume_type_id=type_id)


class MultiattachSpecTest(base.BaseTestCase):

    def test_exact_form_only(self):
        self.assertTrue(rules.is_multiattach_specs(
            {'multiattach': '<is> True'}))
        for value in ('<is> true', 'True', 'true', '<is>True', ' <is> True',
                      '<is> False', '', None, True):
            self.assertFalse(rules.is_multiattach_specs(
                {'multiattach': value}), repr(value))
        self.assertFalse(rules.is_multiattach_specs({}))
        self.assertFalse(rules.is_multiattach_specs(None))
        self.assertFalse(rules.is_multiattach_specs('multiattach'))


class RulesTestBase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.context = mock.Mock()
        self.context.authorize.return_value = True
        self.context.elevated.return_value = self.context
        self.types = {'multi': MA_TYPE, 'type-ma': MA_TYPE,
                      'plain': PLAIN_TYPE, 'type-plain': PLAIN_TYPE}
        self.default_type = PLAIN_TYPE
        self.encrypted = set()
        vt = self.useFixture(
            fixtures.MockPatchObject(rules, 'volume_types')).mock
        vt.get_by_name_or_id.side_effect = self._get_type
        vt.get_volume_type.side_effect = self._get_type
        vt.get_default_volume_type.side_effect = lambda ctx: self.default_type
        vt.is_encrypted.side_effect = lambda ctx, tid: tid in self.encrypted
        self.objects = self.useFixture(
            fixtures.MockPatchObject(rules, 'objects')).mock

    def _get_type(self, context, identity):
        try:
            return self.types[identity]
        except KeyError:
            raise exception.VolumeTypeNotFound(volume_type_id=identity)


class VolumeCreateTest(RulesTestBase):

    def test_multiattach_type_by_name_and_id(self):
        for name in ('multi', 'type-ma'):
            message = rules.check_volume_create(
                self.context, {'volume': {'size': 1, 'volume_type': name}},
                V349)
            self.assertIn('3.50', message)
            self.assertIn('3.49', message)

    def test_plain_type(self):
        self.assertIsNone(rules.check_volume_create(
            self.context, {'volume': {'size': 1, 'volume_type': 'plain'}},
            V349))

    def test_default_type(self):
        body = {'volume': {'size': 1}}
        self.assertIsNone(rules.check_volume_create(self.context, body,
                                                    V349))
        self.default_type = MA_TYPE
        self.assertIn('3.50', rules.check_volume_create(self.context, body,
                                                        V349))

    def test_unknown_type_raises_for_pass_through(self):
        self.assertRaises(exception.VolumeTypeNotFound,
                          rules.check_volume_create, self.context,
                          {'volume': {'size': 1, 'volume_type': 'nope'}},
                          V349)

    def test_type_inherited_from_source_volume(self):
        self.objects.Volume.get_by_id.return_value = _volume(True)
        message = rules.check_volume_create(
            self.context, {'volume': {'source_volid': 'vol-1'}}, V349)
        self.assertIn('3.50', message)
        self.objects.Volume.get_by_id.assert_called_once_with(
            self.context, 'vol-1')

    def test_type_inherited_from_snapshot(self):
        self.objects.Snapshot.get_by_id.return_value = mock.Mock(
            volume_type_id='type-plain')
        self.assertIsNone(rules.check_volume_create(
            self.context, {'volume': {'snapshot_id': 'snap-1'}}, V349))
        self.objects.Snapshot.get_by_id.return_value = mock.Mock(
            volume_type_id='type-ma')
        self.assertIn('3.50', rules.check_volume_create(
            self.context, {'volume': {'snapshot_id': 'snap-1'}}, V349))

    def test_explicit_type_wins_over_source(self):
        self.assertIsNone(rules.check_volume_create(
            self.context, {'volume': {'source_volid': 'vol-1',
                                      'volume_type': 'plain'}}, V349))
        self.objects.Volume.get_by_id.assert_not_called()

    def test_image_without_type_is_not_judged(self):
        self.default_type = MA_TYPE
        self.assertIsNone(rules.check_volume_create(
            self.context, {'volume': {'size': 1, 'imageRef': 'img'}}, V349))

    def test_malformed_bodies(self):
        for body in ({}, {'volume': None}, {'volume': 'x'}, [], 'x'):
            self.assertIsNone(rules.check_volume_create(self.context, body,
                                                        V349))

    def test_manage(self):
        self.assertIn('3.50', rules.check_volume_manage(
            self.context, {'volume': {'host': 'h', 'ref': {},
                                      'volume_type': 'multi'}}, V349))
        self.assertIsNone(rules.check_volume_manage(
            self.context, {'volume': {'host': 'h', 'ref': {}}}, V349))


class VolumeActionTest(RulesTestBase):

    def _action(self, body, volume):
        self.objects.Volume.get_by_id.return_value = volume
        return rules.check_volume_action(self.context, 'vol-1', body, V349)

    def test_retype_to_multiattach(self):
        message = self._action({'os-retype': {'new_type': 'multi'}},
                               _volume(False, type_id='type-plain'))
        self.assertIn('3.50', message)

    def test_retype_from_multiattach(self):
        message = self._action({'os-retype': {'new_type': 'plain'}},
                               _volume(True))
        self.assertIn('3.50', message)

    def test_retype_from_multiattach_type_of_plain_volume(self):
        message = self._action({'os-retype': {'new_type': 'plain'}},
                               _volume(False, type_id='type-ma'))
        self.assertIn('3.50', message)

    def test_retype_between_plain_types(self):
        self.assertIsNone(self._action(
            {'os-retype': {'new_type': 'plain'}},
            _volume(False, type_id='type-plain')))

    def test_retype_to_unknown_type_raises(self):
        self.assertRaises(exception.VolumeTypeNotFound, self._action,
                          {'os-retype': {'new_type': 'nope'}},
                          _volume(False, type_id='type-plain'))

    def test_retype_malformed(self):
        for inner in (None, {}, {'new_type': None}, {'new_type': 5}):
            self.assertIsNone(self._action({'os-retype': inner},
                                           _volume(True)))

    def test_retype_toggle_needs_a_migration_at_any_version(self):
        def check(action_body, volume):
            self.objects.Volume.get_by_id.return_value = volume
            return rules.check_retype_migration(self.context, 'vol-1',
                                                action_body)
        plain_volume = _volume(False, type_id='type-plain')
        for body in ({'new_type': 'multi'},
                     {'new_type': 'multi', 'migration_policy': 'never'},
                     {'new_type': 'multi', 'migration_policy': None}):
            message = check(body, plain_volume)
            self.assertIn('migration_policy on-demand', message)
            self.assertIn(' to a multi-attach', message)
        self.assertIn(' from a multi-attach', check(
            {'new_type': 'plain'}, _volume(True)))
        # A migration may toggle it; no toggle is nothing to refuse.
        self.assertIsNone(check({'new_type': 'multi',
                                 'migration_policy': 'on-demand'},
                                plain_volume))
        self.assertIsNone(check({'new_type': 'plain'}, plain_volume))
        self.assertIsNone(check({'new_type': 'multi'}, _volume(True)))
        for inner in (None, {}, {'new_type': None}, {'new_type': 5}):
            self.assertIsNone(check(inner, _volume(True)))

    def test_multiattach_disk_spec_change_needs_a_migration(self):
        pl0 = {'id': 'type-pl0', 'name': 'pl0', 'extra_specs': {
            'multiattach': '<is> True', 'ebs:performance_level': 'PL0'}}
        pl1 = {'id': 'type-pl1', 'name': 'pl1', 'extra_specs': {
            'multiattach': '<is> True', 'ebs:performance_level': 'PL1',
            'ebs:category': 'cloud_essd'}}
        self.types.update({'pl0': pl0, 'type-pl0': pl0, 'pl1': pl1,
                           'type-pl1': pl1})

        def check(body, volume):
            self.objects.Volume.get_by_id.return_value = volume
            return rules.check_retype_migration(self.context, 'vol-1', body)
        message = check({'new_type': 'pl1'}, _volume(True, type_id='type-pl0'))
        self.assertIn('ebs:performance_level', message)
        self.assertIn('migration_policy on-demand', message)
        self.assertIsNone(check({'new_type': 'pl1',
                                 'migration_policy': 'on-demand'},
                                _volume(True, type_id='type-pl0')))
        # A spec one type leaves to the backend's default is not known to
        # differ: Cinder and the driver decide.
        self.assertIsNone(check({'new_type': 'multi'},
                                _volume(True, type_id='type-pl1')))

    def test_reserve(self):
        self.assertIsNone(self._action({'os-reserve': None}, _volume(True)))
        self.assertIn('3.50', self._action(
            {'os-reserve': None}, _volume(True, [_attachment(INSTANCE_A)])))
        self.assertIsNone(self._action(
            {'os-reserve': None}, _volume(False, [_attachment(INSTANCE_A)])))

    def test_legacy_attach(self):
        attached = _volume(True, [_attachment(INSTANCE_A)])
        self.assertIn('3.50', self._action(
            {'os-attach': {'instance_uuid': INSTANCE_B,
                           'mountpoint': '/dev/vdb'}}, attached))
        self.assertIsNone(self._action(
            {'os-attach': {'instance_uuid': INSTANCE_A,
                           'mountpoint': '/dev/vdb'}}, attached))
        self.assertIsNone(self._action(
            {'os-attach': {'instance_uuid': INSTANCE_B,
                           'mountpoint': '/dev/vdb'}}, _volume(True)))

    def test_other_actions(self):
        self.assertIsNone(self._action({'os-extend': {'new_size': 2}},
                                       _volume(True)))
        self.objects.Volume.get_by_id.assert_not_called()


class AttachmentCreateTest(RulesTestBase):

    def _create(self, volume, instance_uuid=INSTANCE_B):
        self.objects.Volume.get_by_id.return_value = volume
        attachment = {'volume_uuid': 'vol-1'}
        if instance_uuid:
            attachment['instance_uuid'] = instance_uuid
        return rules.check_attachment_create(
            self.context, {'attachment': attachment}, V349)

    def test_first_attachment(self):
        self.assertIsNone(self._create(_volume(True)))

    def test_second_attachment(self):
        message = self._create(_volume(True, [_attachment(INSTANCE_A)]))
        self.assertIn('3.50', message)
        self.assertIn('vol-1', message)

    def test_reserved_attachment_counts(self):
        self.assertIn('3.50', self._create(
            _volume(True, [_attachment(None, 'reserved')])))

    def test_detached_attachment_does_not_count(self):
        self.assertIsNone(self._create(
            _volume(True, [_attachment(INSTANCE_A, 'detached')])))

    def test_same_instance_is_a_migration(self):
        self.assertIsNone(self._create(
            _volume(True, [_attachment(INSTANCE_A)]), INSTANCE_A))

    def test_instance_attached_beside_others(self):
        self.assertIsNone(self._create(
            _volume(True, [_attachment(INSTANCE_A), _attachment(INSTANCE_B)]),
            INSTANCE_A))

    def test_no_instance(self):
        self.assertIn('3.50', self._create(
            _volume(True, [_attachment(INSTANCE_A)]), None))

    def test_not_multiattach(self):
        self.assertIsNone(self._create(
            _volume(False, [_attachment(INSTANCE_A)])))

    def test_malformed(self):
        for body in ({}, {'attachment': None}, {'attachment': {}},
                     {'attachment': {'volume_uuid': 7}}):
            self.assertIsNone(rules.check_attachment_create(
                self.context, body, V349))
        self.objects.Volume.get_by_id.assert_not_called()


class TypeLevelTest(RulesTestBase):

    def test_encryption_on_multiattach_type(self):
        message = rules.check_encryption_create(
            self.context, 'type-ma', {'encryption': {'provider': 'luks'}})
        self.assertIn('multi', message)
        self.assertIn('encrypt', message)

    def test_encryption_on_plain_type(self):
        self.assertIsNone(rules.check_encryption_create(
            self.context, 'type-plain', {'encryption': {}}))

    def test_encryption_not_allowed_by_policy(self):
        self.context.authorize.return_value = False
        self.assertIsNone(rules.check_encryption_create(
            self.context, 'type-ma', {'encryption': {}}))

    def test_multiattach_on_encrypted_type(self):
        self.encrypted.add('type-plain')
        message = rules.check_extra_specs_create(
            self.context, 'type-plain',
            {'extra_specs': {'multiattach': '<is> True', 'a': 'b'}})
        self.assertIn('encryption', message)
        message = rules.check_extra_spec_update(
            self.context, 'type-plain', {'multiattach': '<is> True'})
        self.assertIn('encryption', message)

    def test_multiattach_on_plain_type(self):
        self.assertIsNone(rules.check_extra_specs_create(
            self.context, 'type-plain',
            {'extra_specs': {'multiattach': '<is> True'}}))
        self.assertIsNone(rules.check_extra_spec_update(
            self.context, 'type-plain', {'multiattach': '<is> True'}))

    def test_other_specs_on_encrypted_type(self):
        self.encrypted.add('type-plain')
        for value in ('<is> False', '<is> true', 'True'):
            self.assertIsNone(rules.check_extra_specs_create(
                self.context, 'type-plain',
                {'extra_specs': {'multiattach': value}}))
        self.assertIsNone(rules.check_extra_spec_update(
            self.context, 'type-plain', {'foo': 'bar'}))

    def test_unknown_type_raises(self):
        self.assertRaises(exception.VolumeTypeNotFound,
                          rules.check_encryption_create, self.context,
                          'nope', {'encryption': {}})
        self.assertRaises(exception.VolumeTypeNotFound,
                          rules.check_extra_specs_create, self.context,
                          'nope', {'extra_specs': {'multiattach':
                                                   '<is> True'}})
