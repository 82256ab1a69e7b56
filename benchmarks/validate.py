"""Job definition validation speed, in process and through ``lava-server manage jobs validate``.

Run: .venv/bin/python benchmarks/validate.py [--seconds N]
Prints figures only; compare with the reference's 114 jobs/s (design.md).
"""

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lava_common.schemas import JobSchemaError, validate_job, validate_job_text  # noqa: E402
from lava_common.yaml_loader import load_yaml  # noqa: E402

CORPUS_JOBS = REPO.parent / "shared" / "corpus" / "jobs"


def rate(work, items, seconds: float) -> tuple[float, int]:
    """Items per second over whole passes of ``items``, running for at least ``seconds``."""
    done = 0
    start = time.perf_counter()
    while True:
        for entry in items:
            try:
                work(entry)
            except JobSchemaError:
                pass  # the split multinode sub-jobs: refusing them is work too
        done += len(items)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed, done


def lava_server_wall_time(job: Path) -> str:
    command = shutil.which("lava-server", path=str(Path(sys.executable).parent))
    if command is None:
        return "skipped: no lava-server command in the venv"
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        try:
            result = subprocess.run([command, "manage", "jobs", "validate", str(job)], capture_output=True,
                                    text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"skipped: {exc}"
        runs.append(time.perf_counter() - start)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"skipped: exit code {result.returncode} ({tail[0][:120]})"
    return f"{min(runs):.3f} s (best of 3; {', '.join(f'{run:.3f}' for run in runs)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum time per figure")
    args = parser.parse_args()
    files = sorted(CORPUS_JOBS.glob("*/*.yaml"))
    if not files:
        print(f"no corpus jobs under {CORPUS_JOBS}: nothing to measure")
        return
    texts = [path.read_bytes() for path in files]
    parsed = [load_yaml(text) for text in texts]
    print(f"corpus: {len(files)} job definitions, {sum(map(len, texts)) // len(texts)} bytes on average")
    figure, count = rate(validate_job, parsed, args.seconds)
    print(f"validate only (non-strict):  {figure:8.0f} jobs/s  ({count} validations)")
    figure, count = rate(lambda data: validate_job(data, strict=True), parsed, args.seconds)
    print(f"validate only (strict):      {figure:8.0f} jobs/s  ({count} validations)")
    figure, count = rate(validate_job_text, texts, args.seconds)
    print(f"parse + validate:            {figure:8.0f} jobs/s  ({count} validations)")
    figure, count = rate(load_yaml, texts, args.seconds)
    print(f"parse only (load_yaml):      {figure:8.0f} jobs/s")
    sample = CORPUS_JOBS / "docs" / "qemu-pipeline-first-job.yaml"
    if not sample.exists():
        sample = files[0]
    print(f"lava-server manage jobs validate {sample.name}: {lava_server_wall_time(sample)}")


if __name__ == "__main__":
    main()
