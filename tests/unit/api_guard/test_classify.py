"""Request shapes and microversions of the API guard."""

from cinder.api.openstack import api_version_request
from oslotest import base
import webob

from cinder_ebs_driver.api_guard import classify

PROJECT = '6f70656e737461636b20342065766572'
VOL = 'c3a2f0e4-7b8e-4d6c-9a1f-0e8d7c6b5a49'
TYPE = '9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f'


def _version(environ_header=None):
    headers = {}
    if environ_header is not None:
        headers['OpenStack-API-Version'] = environ_header
    request = webob.Request.blank('/', headers=headers)
    return classify.requested_version(request.environ)


class ClassifyTest(base.BaseTestCase):

    def _assert_shape(self, method, path, kind, resource_id=None, key=None):
        for prefix in ('/' + PROJECT, ''):
            shape = classify.classify(method, prefix + path)
            self.assertEqual(classify.Shape(kind, resource_id, key), shape,
                             '%s %s%s' % (method, prefix, path))

    def test_volume_create(self):
        self._assert_shape('POST', '/volumes', classify.VOLUME_CREATE)
        self._assert_shape('POST', '/volumes/', classify.VOLUME_CREATE)
        self._assert_shape('POST', '/volumes.json', classify.VOLUME_CREATE)

    def test_volume_manage(self):
        self._assert_shape('POST', '/manageable_volumes',
                           classify.VOLUME_MANAGE)
        self._assert_shape('POST', '/os-volume-manage',
                           classify.VOLUME_MANAGE)

    def test_volume_action(self):
        self._assert_shape('POST', '/volumes/%s/action' % VOL,
                           classify.VOLUME_ACTION, VOL)
        self._assert_shape('POST', '/volumes/%s/action.json' % VOL,
                           classify.VOLUME_ACTION, VOL)

    def test_attachment_create(self):
        self._assert_shape('POST', '/attachments',
                           classify.ATTACHMENT_CREATE)

    def test_type_encryption_create(self):
        self._assert_shape('POST', '/types/%s/encryption' % TYPE,
                           classify.TYPE_ENCRYPTION_CREATE, TYPE)

    def test_type_extra_specs(self):
        self._assert_shape('POST', '/types/%s/extra_specs' % TYPE,
                           classify.TYPE_EXTRA_SPECS_CREATE, TYPE)
        self._assert_shape('PUT', '/types/%s/extra_specs/multiattach' % TYPE,
                           classify.TYPE_EXTRA_SPEC_UPDATE, TYPE,
                           'multiattach')

    def test_qos_specs(self):
        self._assert_shape('GET', '/qos-specs/%s/associate' % TYPE,
                           classify.QOS_ASSOCIATE, TYPE)
        self._assert_shape('PUT', '/qos-specs/%s' % TYPE,
                           classify.QOS_UPDATE, TYPE)
        self._assert_shape('PUT', '/qos-specs/%s/delete_keys' % TYPE,
                           classify.QOS_DELETE_KEYS, TYPE)

    def test_other_requests_are_not_inspected(self):
        cases = [
            ('GET', '/qos-specs'),
            ('GET', '/qos-specs/%s' % TYPE),
            ('GET', '/qos-specs/%s/associations' % TYPE),
            ('GET', '/qos-specs/%s/disassociate' % TYPE),
            ('POST', '/qos-specs'),
            ('PUT', '/qos-specs/%s/other' % TYPE),
            ('GET', '/volumes/%s/associate' % VOL),
            ('GET', '/volumes'),
            ('GET', '/volumes/detail'),
            ('GET', '/attachments'),
            ('DELETE', '/volumes/%s' % VOL),
            ('PUT', '/volumes/%s' % VOL),
            ('POST', '/volumes/%s/metadata' % VOL),
            ('POST', '/snapshots'),
            ('POST', '/types'),
            ('PUT', '/types/%s' % TYPE),
            ('PUT', '/types/%s/encryption/%s' % (TYPE, VOL)),
            ('POST', '/attachments/%s/action' % VOL),
            ('PUT', '/attachments/%s' % VOL),
            ('POST', '/backups'),
            ('POST', '/'),
            ('POST', ''),
            ('POST', '/%s' % PROJECT),
            ('HEAD', '/volumes'),
        ]
        for method, path in cases:
            for prefix in ('/' + PROJECT, ''):
                self.assertIsNone(classify.classify(method, prefix + path),
                                  '%s %s%s' % (method, prefix, path))

    def test_unknown_first_segment_is_not_a_collection(self):
        self.assertIsNone(classify.classify('POST', '/%s/foo/volumes'
                                            % PROJECT))


class VersionTest(base.BaseTestCase):

    def test_no_header_is_minimum(self):
        self.assertEqual(api_version_request.min_api_version(), _version())
        self.assertTrue(classify.below_multiattach(_version()))

    def test_versions_around_350(self):
        self.assertTrue(classify.below_multiattach(_version('volume 3.49')))
        self.assertFalse(classify.below_multiattach(_version('volume 3.50')))
        self.assertFalse(classify.below_multiattach(_version('volume 3.51')))
        self.assertFalse(classify.below_multiattach(_version('volume latest')))

    def test_other_services_listed(self):
        version = _version('compute 2.1, volume 3.49')
        self.assertEqual('3.49', version.get_string())

    def test_malformed_headers_are_left_to_cinder(self):
        for header in ('volume 3.x', 'volume', 'volume 3.50 extra',
                       'compute 2.1', 'volume 9.0', 'volume 2.0', ''):
            self.assertIsNone(_version(header), header)

    def test_attachments_api_version(self):
        self.assertFalse(classify.has_attachments_api(_version('volume 3.26')))
        self.assertTrue(classify.has_attachments_api(_version('volume 3.27')))

    def test_parsing_does_not_touch_the_request(self):
        request = webob.Request.blank(
            '/', headers={'OpenStack-API-Version': 'volume 3.49'})
        before = dict(request.environ)
        classify.requested_version(request.environ)
        self.assertEqual(before, request.environ)


class BodyTest(base.BaseTestCase):

    def test_json_content_types(self):
        self.assertTrue(classify.body_is_json({}))
        self.assertTrue(classify.body_is_json(
            {'CONTENT_TYPE': 'application/json'}))
        self.assertTrue(classify.body_is_json(
            {'CONTENT_TYPE': 'application/json; charset=UTF-8'}))
        self.assertTrue(classify.body_is_json(
            {'CONTENT_TYPE': 'application/vnd.openstack.volume+json'}))
        self.assertFalse(classify.body_is_json(
            {'CONTENT_TYPE': 'text/plain'}))

    def test_action_name(self):
        self.assertEqual('os-retype',
                         classify.action_name({'os-retype': {}}))
        self.assertIsNone(classify.action_name({'a': 1, 'b': 2}))
        self.assertIsNone(classify.action_name({}))
        self.assertIsNone(classify.action_name(['os-retype']))
