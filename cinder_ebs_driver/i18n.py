"""oslo.i18n integration for cinder_ebs_driver."""

import oslo_i18n

DOMAIN = 'cinder_ebs_driver'

_translators = oslo_i18n.TranslatorFactory(domain=DOMAIN)

# The primary translation function using the well-known name "_"
_ = _translators.primary
