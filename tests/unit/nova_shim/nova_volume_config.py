"""Print the <disk> elements Nova's libvirt driver builds for volumes.

Run as ``python -m tests.unit.nova_shim.nova_volume_config`` with a JSON
list of ``{"connection_info": ..., "disk_info": ...}`` on stdin; prints a
JSON list of XML strings. It runs in its own interpreter because Nova and
Cinder register clashing options on the global oslo.config object.

Nova maps ``driver_volume_type: 'local'`` to a volume driver class
(``VOLUME_DRIVERS`` in ``nova.virt.libvirt.driver``); the config goes
through ``LibvirtDriver._get_volume_config``: the class's ``get_config``
followed by the driver's cache-mode rule.
"""

import functools
import json
import sys
from unittest import mock


def main():
    import nova.conf
    from nova.virt.libvirt import driver as libvirt_driver
    from oslo_utils import importutils

    nova.conf.CONF([], project='nova', default_config_files=[])
    nova.conf.CONF.set_override('virt_type', 'qemu', group='libvirt')

    cases = json.load(sys.stdin)
    out = {'local_driver': libvirt_driver.VOLUME_DRIVERS['local'],
           'disks': []}
    cls = importutils.import_class(out['local_driver'])
    host = mock.Mock()
    host.find_secret.return_value = None
    fake = mock.Mock(spec=['_get_volume_driver', '_set_cache_mode',
                           'disk_cachemodes'])
    fake._get_volume_driver.return_value = cls(host)
    fake.disk_cachemodes = {}
    fake._set_cache_mode = functools.partial(
        libvirt_driver.LibvirtDriver._set_cache_mode, fake)
    for case in cases:
        conf = libvirt_driver.LibvirtDriver._get_volume_config(
            fake, case['connection_info'], case['disk_info'])
        out['disks'].append(conf.to_xml())
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
