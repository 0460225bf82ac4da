"""This project's Cinder and the EBS emulator, in processes of their own.

Nova's harness and Cinder both register their options on oslo.config's
global object, so Cinder cannot run inside the test process. The
all-in-one's :class:`ebs_allinone.stack.AllInOne` starts the emulator and
Cinder (API, scheduler, volume with the EBS driver, this project's
api-paste.ini with the guard in its default configuration, and the noauth
service-token emulation) as child processes; nothing here imports Cinder.

The test talks to Cinder over HTTP with python-cinderclient and reads the
backend through the official ECS SDK, as an operator would.
"""

import json

from alibabacloud_ecs20140526 import client as ecs_client
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_tea_openapi import models as openapi_models
from cinderclient import client as cinder_client

from ebs_allinone.cinder import client as cinder_api
from ebs_allinone.cinder.filters import call_log
from ebs_allinone import stack as stack_mod

#: The volume API microversion the test's own Cinder calls use.
ADMIN_VERSION = '3.50'


class CinderStack(object):
    """The emulator and Cinder for compute hosts named ``host_names``."""

    def __init__(self, host_names):
        self.stack = stack_mod.AllInOne(names=host_names)
        self.url = None
        self._ecs = None

    def start(self):
        self.stack.make_dir()
        self.stack.outer_filters[call_log.FILTER_NAME] = (
            call_log.paste_section(self.call_log_path))
        self.stack.start_emulator()
        self.stack.start_cinder()
        self.url = self.stack.cinder.url
        emulator = self.stack.emulator
        self._ecs = ecs_client.Client(openapi_models.Config(
            access_key_id=emulator.access_key_id,
            access_key_secret=emulator.access_key_secret,
            endpoint=emulator.endpoint, protocol='http',
            region_id=emulator.region_id, connect_timeout=5000,
            read_timeout=30000))

    def stop(self):
        """Stop both; return what was left behind (empty when clean)."""
        return self.stack.stop()

    @property
    def log_path(self):
        return self.stack.path('cinder.log')

    @property
    def call_log_path(self):
        """Every volume API call Cinder received (:mod:`call_log`)."""
        return self.stack.path('volume-api-calls.jsonl')

    def call_mark(self):
        """A mark for :meth:`calls_since`."""
        return call_log.size(self.call_log_path)

    def calls_since(self, mark):
        """The volume API calls Cinder received after ``mark``."""
        return call_log.read(self.call_log_path, start=mark)

    @property
    def host_instances(self):
        """{compute host name: its ECS instance id}."""
        return dict(self.stack.host_instances)

    def endpoint_template(self):
        """Nova's ``[cinder] endpoint_template`` for this Cinder."""
        return self.url + '/%(project_id)s'

    def client(self, project_id, version=ADMIN_VERSION, user_id='admin'):
        """A cinderclient of ``project_id`` at ``version``."""
        session = cinder_api.noauth_session(self.url, user_id=user_id,
                                            project_id=project_id)
        return cinder_client.Client(version, session=session)

    # -- the backend ---------------------------------------------------------
    def disks(self):
        request = ecs_models.DescribeDisksRequest(
            region_id=self.stack.emulator.region_id, page_size=100)
        body = self._ecs.describe_disks(request).body.to_map()
        return (body.get('Disks') or {}).get('Disk') or []

    def disk(self, disk_id):
        request = ecs_models.DescribeDisksRequest(
            region_id=self.stack.emulator.region_id,
            disk_ids=json.dumps([disk_id]))
        body = self._ecs.describe_disks(request).body.to_map()
        found = (body.get('Disks') or {}).get('Disk') or []
        return found[0] if found else None

    def attached_instances(self, disk_id):
        """Sorted ECS instance ids the disk is attached to."""
        disk = self.disk(disk_id) or {}
        attachments = (disk.get('Attachments') or {}).get('Attachment') or []
        return sorted(a['InstanceId'] for a in attachments)
