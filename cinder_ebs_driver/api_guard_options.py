"""Options of the cinder-api guard filter.

They are read from the filter's own section of api-paste.ini
(``[filter:ebs_api_guard]``), not from cinder.conf; they are declared as
oslo.config options so that their type, default and help text live in one
place and the configuration reference is generated from them.
"""

from oslo_config import cfg

from cinder_ebs_driver.i18n import _

#: The api-paste.ini section the options belong in.
PASTE_SECTION = 'filter:ebs_api_guard'

guard_attachments_opt = cfg.BoolOpt(
    'guard_attachments',
    default=True,
    help=_('Refuse, below volume API microversion 3.50, a new attachment '
           '(POST /attachments, os-reserve, os-attach) of a multi-attach '
           'volume that is already attached to another instance. Nova '
           'creates attachments at microversion 3.44, so with this rule '
           'on it cannot attach a multi-attach volume to a second server; '
           'false turns this rule off and keeps the create, manage, '
           'retype and encryption rules. Set it in the filter\'s section '
           'of api-paste.ini.'))

api_guard_opts = [guard_attachments_opt]
