#!/bin/sh
# Build the private Python environment /usr/lib/lava/venv under DESTDIR:
# the pinned third-party wheels of python-requirements.txt plus this source tree.
# Paths are rewritten afterwards so that nothing refers to the build directory.
set -eu

DESTDIR=$(realpath -m "$1")
VENV=/usr/lib/lava/venv
TARGET="$DESTDIR$VENV"
# Debian's interpreter, never a pyenv shim: the venv's python symlinks point at it
PYTHON=/usr/bin/python3
PIP_FLAGS="--no-compile --disable-pip-version-check --no-input"

rm -rf "$TARGET"
"$PYTHON" -m venv "$TARGET"
# wheels only: a build that compiled C extensions would depend on this machine's headers
"$TARGET/bin/python" -m pip install $PIP_FLAGS --only-binary=:all: --no-deps \
    -r debian/python-requirements.txt
# our own code, without deps (python-requirements.txt is the whole, pinned list),
# from a copy: an in-tree build would leave build/ and *.egg-info in the checkout
SOURCE="$DESTDIR/../lava-source"
rm -rf "$SOURCE" && mkdir -p "$SOURCE"
cp -r pyproject.toml README.rst lava_common lava_dispatcher lava_scheduler lava_server "$SOURCE/"
find "$SOURCE" -name __pycache__ -prune -exec rm -rf {} +
"$TARGET/bin/python" -m pip install $PIP_FLAGS --no-deps "$SOURCE"
rm -rf "$SOURCE"
"$TARGET/bin/python" -m pip check
"$TARGET/bin/python" -m pip uninstall --yes --disable-pip-version-check pip setuptools >/dev/null

# the build path must not leak into shebangs, activate scripts or pyvenv.cfg
grep -rlI -- "$DESTDIR" "$TARGET" | while read -r file; do
    sed -i "s|$DESTDIR$VENV|$VENV|g; s|$DESTDIR||g" "$file"
done
find "$TARGET" -name direct_url.json -delete
find "$TARGET" -name __pycache__ -prune -exec rm -rf {} +
rm -f "$TARGET/bin/Activate.ps1"
if grep -rlI -- "$DESTDIR" "$TARGET"; then
    echo "build-venv.sh: the build path is still named in the files above" >&2
    exit 1
fi
