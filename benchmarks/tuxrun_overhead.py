"""tuxrun's overhead over the same QEMU boot done by hand (target: at most 0.5 s).

Four runs, in turn, RUNS times: ``tuxrun --runtime null`` boot-only and ``tuxrun ... -- uname -a``
(our lava-run from the venv), and the same QEMU command line run by hand: started, read until
the shell prompt (and ``uname -a``'s output), then stopped; each timed from start to exit. The QEMU
command line is the one tuxrun's job produced (``Boot command:`` in lava-run's log), with the
kernel and the decompressed ramdisk as the job's deploy made them.

A QEMU boot under TCG on a shared host varies by seconds from one run to the next, so besides the
difference of the medians it prints the overhead measured apart from the boot: each run's time
outside the QEMU boot (tuxrun: the whole run less the boot seen in lava-run's log, from the boot
command to the prompt; by hand: the whole run less start to prompt), medians compared. And where
tuxrun's run goes (a shell wrapper on PATH notes when lava-run starts and ends): tuxrun's start
(its own start-up and job, up to lava-run's start), lava-run's start (to its first log record:
parsing, validation), before QEMU starts (the deploy), from the prompt to ``uname``'s output (the
test shell's start; by hand, typing the command), after the prompt or that output (the shell
check, finalize, power-off), lava-run's exit, and tuxrun's results after it;
the sum of lava-run's parts is ours, tuxrun's start and results are tuxrun's own. Last, tuxrun's
own floor: the same tuxrun with a ``lava-run`` that exits at once (its start, and what follows
lava-run's exit: its results and its interpreter's teardown).

usage: .venv/bin/python benchmarks/tuxrun_overhead.py [--device qemu-x86_64|qemu-arm64] [--runs N]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from testimages import images  # noqa: E402 - the test images' finder lives with the tests

TARGET = 0.5
T = TypeVar("T")
VENV_BIN = REPO / ".venv" / "bin"
ARCH = {"qemu-x86_64": "x86_64", "qemu-arm64": "arm64"}
# tuxrun's job: prompts and the auto-login prompt of its qemu boot block
PROMPT = re.compile(rb"root@(.*):[/~]#|[/~] #")
LOGIN = re.compile(rb"login:")
UNAME = re.compile(rb"Linux \S+ .*GNU/Linux")
CURSOR_QUERY = b"\x1b[6n"
# a host so loaded that QEMU's timer check fails panics the kernel ("IO-APIC + timer doesn't work"):
# such a boot is tried again, up to ATTEMPTS times
PANIC = b"Kernel panic"
ATTEMPTS = 3
TIMEOUT = 900  # tuxrun's own boot timeout is 15 minutes


class BootFailed(Exception):
    pass


def attempts(run: Callable[[], T]) -> T:
    for attempt in range(ATTEMPTS):
        try:
            return run()
        except BootFailed as exc:
            print(f"attempt {attempt + 1}: {str(exc)[:300]}", file=sys.stderr)
    raise SystemExit(f"no boot in {ATTEMPTS} attempts")



def tuxrun_run(work: Path, device: str, kernel: Path, rootfs: Path, command: list[str]) -> dict:
    """One tuxrun run in a fresh folder: its wall time and lava-run's log records."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    # tuxrun finds lava-run on PATH: a shell wrapper (about 2 ms) notes when lava-run starts and ends,
    # which splits tuxrun's part of the run from ours
    wrapper = work / "bin" / "lava-run"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\ndate +%s.%N > {work}/lava-run.exec\n{VENV_BIN}/lava-run "$@"\nrc=$?\n'
                       f'date +%s.%N > {work}/lava-run.exit\nexit $rc\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{wrapper.parent}:{VENV_BIN}:{os.environ['PATH']}",
           "XDG_CACHE_HOME": str(work / "cache"), "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed lava-run has its byte code compiled
    cmd = [str(VENV_BIN / "tuxrun"), "--runtime", "null", "--device", device, "--kernel", str(kernel),
           "--rootfs", str(rootfs), "--results", str(work / "results.json")]
    if command:
        cmd += ["--", *command]
    started = time.time()
    proc = subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=TIMEOUT)
    ended = time.time()
    if proc.returncode != 0:
        raise BootFailed(f"tuxrun failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    records = yaml.load((work / "output" / "logs.yaml").read_text(), Loader=yaml.CSafeLoader)
    return {"start": started, "end": ended, "wall": ended - started, "records": records,
            "lava-run exec": float((work / "lava-run.exec").read_text()),
            "lava-run exit": float((work / "lava-run.exit").read_text())}


def _at(record: dict) -> float:
    return datetime.fromisoformat(record["dt"]).timestamp()


def tuxrun_timeline(run: dict, uname: bool) -> dict[str, float]:
    records = run["records"]
    boot = next(r for r in records if isinstance(r["msg"], str) and r["msg"].startswith("Boot command: "))
    after_boot = records[records.index(boot):]
    prompt = next(r for r in after_boot if r["lvl"] == "target" and PROMPT.search(r["msg"].encode()))
    if uname:
        done = next(r for r in after_boot if r["lvl"] == "target" and UNAME.search(r["msg"].encode()))
    else:
        done = prompt
    return {
        "wall": run["wall"],
        "boot": _at(prompt) - _at(boot),  # QEMU's boot as lava-run saw it
        "tuxrun start": run["lava-run exec"] - run["start"],  # tuxrun's own: its start-up and job
        "lava-run start": _at(records[0]) - run["lava-run exec"],  # to its first record: parse, validate
        "before QEMU": _at(boot) - _at(records[0]),  # deploy: copies and checksums of the images
        "prompt to output": _at(done) - _at(prompt),  # uname: the test shell's start and its command
        "after": _at(records[-1]) - _at(done),  # shell check (test shell for uname), finalize, power-off
        "lava-run exit": run["lava-run exit"] - _at(records[-1]),
        "tuxrun results": run["end"] - run["lava-run exit"],  # tuxrun's own
    }


def qemu_argv(run: dict, kernel: Path, ramdisk: Path) -> list[str]:
    """The job's QEMU command line, on this benchmark's copies of the images."""
    line = next(r["msg"] for r in run["records"] if isinstance(r["msg"], str) and r["msg"].startswith("Boot command: "))
    argv = shlex.split(line.removeprefix("Boot command: "))
    argv[argv.index("-kernel") + 1] = str(kernel)
    argv[argv.index("-initrd") + 1] = str(ramdisk)
    return argv


def by_hand(argv: list[str], uname: bool) -> dict[str, float]:
    """QEMU started, read to the prompt (and uname's output), stopped: timed to its exit."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    seen = b""

    def wait_for(pattern: re.Pattern[bytes], login: bool = False) -> None:
        nonlocal seen
        while not pattern.search(seen):
            if time.monotonic() - started > TIMEOUT:
                raise SystemExit(f"by hand: no {pattern.pattern!r} in {TIMEOUT} s: {seen[-500:]!r}")
            if not select.select([proc.stdout], [], [], 1.0)[0]:
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise SystemExit(f"by hand: QEMU ended before {pattern.pattern!r}: {seen[-500:]!r}")
            seen += chunk
            if PANIC in seen:
                raise BootFailed("by hand: the kernel panicked")
            if CURSOR_QUERY in chunk:
                # busybox's shell asks the terminal where its cursor is, and would take what is typed
                # next for the answer: answer as a terminal does
                type_in(b"\x1b[1;1R")
            if login and LOGIN.search(seen):
                seen = b""
                type_in(b"root\n")

    def type_in(text: bytes) -> None:
        proc.stdin.write(text)
        proc.stdin.flush()

    try:
        wait_for(PROMPT, login=True)
        prompt = time.monotonic()
        if uname:
            seen = b""
            type_in(b"uname -a\n")
            wait_for(UNAME)
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        ended = time.monotonic()
    finally:
        if proc.poll() is None:  # never leave a QEMU behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return {"wall": ended - started, "boot": prompt - started}


def tuxrun_own_floor(work: Path, device: str, kernel: Path, rootfs: Path, runs: int = 5) -> tuple[float, float]:
    """tuxrun's own time, with a ``lava-run`` that exits at once: medians of its start (its imports and
    job, to lava-run's start) and of what follows lava-run's exit (its results, its interpreter's
    teardown). tuxrun then exits 2 (no results): what it does until then is the same."""
    starts, ends = [], []
    for _ in range(runs):
        if work.exists():
            shutil.rmtree(work)
        stub = work / "bin" / "lava-run"
        stub.parent.mkdir(parents=True)
        stub.write_text(f"#!/bin/sh\ndate +%s.%N > {work}/lava-run.exec\n")
        stub.chmod(0o755)
        env = {**os.environ, "PATH": f"{stub.parent}:{VENV_BIN}:{os.environ['PATH']}", "XDG_CACHE_HOME": str(work / "cache")}
        started = time.time()
        subprocess.run([str(VENV_BIN / "tuxrun"), "--runtime", "null", "--device", device, "--kernel", str(kernel),
                        "--rootfs", str(rootfs), "--results", str(work / "results.json"), "--", "uname", "-a"],
                       cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        ended = time.time()
        executed = float((work / "lava-run.exec").read_text())
        starts.append(executed - started)
        ends.append(ended - executed)
    return median(starts), median(ends)


def median(values: list[float]) -> float:
    return statistics.median(values)


def startup(cmd: list[str], runs: int = 5) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - started)
    return median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="qemu-x86_64", choices=sorted(ARCH))
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    if not (VENV_BIN / "tuxrun").exists():
        print("tuxrun is not installed in the venv")
        return 1
    board = images().arch(ARCH[options.device])
    work = Path(tempfile.mkdtemp(prefix="lava-tuxrun-bench-"))
    try:
        ramdisk = work / "initramfs.cpio"  # the job's deploy decompresses the rootfs
        with gzip.open(board.initramfs) as compressed, ramdisk.open("wb") as plain:
            shutil.copyfileobj(compressed, plain)
        kinds = {"boot-only": [], "-- uname -a": ["uname", "-a"]}
        tux: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
        hand: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
        argv: list[str] = []
        for _ in range(options.runs):
            for kind, command in kinds.items():
                run = attempts(lambda c=command: tuxrun_run(work / "tuxrun", options.device, board.kernel,
                                                            board.initramfs, c))
                argv = argv or qemu_argv(run, board.kernel, ramdisk)
                tux[kind].append(tuxrun_timeline(run, uname=bool(command)))
                hand[kind].append(attempts(lambda a=argv, c=command: by_hand(a, uname=bool(c))))
        print(f"tuxrun --device {options.device} against its QEMU by hand, medians of {options.runs} "
              f"(QEMU: {shlex.join(argv)})")
        worst = 0.0
        for kind in kinds:
            t, h = tux[kind], hand[kind]
            difference = median([r["wall"] for r in t]) - median([r["wall"] for r in h])
            apart = median([r["wall"] - r["boot"] for r in t]) - median([r["wall"] - r["boot"] for r in h])
            worst = max(worst, apart)
            print(f"{kind:12} tuxrun {median([r['wall'] for r in t]):6.2f} s, by hand {median([r['wall'] for r in h]):6.2f} s "
                  f"(QEMU boot {median([r['boot'] for r in t]):.2f} / {median([r['boot'] for r in h]):.2f} s): "
                  f"difference of medians {difference:+.2f} s; overhead apart from the boot {apart:.2f} s "
                  f"(target <= {TARGET} s)")
            parts = ", ".join(f"{name} {median([r[name] for r in t]):.2f} s"
                              for name in ("tuxrun start", "lava-run start", "before QEMU", "prompt to output",
                                           "after", "lava-run exit", "tuxrun results"))
            print(f"{'':12} where tuxrun's run goes: {parts}")
            ours = median([r["lava-run start"] + r["before QEMU"] + r["prompt to output"] + r["after"]
                           + r["lava-run exit"] for r in t])
            theirs = median([r["tuxrun start"] + r["tuxrun results"] for r in t])
            print(f"{'':12} lava-run's part {ours:.2f} s, tuxrun's own {theirs:.2f} s")
        tuxrun_alone = startup([str(VENV_BIN / "tuxrun"), "--version"])
        lava_run_alone = startup([str(VENV_BIN / "lava-run"), "--help"])
        print(f"start-up alone: tuxrun --version {tuxrun_alone:.2f} s (not ours), lava-run --help {lava_run_alone:.2f} s")
        own_start, own_end = tuxrun_own_floor(work / "alone", options.device, board.kernel, board.initramfs)
        print(f"tuxrun with a lava-run that does nothing: {own_start:.2f} s to lava-run's start, "
              f"{own_end:.2f} s after its exit (tuxrun's own floor: {own_start + own_end:.2f} s)")
        return 0 if worst <= TARGET else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
