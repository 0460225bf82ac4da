"""A saturated CPU for the tests that must hold on a loaded machine."""

import os
import subprocess
import sys

import fixtures

# One busy process per CPU, at the tests' own priority.
SPIN = 'while True:\n    pass\n'


class SaturatedCPU(fixtures.Fixture):
    """Keeps every CPU busy until cleanup, which stops the spinners."""

    def _setUp(self):
        self.spinners = []
        for _ in range(os.cpu_count() or 1):
            spinner = subprocess.Popen([sys.executable, '-c', SPIN])
            self.spinners.append(spinner)
            self.addCleanup(self._stop, spinner)

    @staticmethod
    def _stop(spinner):
        spinner.kill()
        spinner.wait()
