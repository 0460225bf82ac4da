"""Checks that Cinder's services stay up past ``service_down_time``.

The tests that use them lower ``service_down_time`` and
``report_interval`` to these values.
"""

import time

SERVICE_DOWN_TIME = 6
REPORT_INTERVAL = 1
BINARIES = {'cinder-scheduler', 'cinder-volume'}
# The all-in-one's Cinder process also runs cinder-backup.
ALLINONE_BINARIES = BINARIES | {'cinder-backup'}


def assert_services_stay_up(test, services, binaries=BINARIES):
    """Wait past ``SERVICE_DOWN_TIME``; every service is up, heartbeating.

    :param test: the test case.
    :param services: returns ``{(binary, host): (state, updated_at)}``.
    :param binaries: the services expected.
    """
    before = services()
    test.assertEqual(binaries, {binary for binary, _host in before})
    # Twice the down time: a record nobody updates is then down, whenever
    # it was last written during the start.
    time.sleep(2 * SERVICE_DOWN_TIME)
    after = services()
    test.assertEqual(sorted(before), sorted(after))
    for key, (state, updated_at) in sorted(after.items()):
        test.assertEqual('up', state, '%s %s' % key)
        test.assertNotEqual(before[key][1], updated_at,
                            'no heartbeat of %s %s' % key)
