"""The volume service as the compute side sees it.

:mod:`~nova_shim.volume_api.base` holds the interface the attach code uses
(and the order of Nova's calls), :mod:`~nova_shim.volume_api.cinder` and
:mod:`~nova_shim.volume_api.local` its two implementations. The classes
are also reachable under their former names, ``nova_shim.volume_api.X``.
"""

from nova_shim.volume_api import base
from nova_shim.volume_api import cinder
from nova_shim.volume_api import local

VolumeAPI = base.VolumeAPI
CinderVolumeAPI = cinder.CinderVolumeAPI
LocalVolumes = local.LocalVolumes
