"""The whole check: build, install on this machine, run a QEMU job, restart, purge.

Slow (minutes) and changes the machine (packages, apache2, PostgreSQL's main
cluster), so it runs only when asked: ``LAVA_TEST_PACKAGES=1`` as root. CI
calls ``share/ci/test-packages.sh`` directly; this wrapper is for pytest users.
"""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.packaging, pytest.mark.qemu]


def test_packages_install_run_a_job_and_purge():
    if os.environ.get("LAVA_TEST_PACKAGES") != "1":
        pytest.skip("set LAVA_TEST_PACKAGES=1 to build and install the Debian packages here")
    if os.geteuid() != 0:
        pytest.skip("installing packages needs root")
    result = subprocess.run([str(REPO / "share" / "ci" / "test-packages.sh")], capture_output=True, text=True,
                            timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
