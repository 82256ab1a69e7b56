"""Typed state shared by the actions of one job (instead of a string-keyed blackboard)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lava_dispatcher.alarm import DeadlineStack
from lava_dispatcher.device import DeviceConfig, DispatcherConfig
from lava_dispatcher.local_files import LocalFiles
from lava_dispatcher.logger import JobLogger
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


@dataclass
class JobContext:
    job_id: str
    job: dict[str, Any]
    device: DeviceConfig
    dispatcher: DispatcherConfig
    logger: JobLogger
    deadlines: DeadlineStack = field(default_factory=DeadlineStack)
    processes: ProcessRegistry = field(default_factory=ProcessRegistry)
    env_dut: dict[str, Any] = field(default_factory=dict)
    local_files: LocalFiles = field(default_factory=LocalFiles)
    scratch_dir: Path | None = None
    tftp_dir: Path | None = None
    downloaded: dict[str, Path] = field(default_factory=dict)
    image_args: dict[str, list[str]] = field(default_factory=dict)
    overlay: OverlayInfo | None = None
    connection: Console | None = None
    # test stage index -> what the signal parser must know of its definitions (test_shell RunInfo)
    test_definitions: dict[int, list[Any]] = field(default_factory=dict)
    canceled: bool = False
    multinode: MultinodeProtocol | None = None  # a MultiNode sub-job's place in its group

    def scratch(self) -> Path:
        """The per-job scratch dir under the dispatcher download dir, created on first use."""
        if self.scratch_dir is None:
            base = self.dispatcher.download_dir / f"{self.dispatcher.prefix}{self.job_id}"
            base.mkdir(parents=True, exist_ok=True)
            self.scratch_dir = base
        return self.scratch_dir
