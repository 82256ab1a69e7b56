"""Typed state shared by the actions of one job (instead of a string-keyed blackboard).

What a deploy produces for later actions (image paths, the boot command's
image arguments, the overlay and where it went) and the console a boot opens
belong to a namespace (the reference's ``namespace:`` on each action): one job
may drive several boards or consoles. ``ctx.downloaded``, ``ctx.connection``...
are those of the namespace of the action running now, which the pipeline sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_dispatcher.alarm import DeadlineStack
from lava_dispatcher.device import DeviceConfig, DispatcherConfig
from lava_dispatcher.local_files import LocalFiles
from lava_dispatcher.logger import JobLogger
from lava_dispatcher.plan import DEFAULT_NAMESPACE, JobPlan
from lava_dispatcher.processes import ProcessRegistry

if TYPE_CHECKING:
    from lava_dispatcher.console import Console
    from lava_dispatcher.protocols.multinode import MultinodeProtocol


@dataclass
class OverlayInfo:
    """The test-shell overlay built on the worker, and where it lands on the board."""

    root: Path  # on the worker: the tree to put at / on the board
    results_dir: str  # on the board, e.g. /lava-42
    tarball: Path | None = None
    # shell commands that make results_dir usable on a freshly booted board (mount the overlay disk)
    board_commands: list[str] = field(default_factory=list)
    boot_args: list[str] = field(default_factory=list)  # QEMU arguments that attach the overlay disk
    prepared_on: Any = None  # the console the board commands last ran on


@dataclass
class NamespaceState:
    """What the actions of one namespace leave for the later ones."""

    downloaded: dict[str, Path] = field(default_factory=dict)  # image label -> local file
    boot_image_args: list[str] = field(default_factory=list)  # the boot command's arguments for the images
    kernel_type: str = "image"  # the deployed kernel's type: picks booti, bootz or bootm
    overlay: OverlayInfo | None = None
    connection: Console | None = None
    # test stage index -> what the signal parser must know of its definitions (test_shell RunInfo)
    test_definitions: dict[int, list[Any]] = field(default_factory=dict)


@dataclass
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
    namespaces: dict[str, NamespaceState] = field(default_factory=dict)
    namespace: str = DEFAULT_NAMESPACE  # of the action running now
    canceled: bool = False
    multinode: MultinodeProtocol | None = None  # a MultiNode sub-job's place in its group

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
    def connection(self) -> Console | None:
        return self.current.connection

    @connection.setter
    def connection(self, value: Console | None) -> None:
        self.current.connection = value

    @property
    def test_definitions(self) -> dict[int, list[Any]]:
        return self.current.test_definitions

    @test_definitions.setter
    def test_definitions(self, value: dict[int, list[Any]]) -> None:
        self.current.test_definitions = value
