#!/bin/sh
# The root filesystem of the fastboot container image (a job's `deploy: to: fastboot` with `docker:`):
# the host's Debian fastboot with the shared libraries ldd lists (its private ones under
# /usr/lib/x86_64-linux-gnu/android/ among them) and the dynamic loader, plus the host's static
# busybox for `sh`. `docker import` turns it into an image; nothing comes from the network.
#
# usage: share/test-images/build-fastboot-container.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces OUT/containers/fastboot-rootfs.tar and OUT/containers/FASTBOOT-STAMP (the script, fastboot,
# its libraries and busybox it was built from); a second run returns at once. Needs the fastboot
# package and busybox-static.
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}/containers
HERE=$(cd "$(dirname "$0")" && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}
FASTBOOT=$(command -v fastboot || true)
[ -n "$FASTBOOT" ] || { echo "build-fastboot-container.sh: fastboot is missing (install fastboot)" >&2; exit 2; }
FASTBOOT=$(readlink -f "$FASTBOOT")
[ -x "$BUSYBOX" ] || { echo "build-fastboot-container.sh: $BUSYBOX is missing (install busybox-static)" >&2; exit 2; }
if file -L "$BUSYBOX" 2>/dev/null | grep -q 'dynamically linked'; then
    echo "build-fastboot-container.sh: $BUSYBOX is not static (install busybox-static)" >&2
    exit 2
fi
# every library ldd resolves ("name => /path (addr)") and the loader ("/lib64/ld-... (addr)")
LIBS=$(ldd "$FASTBOOT" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$LIBS" ] || { echo "build-fastboot-container.sh: ldd lists no library for $FASTBOOT" >&2; exit 2; }
# shellcheck disable=SC2086 # one path a word
ID="script=$(cksum < "$HERE/build-fastboot-container.sh" | cut -d' ' -f1) busybox=$(cksum < "$BUSYBOX" | cut -d' ' -f1) fastboot=$(cat "$FASTBOOT" $LIBS | cksum | cut -d' ' -f1)"
TARBALL="$OUT/fastboot-rootfs.tar"
STAMP="$OUT/FASTBOOT-STAMP"

mkdir -p "$OUT"
if [ -s "$TARBALL" ] && [ -f "$STAMP" ] && grep -qx "$ID" "$STAMP"; then
    echo "fastboot container rootfs up to date in $OUT"
    exit 0
fi

WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/root"
mkdir -p "$ROOT/bin" "$ROOT/usr/bin" "$ROOT/etc" "$ROOT/root" "$ROOT/tmp" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev"
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in sh ls cat env; do ln -s busybox "$ROOT/bin/$applet"; done
cp "$FASTBOOT" "$ROOT/usr/bin/fastboot"
for lib in $LIBS; do
    # the library at the path the loader looks for (ldd gives the resolved one), its symlinks followed
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\n' > "$ROOT/etc/group"
# fixed owner and times: the same files give the same tarball
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$ROOT" -cf "$WORK/rootfs.tar" .
mv "$WORK/rootfs.tar" "$TARBALL"
echo "$ID" > "$STAMP"
echo "fastboot container rootfs built: $TARBALL"
