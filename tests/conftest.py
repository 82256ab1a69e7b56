"""Shared test setup.

The server tests need ``LAVA_DATABASE_URL`` (``./run-tests.sh`` starts a
throwaway PostgreSQL and sets it); without it they run on SQLite in a
temporary state directory.
"""

import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"

# before Django reads its settings: never write into /var/lib or /etc from a test run
if "LAVA_STATE_DIR" not in os.environ:
    os.environ["LAVA_STATE_DIR"] = tempfile.mkdtemp(prefix="lava-test-state-")
os.environ.setdefault("LAVA_CONFIG_DIR", os.path.join(os.environ["LAVA_STATE_DIR"], "etc"))
