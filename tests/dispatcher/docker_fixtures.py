"""A private docker daemon for the container tests, and the host state they must leave as they found it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from testimages import container_rootfs

from .helpers import REPO

sys.path.insert(0, str(REPO / "share" / "virtual-lab"))
import private_dockerd  # noqa: E402 - share/virtual-lab is not a package

IMAGE = "lava/busybox:1"


def host_state() -> dict[str, str]:
    """What a container test must not change: links, firewall, mounts of ours, forwarding."""
    def run(*argv: str) -> str:
        proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
        return proc.stdout + proc.stderr

    mounts = "\n".join(line for line in Path("/proc/mounts").read_text().splitlines() if "lava" in line)
    return {
        "links": run("ip", "-o", "link"),
        "netns": run("ip", "netns", "list"),
        "iptables": run("iptables", "-S"),
        "forwarding": Path("/proc/sys/net/ipv4/ip_forward").read_text(),
        "mounts": mounts,
    }


@pytest.fixture(scope="module")
def dockerd() -> Iterator[private_dockerd.PrivateDockerd]:
    reason = private_dockerd.available()
    if reason:
        pytest.skip(reason)
    tarball = container_rootfs()
    before = host_state()
    # a short path: the daemon's unix sockets live under it
    daemon = private_dockerd.PrivateDockerd(Path(tempfile.mkdtemp(prefix="lava-dk-", dir="/tmp")))
    try:
        daemon.start()
        daemon.import_image(tarball, IMAGE)
        yield daemon
    finally:
        daemon.stop()
        daemon.remove_scratch()
    assert host_state() == before


def assert_clean(daemon: private_dockerd.PrivateDockerd, marker: str) -> None:
    """No container, no image beyond the imported one, no process of the job left."""
    assert daemon.containers() == []
    assert daemon.images() == [IMAGE]
    assert subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode != 0
