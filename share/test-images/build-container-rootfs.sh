#!/bin/sh
# The root filesystem of the docker test image: the host's static busybox with every applet linked,
# a root user, the folders the test shell expects, and a `bash` (busybox's ash) and `printenv` for
# the reference's sample jobs. `docker import` turns it into an image in a
# second, on any daemon (no registry is reachable from the lab).
#
# usage: share/test-images/build-container-rootfs.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces OUT/containers/busybox-rootfs.tar and OUT/containers/STAMP (the script and busybox it was
# built from); a second run returns at once. Needs busybox-static (/bin/busybox must be static).
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}/containers
HERE=$(cd "$(dirname "$0")" && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { echo "build-container-rootfs.sh: $BUSYBOX is missing (install busybox-static)" >&2; exit 2; }
ID="script=$(cksum < "$HERE/build-container-rootfs.sh" | cut -d' ' -f1) busybox=$(cksum < "$BUSYBOX" | cut -d' ' -f1)"
TARBALL="$OUT/busybox-rootfs.tar"

mkdir -p "$OUT"
if [ -s "$TARBALL" ] && [ -f "$OUT/STAMP" ] && grep -qx "$ID" "$OUT/STAMP"; then
    echo "container rootfs up to date in $OUT"
    exit 0
fi
if file -L "$BUSYBOX" 2>/dev/null | grep -q 'dynamically linked'; then
    echo "build-container-rootfs.sh: $BUSYBOX is not static (install busybox-static)" >&2
    exit 2
fi

WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/root"
mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/usr/bin" "$ROOT/usr/sbin" "$ROOT/etc" "$ROOT/root" "$ROOT/tmp" \
         "$ROOT/var/tmp" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev"
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
    [ "$applet" = bin/busybox ] || [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
# the reference's sample jobs start `bash`: busybox has no such applet, its ash stands in
printf '#!/bin/sh\nexec /bin/sh "$@"\n' > "$ROOT/bin/bash"
chmod 755 "$ROOT/bin/bash"
# nor printenv, which the reference's sample jobs call
if [ ! -e "$ROOT/usr/bin/printenv" ] && [ ! -e "$ROOT/bin/printenv" ]; then
    cat > "$ROOT/usr/bin/printenv" <<'SCRIPT'
#!/bin/sh
[ $# -eq 0 ] && exec env
for name; do eval "value=\${$name}"; printf '%s\n' "$value"; done
SCRIPT
    chmod 755 "$ROOT/usr/bin/printenv"
fi
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\n' > "$ROOT/etc/group"
printf 'NAME="LAVA busybox"\nID=busybox\n' > "$ROOT/etc/os-release"
# fixed owner and times: the same busybox gives the same tarball
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$ROOT" -cf "$WORK/rootfs.tar" .
mv "$WORK/rootfs.tar" "$TARBALL"
echo "$ID" > "$OUT/STAMP"
echo "container rootfs built: $TARBALL"
