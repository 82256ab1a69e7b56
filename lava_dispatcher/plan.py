"""What the parser knows about the whole job while building each block's actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class JobPlan:
    job_id: str
    job: dict[str, Any]
    test_blocks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def needs_overlay(self) -> bool:
        """A lava-test-shell runs later, so the deploy must put the overlay on the board."""
        return any("definitions" in block for block in self.test_blocks)

    def test_stage(self, block: dict[str, Any]) -> int:
        """Index of this definitions block among the job's test-shell blocks."""
        stages = [b for b in self.test_blocks if "definitions" in b]
        for index, candidate in enumerate(stages):
            if candidate is block:
                return index
        return 0
