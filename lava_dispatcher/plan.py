"""The job as the parser read it: typed blocks in order, and the job-wide settings actions may need.

Actions never read the raw job definition: what they need of it is here,
checked once, with the position each block had in ``actions:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from lava_common.exceptions import JobError
from lava_common.records import field, record

SECTIONS = ("deploy", "boot", "test", "command")

# the reference's namespace of an action that names none: single-board, single-console jobs live here
DEFAULT_NAMESPACE = "common"


class PlanBlock(NamedTuple):
    """One entry of the job's ``actions:`` list."""

    section: str  # deploy, boot, test or command
    position: int  # index in ``actions:``
    namespace: str
    parameters: Mapping[str, Any]

    @property
    def where(self) -> str:
        """The block's path in the job definition, for error messages."""
        return f"actions[{self.position}].{self.section}"


@record
class JobPlan:
    """The job's blocks in order and its job-wide settings; the empty plan stands for no job."""

    job_id: str = ""
    blocks: tuple[PlanBlock, ...] = ()
    # job-wide settings, as the definition wrote them
    context: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, Any] = field(default_factory=dict)
    protocols: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    reboot_to_fastboot: bool = True  # a fastboot deploy first asks a running phone to reboot to its bootloader
    host_role: str = ""  # a MultiNode secondary connection: the role whose board it logs in to over ssh

    @classmethod
    def from_job(cls, job_id: str, job: Any) -> JobPlan:
        """Check the shape of ``actions:`` and read each block; raises JobError naming the path."""
        if not isinstance(job, dict):
            raise JobError("Invalid job definition: the job must be a mapping")
        return cls(
            job_id=job_id,
            blocks=tuple(_blocks(job.get("actions"))),
            context=_mapping(job, "context"),
            environment=_mapping(job, "environment"),
            secrets=_mapping(job, "secrets"),
            protocols=_mapping(job, "protocols"),
            tags=tuple(str(tag) for tag in job.get("tags") or ()),
            reboot_to_fastboot=job.get("reboot_to_fastboot") is not False,
            host_role=str(job.get("host_role") or ""),
        )

    def section(self, name: str) -> list[PlanBlock]:
        return [block for block in self.blocks if block.section == name]

    @property
    def test_shell_blocks(self) -> list[PlanBlock]:
        """The ``test: definitions:`` blocks in job order: their index is the overlay's stage number."""
        return [block for block in self.section("test") if "definitions" in block.parameters]

    @property
    def needs_overlay(self) -> bool:
        """A lava-test-shell runs later, so the deploy must put the overlay on the board."""
        return bool(self.test_shell_blocks)

    def test_stage(self, block: PlanBlock) -> int:
        """Stage number of a definitions block: its rank among the job's test-shell blocks."""
        positions = [candidate.position for candidate in self.test_shell_blocks]
        if block.position not in positions:
            raise JobError(f"{block.where}: not a test-shell block (no 'definitions')")
        return positions.index(block.position)

    def shell_prompts(self, block: PlanBlock) -> list[str]:
        """The shell prompts a test block finds on its console: the ``prompts`` of the last boot
        before it, in the namespace whose console it uses, that gave some ([] when none did).

        A boot without ``prompts`` waits for no shell (the reference's rule): a test shell after it
        looks for the prompts an earlier boot of that console declared, besides the device's default.
        """
        console = str(block.parameters.get("connection-namespace") or block.namespace)
        for boot in reversed(self.section("boot")):
            if boot.position < block.position and boot.namespace == console and boot.parameters.get("prompts"):
                prompts = boot.parameters["prompts"]
                return [prompts] if isinstance(prompts, str) else [str(prompt) for prompt in prompts]
        return []

    def boots_after(self, block: PlanBlock) -> bool:
        """A boot block follows this one in its namespace before any test does."""
        for later in self.blocks[self.blocks.index(block) + 1:]:
            if later.namespace == block.namespace and later.section in ("boot", "test"):
                return later.section == "boot"
        return False

    @property
    def deploy_os(self) -> str:
        """The ``os:`` of the first deploy that names one ('' when none does)."""
        for block in self.section("deploy"):
            if block.parameters.get("os"):
                return str(block.parameters["os"])
        return ""


def _mapping(job: dict[str, Any], key: str) -> Mapping[str, Any]:
    value = job.get(key)
    return value if isinstance(value, dict) else {}


def _blocks(actions: Any) -> list[PlanBlock]:
    if not isinstance(actions, list) or not actions:
        raise JobError("Invalid job definition: 'actions' must be a non-empty list")
    blocks = []
    for position, item in enumerate(actions):
        where = f"actions[{position}]"
        if not isinstance(item, dict) or len(item) != 1:
            raise JobError(f"{where}: each action must be a mapping with exactly one key ({', '.join(SECTIONS)})")
        section, parameters = next(iter(item.items()))
        if section not in SECTIONS:
            raise JobError(f"{where}: unknown action type '{section}'")
        if not isinstance(parameters, dict):
            raise JobError(f"{where}.{section}: must be a mapping")
        namespace = str(parameters.get("namespace") or DEFAULT_NAMESPACE)
        blocks.append(PlanBlock(section, position, namespace, parameters))
    return blocks
