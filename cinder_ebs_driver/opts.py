"""Entry points for oslo-config-generator and the configuration reference.

* namespace ``cinder_ebs_driver``: the driver's options, set in each EBS
  backend section of cinder.conf;
* namespace ``cinder_ebs_driver.api_guard``: the options of the cinder-api
  guard filter, set in its section of api-paste.ini.
"""

import copy

from cinder_ebs_driver import api_guard_options
from cinder_ebs_driver import options


def list_opts():
    return [('backend_defaults', copy.deepcopy(options.ebs_opts))]


def list_api_guard_opts():
    return [(api_guard_options.PASTE_SECTION,
             copy.deepcopy(api_guard_options.api_guard_opts))]
