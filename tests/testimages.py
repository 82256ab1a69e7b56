"""Find (or build) the kernels and initramfs images that QEMU tests boot.

Tests import it as ``from testimages import images`` (``tests/`` is on ``sys.path``
because ``tests/conftest.py`` lives there)::

    imgs = images()              # builds with share/test-images/build.sh when missing,
                                 # or pytest.skip()s with the reason when it cannot
    imgs.x86_64.kernel           # Path to the bzImage
    imgs.arm64.initramfs_login   # Path to the initramfs with a login prompt (root / root)
    imgs.arm64.qemu_command(extra_append="lava.panic=1")   # argv list that boots it
    imgs.uboot_arm64             # Debian's U-Boot for QEMU arm64 virt, or None

The boards: hostname ``lava``, prompt ``root@lava:~# `` (follows the cwd), login prompt
``lava login: `` with ``initramfs-login`` or ``login=1`` on the kernel command line,
``lava.panic=1`` makes /init exit so that the kernel panics. See share/test-images/README.md.

Images live in ``$LAVA_TEST_IMAGES`` or ``~/.cache/lava/test-images`` (the script's default).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build.sh"
MULTINODE_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-multinode.sh"
EXTRA_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-extra.sh"
CONTAINER_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-container-rootfs.sh"
FASTBOOT_CONTAINER_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-fastboot-container.sh"
ANDROID_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-android.sh"
EXTRA_KERNELS = {"i386": "bzImage", "armv7": "zImage"}
UBOOT_ARM64 = Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin")
BUILD_TIMEOUT = 900

# Prompts the images print; tests and device configs match on these.
SHELL_PROMPT = "root@lava:~# "
PROMPT_REGEX = r"root@lava:[^#\r\n]*# "
LOGIN_PROMPT = "lava login: "
PASSWORD_PROMPT = "Password: "
USERNAME = "root"
PASSWORD = "root"


@dataclass(frozen=True)
class ArchImages:
    """One architecture's kernel, initramfs images and how QEMU boots them."""

    arch: str
    kernel: Path
    initramfs: Path
    initramfs_login: Path
    qemu_binary: str
    machine_args: tuple[str, ...]
    console: str

    def qemu_command(
        self, *, login: bool = False, extra_append: str = "", initrd: Path | None = None, memory: int = 256
    ) -> list[str]:
        """argv for a serial-on-stdio QEMU that boots this kernel to a shell (or a login prompt)."""
        ramdisk = initrd or (self.initramfs_login if login else self.initramfs)
        append = f"console={self.console} panic=-1 quiet {extra_append}".strip()
        return [
            self.qemu_binary,
            *self.machine_args,
            "-accel", "tcg",
            "-m", str(memory),
            "-nographic", "-no-reboot",
            "-kernel", str(self.kernel),
            "-initrd", str(ramdisk),
            "-append", append,
        ]


@dataclass(frozen=True)
class TestImages:
    """Everything a QEMU test boots; paths exist when ``images()`` returns."""

    __test__ = False  # not a pytest test class, despite the name

    root: Path
    x86_64: ArchImages
    arm64: ArchImages
    uboot_arm64: Path | None

    def arch(self, name: str) -> ArchImages:
        return {"x86_64": self.x86_64, "amd64": self.x86_64, "arm64": self.arm64, "aarch64": self.arm64}[name]


def images_dir() -> Path:
    if os.environ.get("LAVA_TEST_IMAGES"):
        return Path(os.environ["LAVA_TEST_IMAGES"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "lava" / "test-images"


def _layout(root: Path) -> TestImages:
    uboot = UBOOT_ARM64 if UBOOT_ARM64.exists() else None
    return TestImages(
        root=root,
        x86_64=ArchImages(
            arch="x86_64",
            kernel=root / "x86_64" / "bzImage",
            initramfs=root / "x86_64" / "initramfs.cpio.gz",
            initramfs_login=root / "x86_64" / "initramfs-login.cpio.gz",
            qemu_binary="qemu-system-x86_64",
            machine_args=(),
            console="ttyS0",
        ),
        arm64=ArchImages(
            arch="arm64",
            kernel=root / "arm64" / "Image",
            initramfs=root / "arm64" / "initramfs.cpio.gz",
            initramfs_login=root / "arm64" / "initramfs-login.cpio.gz",
            qemu_binary="qemu-system-aarch64",
            machine_args=("-M", "virt", "-cpu", "cortex-a57"),
            console="ttyAMA0",
        ),
        uboot_arm64=uboot,
    )


def _missing(imgs: TestImages) -> list[Path]:
    paths = [
        a.__dict__[f] for a in (imgs.x86_64, imgs.arm64) for f in ("kernel", "initramfs", "initramfs_login")
    ]
    return [p for p in paths if not p.is_file()]


@functools.cache
def _build() -> tuple[TestImages | None, str]:
    root = images_dir()
    # The script is idempotent and returns in milliseconds when the images are current.
    if not shutil.which("apt-get") and _missing(_layout(root)):
        return None, "test images missing and apt-get is not available to build them"
    try:
        proc = subprocess.run(
            ["sh", str(BUILD_SCRIPT), str(root)],
            capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"{BUILD_SCRIPT} took more than {BUILD_TIMEOUT} s"
    imgs = _layout(root)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        if not _missing(imgs):
            return imgs, ""  # stale but usable images beat no test at all
        return None, f"{BUILD_SCRIPT} failed (exit {proc.returncode}): " + " | ".join(tail)
    missing = _missing(imgs)
    if missing:
        return None, f"{BUILD_SCRIPT} did not produce {missing[0]}"
    return imgs, ""


def images() -> TestImages:
    """The test images, built when missing; skips the calling test when they cannot be had."""
    imgs, reason = _build()
    if imgs is None:
        pytest.skip(reason)
    return imgs


@functools.cache
def _run_build_script(script: Path) -> str:
    """Run one of share/test-images' cached build scripts into the images folder; why it failed, or ""."""
    try:
        proc = subprocess.run(["sh", str(script), str(images_dir())],
                              capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return f"{script} took more than {BUILD_TIMEOUT} s"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return f"{script} failed (exit {proc.returncode}): " + " | ".join(tail)
    return ""


def extra_images(arch: str) -> tuple[Path, Path]:
    """(kernel, initramfs) of the optional ``i386`` or ``armv7`` board; skips when they cannot be built."""
    root = images_dir()
    kernel, initramfs = root / arch / EXTRA_KERNELS[arch], root / arch / "initramfs.cpio.gz"
    reason = "" if shutil.which("apt-get") else "apt-get is not available to build them"
    if not reason:
        reason = _run_build_script(EXTRA_BUILD_SCRIPT)
    if not (kernel.is_file() and initramfs.is_file()):
        pytest.skip(f"{arch} test images missing: {reason or 'not built'}")
    return kernel, initramfs


def container_rootfs() -> Path:
    """The busybox root filesystem tarball that becomes the containers' image (``docker import``)."""
    tarball = images_dir() / "containers" / "busybox-rootfs.tar"
    proc = subprocess.run(["sh", str(CONTAINER_BUILD_SCRIPT), str(images_dir())], capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT, check=False)
    if proc.returncode != 0 or not tarball.is_file():
        pytest.skip(f"container rootfs missing: {(proc.stderr or proc.stdout).strip()[-300:]}")
    return tarball


def fastboot_container_rootfs() -> Path:
    """The root filesystem tarball of the fastboot container image: the host's fastboot and its libraries."""
    tarball = images_dir() / "containers" / "fastboot-rootfs.tar"
    proc = subprocess.run(["sh", str(FASTBOOT_CONTAINER_SCRIPT), str(images_dir())], capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT, check=False)
    if proc.returncode != 0 or not tarball.is_file():
        pytest.skip(f"fastboot container rootfs missing: {(proc.stderr or proc.stdout).strip()[-300:]}")
    return tarball


@functools.cache
def _build_android() -> str:
    """Build the virtual phone's boot and sparse system images; the reason they cannot be had, or ""."""
    images()
    proc = subprocess.run(["sh", str(ANDROID_BUILD_SCRIPT), str(images_dir())],
                          capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        return f"{ANDROID_BUILD_SCRIPT} failed (exit {proc.returncode}): " + (proc.stderr or proc.stdout).strip()[-300:]
    return ""


def android_images(arch: str) -> tuple[Path, Path]:
    """(boot.img, system.simg) of the virtual fastboot phone for ``arch``; skips when they cannot be built."""
    reason = _build_android()
    boot, system = images_dir() / arch / "boot.img", images_dir() / arch / "system.simg"
    if reason or not (boot.is_file() and system.is_file()):
        pytest.skip(f"android test images missing: {reason or 'not built'}")
    return boot, system


def network_initramfs() -> Path:
    """The x86_64 initramfs whose board has virtio-net cards (build-multinode.sh); skips when it cannot be built."""
    images()  # its base
    path = images_dir() / "x86_64" / "initramfs-net.cpio.gz"
    reason = "" if shutil.which("apt-get") else "apt-get is not available to build it"
    reason = reason or _run_build_script(MULTINODE_BUILD_SCRIPT)
    if not path.is_file():
        pytest.skip(f"{path} missing: {reason or 'not built'}")
    return path


def require_qemu(arch: str) -> None:
    """Skip unless the QEMU binary for ``arch`` is installed."""
    binary = {
        "x86_64": "qemu-system-x86_64", "arm64": "qemu-system-aarch64",
        "i386": "qemu-system-i386", "armv7": "qemu-system-arm",
    }[arch]
    if not shutil.which(binary):
        pytest.skip(f"{binary} is not installed (apt-get install qemu-system-x86 qemu-system-arm)")


DROPBEAR_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-dropbear.sh"


def dropbear_initramfs() -> Path:
    """The x86_64 initramfs whose board runs dropbear on 10.0.2.15:22 (share/test-images/build-dropbear.sh);
    boot it with build.sh's x86_64 kernel and a virtio NIC. Skips when it cannot be built."""
    path = images_dir() / "x86_64" / "initramfs-dropbear.cpio.gz"
    images()  # build.sh's images come first: the dropbear board extends them
    reason = _run_build_script(DROPBEAR_BUILD_SCRIPT)
    if not path.is_file():
        pytest.skip(f"dropbear test board missing: {reason or 'not built'}")
    return path


NETROOT_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-netroot.sh"


@dataclass(frozen=True)
class NetrootImages:
    """Images for network roots: arm64 (share/test-images/build-netroot.sh), x86_64 (build-netroot-x86.sh)."""

    kernel: Path
    initramfs: Path  # mounts nfsroot=... (NFSv4) or root=/dev/vdX (ext4), then switch_roots
    rootfs_tar: Path  # the busybox board as a gzip tarball (nfsrootfs); /etc/lava-rootfs says "netroot rootfs"
    rootfs_ext4: Path  # the same as an ext4 image (nbdroot)


def netroot_images() -> NetrootImages:
    """The network-root images, built when missing; skips the calling test when they cannot be had."""
    return _netroot("arm64", images().arm64.kernel, NETROOT_BUILD_SCRIPT, "network-root")


def _netroot(arch: str, kernel: Path, script: Path, what: str) -> NetrootImages:
    root = images_dir() / arch
    found = NetrootImages(kernel, root / "netroot.cpio.gz", root / "rootfs.tar.gz", root / "rootfs.ext4")
    reason = _run_build_script(script)
    if reason or not all(p.is_file() for p in (found.initramfs, found.rootfs_tar, found.rootfs_ext4)):
        pytest.skip(f"{what} test images missing: {reason or 'not built'}")
    return found


DISK_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-disk.sh"


@dataclass(frozen=True)
class DiskImages:
    """The disk-image board (share/test-images/build-disk.sh): root on partition 2 (index 1) of the disk."""

    kernel: Path
    initramfs: Path  # loads the virtio and ext4 modules, mounts root= and switch_roots into it
    disk_raw: Path  # MBR: partition 1 empty, partition 2 ext4 (the busybox root)
    disk_qcow2: Path
    root_device: str = "/dev/vda2"
    root_partition_index: int = 1


@functools.cache
def _build_disk() -> tuple[DiskImages | None, str]:
    root = images_dir() / "disk" / "x86_64"
    found = DiskImages(root / "bzImage", root / "initramfs-disk.cpio.gz", root / "disk.img", root / "disk.qcow2")
    missing = [p for p in (found.kernel, found.initramfs, found.disk_raw, found.disk_qcow2) if not p.is_file()]
    if not shutil.which("apt-get") and missing:
        return None, "disk test images missing and apt-get is not available to build them"
    try:
        proc = subprocess.run(["sh", str(DISK_BUILD_SCRIPT), str(images_dir())],
                              capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return None, f"{DISK_BUILD_SCRIPT} took more than {BUILD_TIMEOUT} s"
    missing = [p for p in (found.kernel, found.initramfs, found.disk_raw, found.disk_qcow2) if not p.is_file()]
    if missing:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return None, f"{DISK_BUILD_SCRIPT} failed (exit {proc.returncode}): " + " | ".join(tail)
    return found, ""


def disk_images() -> DiskImages:
    """The disk-image board's kernel, initramfs and disks, built when missing; skips when they cannot be."""
    found, reason = _build_disk()
    if found is None:
        pytest.skip(reason)
    return found


ISO_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-iso.sh"


@dataclass(frozen=True)
class InstallerImages:
    """The test installer CD (share/test-images/build-iso.sh) and a preseed for it."""

    iso: Path  # /install.amd/vmlinuz, /install.amd/initrd.gz, /install/base.tar.gz
    preseed: Path  # hostname debian, root password root, a late_command, power off at the end
    kernel_path: str = "/install.amd/vmlinuz"
    initrd_path: str = "/install.amd/initrd.gz"


def installer_images() -> InstallerImages:
    """The installer ISO and its preseed, built when missing; skips the calling test when they cannot be."""
    images()  # build.sh's busybox board is the system it installs
    found = InstallerImages(images_dir() / "iso" / "x86_64" / "lava-installer.iso",
                            images_dir() / "iso" / "x86_64" / "preseed.cfg")
    reason = "" if shutil.which("apt-get") else "apt-get is not available to build it"
    reason = reason or _run_build_script(ISO_BUILD_SCRIPT)
    if not (found.iso.is_file() and found.preseed.is_file()):
        pytest.skip(f"installer ISO missing: {reason or 'not built'}")
    return found


MEDIA_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-media.sh"


@dataclass(frozen=True)
class MediaImages:
    """arm64 images for secondary media (share/test-images/build-media.sh)."""

    kernel: Path
    initramfs: Path  # USB (EHCI), AHCI, ext4 drivers and /dev/disk/by-id links; root=/dev/... mounts it
    disk: Path  # raw, MBR, partition 1 ext4: /boot/Image, /boot/media.cpio.gz, /etc/lava-rootfs "media rootfs"


def media_images() -> MediaImages:
    """The secondary-media images, built when missing; skips the calling test when they cannot be had."""
    arm64 = images().arm64
    root = images_dir() / "arm64"
    found = MediaImages(arm64.kernel, root / "media.cpio.gz", root / "media-disk.img")
    reason = _run_build_script(MEDIA_BUILD_SCRIPT)
    if reason or not (found.initramfs.is_file() and found.disk.is_file()):
        pytest.skip(f"secondary-media test images missing: {reason or 'not built'}")
    return found


NETROOT_X86_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-netroot-x86.sh"


def netroot_x86_images() -> NetrootImages:
    """The x86_64 network-root images (share/test-images/build-netroot-x86.sh; the ramdisk also runs nbd-client
    for nbd.server=/nbd.port=), built when missing; skips the calling test when they cannot be had."""
    return _netroot("x86_64", images().x86_64.kernel, NETROOT_X86_BUILD_SCRIPT, "x86_64 network-root")


GRUB_PXE_BUILD_SCRIPT = REPO_ROOT / "share" / "test-images" / "build-grub-pxe.sh"


def grub_pxe_tree() -> Path:
    """The BIOS GRUB board's TFTP tree (share/test-images/build-grub-pxe.sh: ``boot/grub/i386-pc/core.0`` and
    ``boot/grub/grub.cfg``), built when missing; skips the calling test when it cannot be had."""
    tree = images_dir() / "grub-pxe"
    reason = "" if shutil.which("apt-get") else "apt-get is not available to build it"
    reason = reason or _run_build_script(GRUB_PXE_BUILD_SCRIPT)
    if reason or not (tree / "boot" / "grub" / "i386-pc" / "core.0").is_file():
        pytest.skip(f"GRUB PXE tree missing: {reason or 'not built'}")
    return tree
