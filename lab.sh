#!/bin/sh
# Sets up and starts a whole trial lab on this machine: ./lab.sh
# State (database, configuration, logs) is kept in ./.state; Ctrl-C stops everything.
set -e
cd "$(dirname "$0")"
sh share/ci/setup-host.sh
sh share/ci/venv.sh
# the lab's database, logs, keys and dictionaries are for this user (and group) only
umask 027
export LAVA_STATE_DIR="${LAVA_STATE_DIR:-$PWD/.state}"
export LAVA_CONFIG_DIR="${LAVA_CONFIG_DIR:-$LAVA_STATE_DIR/etc}"
exec .venv/bin/python share/lab/run.py "$@"
