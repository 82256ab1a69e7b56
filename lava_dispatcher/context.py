"""Typed state shared by the actions of one job (instead of a string-keyed blackboard).

What a deploy produces for later actions (image paths, the boot command's
image arguments, the overlay and where it went) and the console a boot opens
belong to a namespace (the reference's ``namespace:`` on each action): one job
may drive several boards or consoles. ``ctx.downloaded``, ``ctx.connection``...
are those of the namespace of the action running now, which the pipeline sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_common.records import field, record
from lava_dispatcher.alarm import DeadlineStack
from lava_dispatcher.device import DeviceConfig, DispatcherConfig
from lava_dispatcher.local_files import LocalFiles
from lava_dispatcher.logger import JobLogger
from lava_dispatcher.plan import DEFAULT_NAMESPACE, JobPlan
from lava_dispatcher.processes import ProcessRegistry

if TYPE_CHECKING:
    from lava_dispatcher.compose_cli import ComposeProject
    from lava_dispatcher.console import Console
    from lava_dispatcher.protocols.multinode import MultinodeProtocol
    from lava_dispatcher.ssh_target import SshTarget


@record
class OverlayInfo:
    """The test-shell overlay built on the worker, and where it lands on the board."""

    root: Path  # on the worker: the tree to put at / on the board
    results_dir: str  # on the board, e.g. /lava-42
    tarball: Path | None = None
    # shell commands that make results_dir usable on a freshly booted board (mount the overlay disk)
    board_commands: list[str] = field(default_factory=list)
    boot_args: list[str] = field(default_factory=list)  # QEMU arguments that attach the overlay disk
    prepared_on: Any = None  # the console the board commands last ran on


@record(frozen=True)
class NfsExport:
    """An NFS root as the board mounts it: ``{NFS_SERVER_IP}`` and ``{NFSROOTFS}``."""

    server: str
    path: str


@record(frozen=True)
class NbdExport:
    """The nbd-server this job started: where boards find it, and the export's name."""

    host: str  # {NBDSERVERIP}
    port: int  # {NBDSERVERPORT}
    name: str  # the export name


@record(frozen=True)
class RemovableMedia:
    """The disk a ``to: usb|sata|sd`` deploy wrote, as the dictionary names it: for the boot's ``{ROOT_PART}``."""

    kind: str  # usb, sata, sd
    label: str  # the job's `device:`
    uuid: str  # its /dev/disk/by-id name on the board
    device_id: int  # its number in the bootloader (usb 0, scsi 1...)


@record
class IsoInstallation:
    """``deploy: to: iso-installer``: what the installer boots and the disk it installs onto."""

    disk: Path  # the empty raw disk of installation_size; the installed system boots from it
    kernel: Path | None = None  # pulled out of the ISO
    initrd: Path | None = None
    console: str = ""  # iso.console: the installer's console= (else the device's boot_options.console)


@record
class NamespaceState:
    """What the actions of one namespace leave for the later ones."""

    downloaded: dict[str, Path] = field(default_factory=dict)  # image label -> local file
    boot_image_args: list[str] = field(default_factory=list)  # the boot command's arguments for the images
    kernel_type: str = "image"  # the deployed kernel's type: picks booti, bootz or bootm
    overlay: OverlayInfo | None = None
    nfs_rootfs: Path | None = None  # the extracted root filesystem the board mounts over NFS
    nfs_export: NfsExport | None = None  # what the board mounts: that folder, or a persistent_nfs address
    nbd: NbdExport | None = None  # the root filesystem image an nbd-server of this job serves
    # console patterns that mean the board cannot mount the root the deploy prepared, and that root
    boot_failures: list[str] = field(default_factory=list)
    network_root: str = ""  # e.g. "NFS root 10.0.2.2:/srv/nfs/42-nfs-x/rootfs", for the error message
    connection: Console | None = None
    container_image: str = ""  # `deploy: to: docker`: the image the docker boot starts
    # test stage index -> what the signal parser must know of its definitions (test_shell RunInfo)
    test_definitions: dict[int, list[Any]] = field(default_factory=dict)
    ssh_target: SshTarget | None = None  # the host a boot over ssh logged in to
    remote_overlay: str = ""  # the overlay tarball copied to that host, not yet unpacked
    installation: IsoInstallation | None = None  # `deploy: to: iso-installer`, for `boot: method: qemu-iso`
    media: RemovableMedia | None = None  # the secondary media a `to: usb|sata|sd` deploy chose


@record
class JobContext:
    job_id: str
    job: dict[str, Any]  # the definition as submitted; actions read the plan instead
    device: DeviceConfig
    dispatcher: DispatcherConfig
    logger: JobLogger
    plan: JobPlan = field(default_factory=JobPlan)
    deadlines: DeadlineStack = field(default_factory=DeadlineStack)
    processes: ProcessRegistry = field(default_factory=ProcessRegistry)
    env_dut: dict[str, Any] = field(default_factory=dict)
    local_files: LocalFiles = field(default_factory=LocalFiles)
    scratch_dir: Path | None = None
    tftp_dir: Path | None = None
    nfs_dirs: list[Path] = field(default_factory=list)  # the job's folders under the exported NFS root
    namespaces: dict[str, NamespaceState] = field(default_factory=dict)
    namespace: str = DEFAULT_NAMESPACE  # of the action running now
    connection_namespace: str = ""  # its `connection-namespace:`, whose console it uses ("" = its own)
    canceled: bool = False
    multinode: MultinodeProtocol | None = None  # a MultiNode sub-job's place in its group
    test_services: ComposeProject | None = None  # the docker-compose services the job's tests use, while they run

    def scratch(self) -> Path:
        """The per-job scratch dir under the dispatcher download dir, created on first use."""
        if self.scratch_dir is None:
            base = self.dispatcher.download_dir / f"{self.dispatcher.prefix}{self.job_id}"
            base.mkdir(parents=True, exist_ok=True)
            self.scratch_dir = base
        return self.scratch_dir

    @property
    def current(self) -> NamespaceState:
        return self.namespaces.setdefault(self.namespace, NamespaceState())

    def connections(self) -> list[Console]:
        """Every namespace's open console, for finalize and the last-resort cleanup."""
        return [state.connection for state in self.namespaces.values() if state.connection is not None]

    # the running namespace's state, under the names the actions use
    @property
    def downloaded(self) -> dict[str, Path]:
        return self.current.downloaded

    @property
    def boot_image_args(self) -> list[str]:
        return self.current.boot_image_args

    @boot_image_args.setter
    def boot_image_args(self, value: list[str]) -> None:
        self.current.boot_image_args = value

    @property
    def kernel_type(self) -> str:
        return self.current.kernel_type

    @kernel_type.setter
    def kernel_type(self, value: str) -> None:
        self.current.kernel_type = value

    @property
    def overlay(self) -> OverlayInfo | None:
        return self.current.overlay

    @overlay.setter
    def overlay(self, value: OverlayInfo | None) -> None:
        self.current.overlay = value

    @property
    def console_state(self) -> NamespaceState:
        """The namespace whose console the running action uses (``connection-namespace``, else its own)."""
        name = self.connection_namespace or self.namespace
        return self.namespaces.setdefault(name, NamespaceState())

    @property
    def nfs_rootfs(self) -> Path | None:
        return self.current.nfs_rootfs

    @nfs_rootfs.setter
    def nfs_rootfs(self, value: Path | None) -> None:
        self.current.nfs_rootfs = value

    @property
    def nfs_export(self) -> NfsExport | None:
        return self.current.nfs_export

    @nfs_export.setter
    def nfs_export(self, value: NfsExport | None) -> None:
        self.current.nfs_export = value

    @property
    def nbd(self) -> NbdExport | None:
        return self.current.nbd

    @nbd.setter
    def nbd(self, value: NbdExport | None) -> None:
        self.current.nbd = value

    @property
    def boot_failures(self) -> list[str]:
        return self.current.boot_failures

    @boot_failures.setter
    def boot_failures(self, value: list[str]) -> None:
        self.current.boot_failures = value

    @property
    def network_root(self) -> str:
        return self.current.network_root

    @network_root.setter
    def network_root(self, value: str) -> None:
        self.current.network_root = value

    @property
    def connection(self) -> Console | None:
        return self.console_state.connection

    @connection.setter
    def connection(self, value: Console | None) -> None:
        self.console_state.connection = value

    @property
    def media(self) -> RemovableMedia | None:
        return self.current.media

    @media.setter
    def media(self, value: RemovableMedia | None) -> None:
        self.current.media = value

    @property
    def test_definitions(self) -> dict[int, list[Any]]:
        return self.current.test_definitions

    @test_definitions.setter
    def test_definitions(self, value: dict[int, list[Any]]) -> None:
        self.current.test_definitions = value

    @property
    def ssh_target(self) -> SshTarget | None:
        return self.current.ssh_target

    @ssh_target.setter
    def ssh_target(self, value: SshTarget | None) -> None:
        self.current.ssh_target = value

    @property
    def remote_overlay(self) -> str:
        return self.current.remote_overlay

    @remote_overlay.setter
    def remote_overlay(self, value: str) -> None:
        self.current.remote_overlay = value

    @property
    def installation(self) -> IsoInstallation | None:
        return self.current.installation

    @installation.setter
    def installation(self, value: IsoInstallation | None) -> None:
        self.current.installation = value
