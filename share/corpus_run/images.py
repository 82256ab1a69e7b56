"""Our test images (share/test-images): where they are, their builds, the architectures they exist for; the
compressions a job may name."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import zipfile
from pathlib import Path

from corpus_run import REPO
from corpus_run.left_out import LeftOut

ARCHES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64", "arm": "armhf", "armhf": "armhf",
          "ppc": "ppc"}
KERNELS = {"x86_64": "x86_64/bzImage", "arm64": "arm64/Image", "armhf": "armhf/zImage", "ppc": "ppc/vmlinux"}
# the build scripts of an architecture's images beyond build.sh's (cached: they return at once when current)
ARCH_BUILDS = {"armhf": ("build-extra.sh", "build-armhf.sh"), "ppc": ("build-ppc.sh",)}
# architectures whose kernel has its network cards built in (build-ppc.sh cross-builds it): no modules to add
NETWORK_BUILT_IN = {"ppc"}
# the network-root images of each architecture (share/test-images)
NETROOT_SCRIPTS = {"arm64": "build-netroot.sh", "x86_64": "build-netroot-x86.sh"}


def images_dir() -> Path:
    if os.environ.get("LAVA_TEST_IMAGES"):
        return Path(os.environ["LAVA_TEST_IMAGES"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lava" / "test-images"


def build_images(script: str) -> str:
    """Run a share/test-images build script (cached, returns at once when current); why it failed, or ""."""
    # build-ppc.sh cross-builds a kernel: minutes on a loaded 2-core machine the first time
    proc = subprocess.run(["sh", str(REPO / "share" / "test-images" / script), str(images_dir())],
                          capture_output=True, text=True, timeout=1800, check=False)
    return "" if proc.returncode == 0 else f"{script}: " + (proc.stderr or proc.stdout).strip()[-200:]


def network_root(deploy: dict) -> bool:
    """The deploy puts the board's root on the network: an nfsrootfs, or an NBD export."""
    images = deploy.get("images") if isinstance(deploy.get("images"), dict) else {}
    return "nfsrootfs" in deploy or isinstance(images.get("nfsrootfs"), dict) or deploy.get("to") == "nbd"

def compress(path: Path, method: str | None) -> Path:
    if not method:
        return path
    data = path.read_bytes()
    out = path.with_name(f"{path.name}.{method}")
    if method == "gz":
        out.write_bytes(gzip.compress(data, mtime=0))
    elif method == "xz":
        out.write_bytes(lzma.compress(data, preset=1))
    elif method == "bz2":
        out.write_bytes(bz2.compress(data))
    elif method == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, path.name)
    else:
        raise LeftOut(f"compression {method!r}: we cannot make it")
    return out
