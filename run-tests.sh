#!/bin/sh
# Runs the whole test suite on a throwaway PostgreSQL: ./run-tests.sh [pytest arguments]
set -e
cd "$(dirname "$0")"
sh share/ci/setup-host.sh
sh share/ci/venv.sh
work=$(mktemp -d /tmp/lava-tests.XXXXXX)
chmod 755 "$work"  # the PostgreSQL server runs as user postgres when we are root
pgdir="$work/pg"
port=${LAVA_TEST_PG_PORT:-55432}
cleanup() { sh share/ci/pg-temp.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
LAVA_DATABASE_URL=$(sh share/ci/pg-temp.sh start "$pgdir" "$port")
export LAVA_DATABASE_URL
export LAVA_STATE_DIR="$work/state" LAVA_CONFIG_DIR="$work/etc"
.venv/bin/ruff check .
.venv/bin/python -m pytest -q -ra "$@"
