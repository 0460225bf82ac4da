"""The processes of a process group, found and stopped."""

import subprocess

from oslotest import base

from ebs_allinone.daemons import process
from ebs_allinone.daemons import process_groups


class ProcessGroupsTest(base.BaseTestCase):

    def test_a_parent_and_its_child_are_found_and_killed(self):
        parent = subprocess.Popen(
            ['sh', '-c', 'sleep 60 & wait'], start_new_session=True)
        self.addCleanup(parent.wait)
        self.addCleanup(process_groups.kill_group, parent.pid)
        found = []
        for _i in range(100):
            found = process_groups.group_pids(parent.pid)
            if len(found) == 2:
                break
            process.wait_gone(parent.pid, 0.05)
        self.assertEqual(2, len(found))
        self.assertIn(parent.pid, found)
        self.assertEqual(found, process_groups.kill_group(parent.pid))
        parent.wait(10)
        self.assertEqual([], process_groups.group_pids(parent.pid))
        self.assertEqual([], process_groups.kill_group(parent.pid))
