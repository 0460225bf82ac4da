"""Entry point for oslo-config-generator (namespace cinder_ebs_driver)."""

import copy

from cinder_ebs_driver import options


def list_opts():
    return [('backend_defaults', copy.deepcopy(options.ebs_opts))]
