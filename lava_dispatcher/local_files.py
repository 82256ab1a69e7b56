"""Files of the worker a job may read: ``file://`` URLs and local git repositories.

A standalone ``lava-run`` (by hand, tuxrun) reads any local file its user can.
On a lab worker, lava-worker passes ``--allowed-file-dirs`` and a job may only
read below those folders (the admin's image cache, say); a path is resolved
first, so neither ``..`` nor a symbolic link leads out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lava_common.exceptions import JobError
from lava_common.records import record

_REMOTE_GIT = ("http", "https", "git", "ssh", "git+ssh", "ssh+git")


@record(frozen=True)
class LocalFiles:
    """``allowed`` is None for a standalone lava-run (every local file), else the only folders."""

    allowed: tuple[Path, ...] | None = None

    @classmethod
    def from_option(cls, text: str | None) -> LocalFiles:
        """``--allowed-file-dirs``: absent means standalone; an empty value allows no local file."""
        if text is None:
            return cls()
        return cls(tuple(Path(part).resolve() for part in text.split(os.pathsep) if part))

    @property
    def restricted(self) -> bool:
        return self.allowed is not None

    def check(self, path: str, where: str) -> Path:
        """The resolved ``path``, or a JobError naming ``where`` when this worker does not allow it."""
        if self.allowed is None:
            return Path(path)
        resolved = Path(path).resolve()
        if any(resolved.is_relative_to(folder) for folder in self.allowed):
            return resolved
        folders = ", ".join(str(folder) for folder in self.allowed) or "none"
        raise JobError(
            f"{where}: '{path}' is a local file outside the folders this worker allows for jobs "
            f"(lava-worker --allow-file-dir; allowed: {folders})"
        )


def local_path(text: str, git: bool = False) -> str | None:
    """The worker path a URL (or, with ``git``, a git repository) names; None when it is remote."""
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    if not git or parsed.scheme in _REMOTE_GIT:
        return None
    head = text.split("/", 1)[0]
    if "://" not in text and ":" in head:
        return None  # scp-like host:path, an ssh remote
    return text


def _artefact_urls(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if isinstance(value.get("url"), str):
            yield f"{where}.url", value["url"]
        for key, inner in value.items():
            if key != "url":
                yield from _artefact_urls(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _artefact_urls(inner, f"{where}[{index}]")


def _definition_sources(block: dict[str, Any], where: str) -> Iterator[tuple[str, str, bool]]:
    for key in ("definitions", "services"):  # test definitions, and test services' compose files
        entries = block.get(key)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and entry.get("from") in ("git", "url"):
                if isinstance(entry.get("repository"), str):
                    yield f"{where}.{key}[{index}].repository", entry["repository"], entry["from"] == "git"


def job_local_file_errors(job: dict[str, Any], local_files: LocalFiles) -> list[str]:
    """Every local file a job names (artefact URLs, test definition sources) that it may not read."""
    if not local_files.restricted:
        return []
    errors = []
    actions = job.get("actions")
    for index, wrapper in enumerate(actions if isinstance(actions, list) else []):
        for kind, block in (wrapper.items() if isinstance(wrapper, dict) else ()):
            where = f"actions[{index}].{kind}"
            sources: list[tuple[str, str, bool]] = []
            if kind == "deploy":
                sources = [(at, url, False) for at, url in _artefact_urls(block, where)]
            elif kind == "test" and isinstance(block, dict):
                sources = list(_definition_sources(block, where))
            for at, text, git in sources:
                path = local_path(text, git)
                if path is None:
                    continue
                try:
                    local_files.check(path, at)
                except JobError as exc:
                    errors.append(str(exc))
    return errors
