"""The guard's options as the configuration reference lists them."""

from unittest import mock

from oslotest import base

from cinder_ebs_driver import api_guard
from cinder_ebs_driver import api_guard_options
from cinder_ebs_driver import opts


def _downstream(environ, start_response):
    return []


class GuardOptionsTest(base.BaseTestCase):

    def test_entry_point_lists_the_paste_section(self):
        listed = opts.list_api_guard_opts()
        self.assertEqual(['filter:ebs_api_guard'],
                         [group for group, _opts in listed])
        names = [opt.name for opt in listed[0][1]]
        self.assertEqual(['guard_attachments'], names)
        self.assertIs(True, listed[0][1][0].default)

    def test_filter_default_is_the_option_default(self):
        self.assertTrue(
            api_guard.filter_factory({})(_downstream).guard_attachments)
        with mock.patch.object(api_guard_options.guard_attachments_opt,
                               'default', False):
            guard = api_guard.filter_factory({})(_downstream)
        self.assertFalse(guard.guard_attachments)

    def test_paste_value_overrides_the_default(self):
        guard = api_guard.filter_factory(
            {}, guard_attachments='false')(_downstream)
        self.assertFalse(guard.guard_attachments)
