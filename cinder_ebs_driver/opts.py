"""Entry point for oslo-config-generator and the configuration reference.

Namespace ``cinder_ebs_driver``: the driver's options, set in each EBS
backend section of cinder.conf. (The cinder-api guard filter has none.)
"""

import copy

from cinder_ebs_driver import options


def list_opts():
    return [('backend_defaults', copy.deepcopy(options.ebs_opts))]
