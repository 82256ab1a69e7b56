"""Paths built from job text stay inside the job's scratch space.

Two halves: ``job_path_problems`` finds, in a job definition, every field that
the dispatcher joins into a host path and that could climb out (run by the job
schema, so both submission and ``lava-run --validate`` refuse the job, with the
field's path); ``inside`` is the run-time guard where such a path is built:
resolve, then check.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lava_common.exceptions import JobError

Where = tuple[Any, ...]  # a field's path: mapping keys and list indexes
Problem = tuple[Where, str]  # (field path, reason)


def component_problem(text: Any) -> str | None:
    """Why ``text`` cannot be one file name inside a folder (None: it can)."""
    if type(text) is not str or not text:
        return "must be a non-empty name"
    if "/" in text or "\\" in text:
        return "must be a single file name: with '/' it becomes a path that can leave the job's scratch space"
    if text in (".", ".."):
        return f"'{text}' would name a folder outside the job's scratch space"
    if "\0" in text:
        return "must not contain NUL"
    return None


def relative_problem(text: Any, absolute_ok: bool = False) -> str | None:
    """Why ``text`` cannot be a path below a folder (None: it can); absolute paths are taken as
    relative to that folder when ``absolute_ok``."""
    if type(text) is not str or not text:
        return "must be a non-empty path"
    if "\0" in text:
        return "must not contain NUL"
    if text.startswith("/") and not absolute_ok:
        return "must be a relative path (an absolute path leaves the job's scratch space)"
    if ".." in text.split("/"):
        return "must not contain '..': the path would climb out of the job's scratch space"
    return None


def results_dir_problem(text: Any) -> str | None:
    """``lava_test_results_dir``: an absolute path on the board, built into the overlay tree."""
    if type(text) is not str or not text.startswith("/"):
        return "must be an absolute path such as /lava-%s"
    if text.replace("%s", "").count("%"):
        return "only '%s' (the job id) may follow a '%'"
    return relative_problem(text, absolute_ok=True)


def inside(base: Path, relative: str, where: str) -> Path:
    """``base/relative``, resolved; a JobError naming ``where`` when it is not inside ``base``."""
    root = base.resolve()
    target = (root / relative.lstrip("/")).resolve()
    if not target.is_relative_to(root):
        raise JobError(f"{where}: '{relative}' leads outside the job's scratch space")
    return target


def _deploy_problems(block: dict[str, Any], where: Where) -> Iterator[Problem]:
    images = block.get("images")
    if type(images) is not dict:
        return
    for label, image in images.items():
        at = (*where, "images", label)
        if problem := component_problem(label):
            yield at, f"image name {problem}"
        overlays = image.get("overlays") if type(image) is dict else None
        if type(overlays) is not dict:
            continue
        for name, overlay in overlays.items():
            if problem := component_problem(name):
                yield (*at, "overlays", name), f"overlay name {problem}"
            if type(overlay) is dict and "path" in overlay:
                if problem := relative_problem(overlay["path"], absolute_ok=True):
                    yield (*at, "overlays", name, "path"), problem


def _test_problems(block: dict[str, Any], where: Where) -> Iterator[Problem]:
    services = block.get("services")
    for index, service in enumerate(services if type(services) is list else []):
        # the compose file inside the service's fetched folder
        if type(service) is dict and "path" in service and (problem := relative_problem(service["path"])):
            yield (*where, "services", index, "path"), problem
    definitions = block.get("definitions")
    if type(definitions) is not list:
        return
    for index, definition in enumerate(definitions):
        if type(definition) is not dict:
            continue
        at = (*where, "definitions", index)
        if "path" in definition and (problem := relative_problem(definition["path"])):
            yield (*at, "path"), problem
        body = definition.get("repository")
        install = body.get("install") if type(body) is dict else None
        repos = install.get("git-repos") if type(install) is dict else None
        for number, repo in enumerate(repos if type(repos) is list else []):
            if type(repo) is dict and "destination" in repo:
                if problem := relative_problem(repo["destination"]):
                    yield (*at, "repository", "install", "git-repos", number, "destination"), problem


def job_path_problems(job: Any) -> list[Problem]:
    """Every field of a job definition that would build a host path outside the job's scratch space,
    as (path parts, reason): ``("actions", 0, "deploy", "images", "../x")``."""
    if type(job) is not dict:
        return []
    problems: list[Problem] = []
    context = job.get("context")
    if type(context) is dict and "lava_test_results_dir" in context:
        if problem := results_dir_problem(context["lava_test_results_dir"]):
            problems.append((("context", "lava_test_results_dir"), problem))
    actions = job.get("actions")
    for index, wrapper in enumerate(actions if type(actions) is list else []):
        if type(wrapper) is not dict:
            continue
        for kind, block in wrapper.items():
            if type(block) is not dict:
                continue
            if kind == "deploy":
                problems += _deploy_problems(block, ("actions", index, kind))
            elif kind == "test":
                problems += _test_problems(block, ("actions", index, kind))
    return problems
