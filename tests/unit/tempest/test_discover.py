"""What the harness reads from the services' answers."""

from oslotest import base

from tests.tempest import discover


class VersionDocumentTest(base.BaseTestCase):

    def test_v3_microversions(self):
        # cinder-api's answer at the root of its host.
        document = {'versions': [
            {'id': 'v3.0', 'status': 'CURRENT', 'version': '3.71',
             'min_version': '3.0', 'links': []}]}
        self.assertEqual(('3.0', '3.71'),
                         discover.v3_microversions(document))
        self.assertRaises(ValueError, discover.v3_microversions,
                          {'versions': []})
