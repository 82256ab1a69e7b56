"""Shared set-up for the server benchmarks: a throwaway PostgreSQL unless LAVA_DATABASE_URL is set."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def setup_django(keep_data: bool = False) -> None:
    """Django on the benchmark's database, migrated and emptied (``keep_data``: migrated, rows kept)."""
    sys.path.insert(0, str(REPO))
    work = Path(tempfile.mkdtemp(prefix="lava-bench-"))
    os.chmod(work, 0o755)
    os.environ.setdefault("LAVA_STATE_DIR", str(work / "state"))
    os.environ.setdefault("LAVA_CONFIG_DIR", str(work / "etc"))
    if "LAVA_DATABASE_URL" not in os.environ:
        pg = work / "pg"
        url = subprocess.run(
            ["sh", str(REPO / "share/ci/pg-temp.sh"), "start", str(pg), os.environ.get("LAVA_BENCH_PG_PORT", "55499")],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        os.environ["LAVA_DATABASE_URL"] = url

        def stop() -> None:
            subprocess.run(["sh", str(REPO / "share/ci/pg-temp.sh"), "stop", str(pg)], capture_output=True)
            shutil.rmtree(work, ignore_errors=True)

        atexit.register(stop)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if _migrated() and not keep_data:
        call_command("flush", "--no-input", verbosity=0)
    else:
        call_command("migrate", verbosity=0)


def _migrated() -> bool:
    from django.db import connection

    return "jobs_testjob" in connection.introspection.table_names()
