#!/bin/sh
# install-pdudaemon.sh [DIR]: pdudaemon (PyPI) in its own virtual environment, once.
# DIR defaults to ${LAVA_PDUDAEMON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/pdudaemon}; prints DIR/bin/pdudaemon.
# A venv of its own because pdudaemon pulls in SNMP, Modbus and SSH stacks the lab itself never needs.
# Building its systemd-python dependency needs libsystemd-dev and pkg-config (share/ci/setup-host.sh).
set -e
DIR=${1:-${LAVA_PDUDAEMON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/pdudaemon}}
VERSION=${PDUDAEMON_VERSION:-1.1.1}
if [ -x "$DIR/bin/pdudaemon" ] && [ -f "$DIR/.installed-$VERSION" ]; then
  echo "$DIR/bin/pdudaemon"
  exit 0
fi
mkdir -p "$DIR"
exec 9>"$DIR.lock"
flock 9  # two labs starting at once share one install
if [ ! -f "$DIR/.installed-$VERSION" ]; then
  [ -x "$DIR/bin/python" ] || python3 -m venv "$DIR" >&2
  if ! "$DIR/bin/pip" install -q --disable-pip-version-check "pdudaemon==$VERSION" >"$DIR/pip.log" 2>&1; then
    cat "$DIR/pip.log" >&2
    echo "install-pdudaemon.sh: pip install pdudaemon==$VERSION failed (log: $DIR/pip.log);" \
      "it needs libsystemd-dev and pkg-config to build systemd-python" >&2
    exit 1
  fi
  touch "$DIR/.installed-$VERSION"
fi
echo "$DIR/bin/pdudaemon"
