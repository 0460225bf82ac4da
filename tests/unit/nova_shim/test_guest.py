"""Unit tests of nova_shim.guest's metadata records."""

import testtools

from nova_shim import guest


class VolumeRecordsTest(testtools.TestCase):

    def test_round_trip(self):
        records = {'v1': {'attachment': 'a1', 'host': 'h1',
                          'device-path': '/dev/loop3',
                          'driver-volume-type': 'local'},
                   'v2': {'attachment': 'a2'}}
        xml = guest.format_volume_records(records)
        self.assertEqual(records, guest.parse_volume_records(xml))

    def test_namespaced_readback(self):
        # libvirt returns the element with its namespace.
        xml = ('<ebsshim:volumes xmlns:ebsshim="%s"><ebsshim:volume id="v1" '
               'attachment="a1" host="h&amp;1"/></ebsshim:volumes>'
               % guest.METADATA_URI)
        self.assertEqual({'v1': {'attachment': 'a1', 'host': 'h&1'}},
                         guest.parse_volume_records(xml))

    def test_empty(self):
        self.assertEqual({}, guest.parse_volume_records(None))
        self.assertEqual({}, guest.parse_volume_records('<volumes/>'))

    def test_values_are_escaped(self):
        xml = guest.format_volume_records(
            {'v1': {'host': '"><evil/>', 'attachment': 'a'}})
        self.assertNotIn('<evil/>', xml)
        self.assertEqual('"><evil/>',
                         guest.parse_volume_records(xml)['v1']['host'])
