"""Cinder's fake volume driver, reporting multi-attach support.

cinder-volume loads it by name once the functional test has set Cinder up.
"""

from cinder.tests import fake_driver


class MultiattachFakeDriver(fake_driver.FakeLoggingVolumeDriver):
    """Like Cinder's fake driver, with ``multiattach: True`` in its pool."""

    def _update_volume_stats(self):
        super()._update_volume_stats()
        for pool in self._stats['pools']:
            pool['multiattach'] = True
