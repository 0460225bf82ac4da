"""cinder-api paste filter guarding multi-attach and back-end QoS specs.

The driver never imports this package; cinder-api loads it from
api-paste.ini::

    [filter:ebs_api_guard]
    paste.filter_factory = cinder_ebs_driver.api_guard:filter_factory

:mod:`~cinder_ebs_driver.api_guard.filter` is the WSGI filter (what it
guards, and where it goes in the pipeline),
:mod:`~cinder_ebs_driver.api_guard.classify` tells the requests it looks
at, :mod:`~cinder_ebs_driver.api_guard.rules` and
:mod:`~cinder_ebs_driver.api_guard.qos` decide them.
"""

from cinder_ebs_driver.api_guard.filter import APIGuard
from cinder_ebs_driver.api_guard.filter import filter_factory

__all__ = ['APIGuard', 'filter_factory']
