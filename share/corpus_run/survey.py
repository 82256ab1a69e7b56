"""The corpus's jobs in scope (MultiNode submissions split as the server splits them, with
share/corpus-coverage.py's reading), adapted and run, their outcomes in corpus order."""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from corpus_run import REPO
from corpus_run.boards import stop_boards
from corpus_run.multinode import Coordinator, run_group
from corpus_run.peers import DOCKERD, FILES, NFS
from corpus_run.running import Outcome, run_single
from corpus_run.testdefs import testdef_repository

_spec = importlib.util.spec_from_file_location("corpus_coverage", REPO / "share" / "corpus-coverage.py")
corpus_coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus_coverage)

# jobs that exist to fail: adapting their URLs and checksums would defeat them
MEANT_TO_FAIL = {"jobs/dispatcher/compression_bad.yaml": "a negative sample: its checksums and formats are wrong on purpose"}


def corpus_jobs(corpus: Path, only: list[str]) -> list[tuple[str, list[tuple[str, dict]]]]:
    verdicts = json.loads((corpus / "jobs" / "verdicts.json").read_text())
    found = []
    for name, verdict in sorted(verdicts.items()):
        if verdict["reference_verdict"] != "valid" or (only and not any(o in name for o in only)):
            continue
        # (label, definition): the host device type corpus-coverage.py adds is the host role's, which run_group finds
        found.append((name, [(label, job) for label, job, *_ in corpus_coverage.definitions(corpus / name)]))
    return found


def in_scope(subs: list[tuple[str, dict]]) -> bool:
    """A job of a device type with a peer here: qemu, x86, upsquare, grub-x86, docker (every role of a group that
    has a device)."""
    types = {str(job.get("device_type", "")) for _, job in subs}
    return bool(types - {""}) and types - {""} <= {"qemu", "x86", "upsquare", "grub-x86", "docker"}


def run_all(corpus: Path, only: list[str], keep: Path | None = None, every: bool = False, parallel: int = 1,
            report=lambda outcome: None, timeout_factor: float = 1) -> list[Outcome]:
    """Adapt and run every job in scope (``only``: substrings of the file names); outcomes in corpus order."""
    jobs = corpus_jobs(corpus, only)
    base = keep or Path(tempfile.mkdtemp(prefix="corpus-run-"))
    base.mkdir(parents=True, exist_ok=True)
    coordinator = None

    def one(index: int, name: str, subs: list[tuple[str, dict]]) -> list[Outcome]:
        if not in_scope(subs):
            return [Outcome(name, "left out", "real hardware needed")] if every else []
        if name in MEANT_TO_FAIL:
            return [Outcome(name, "left out", MEANT_TO_FAIL[name])]
        work = base / f"{index:03}-{Path(name).stem}"
        work.mkdir()
        try:
            if "lava-multinode" in (subs[0][1].get("protocols") or {}):
                found = run_group(Path(name).stem, subs, work, repo, coordinator.config, timeout_factor)
            else:
                found = [run_single(subs[0][0], subs[0][1], work, repo, timeout_factor)]
        finally:
            stop_boards(work)
        for outcome in found:
            outcome.label = name if outcome.label == Path(name).name else f"{name}[{outcome.label.split('[')[-1]}"
            report(outcome)
        return found

    try:
        repo = testdef_repository(corpus, [job for _, subs in jobs for _, job in subs], base)
        if any("lava-multinode" in (subs[0][1].get("protocols") or {}) for _, subs in jobs):
            coordinator = Coordinator(base / "coordinator")
        if any(job.get("device_type") == "docker" or "postprocess" in str(job) for _, subs in jobs for _, job in subs):
            DOCKERD.start()
        if any(in_scope(subs) and "nfsrootfs" in str(subs) for _, subs in jobs):
            NFS.start(base / "nfs")
        if any(in_scope(subs) and "__FQDN__/" in str(subs) for _, subs in jobs):
            FILES.start(base / "files")
        with ThreadPoolExecutor(parallel) as pool:
            done = list(pool.map(lambda item: one(item[0], *item[1]), enumerate(jobs)))
    finally:
        DOCKERD.stop()
        NFS.stop()
        FILES.stop()
        if coordinator is not None:
            coordinator.stop()
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return [outcome for found in done for outcome in found]
