#!/bin/sh
# Creates (or refreshes) the project's virtual environment in .venv with the test tools.
set -e
cd "$(dirname "$0")/../.."
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  if ! .venv/bin/pip install -q --disable-pip-version-check -e '.[test]' >.venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
