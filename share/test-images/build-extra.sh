#!/bin/sh
# Optional 32-bit test images for tuxrun's qemu-i386 and qemu-armv7 devices, from Debian packages.
#
# usage: share/test-images/build-extra.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces, beside build.sh's images (which it never touches, so its STAMP stays valid):
#   OUT/i386/bzImage              Debian linux-image-686 kernel
#   OUT/i386/initramfs.cpio.gz    busybox root shell on ttyS0 (same board as build.sh's)
#   OUT/armv7/zImage              Debian linux-image-armmp kernel (boots on QEMU's virt machine)
#   OUT/armv7/initramfs.cpio.gz   same, console ttyAMA0
#   OUT/STAMP-extra               what was built from what; a second run returns at once
#
# Kept apart from build.sh because only a few tests need these and a Debian release may drop
# 32-bit kernels: a failure here only makes those tests skip.
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT_ID=$(cat "$HERE/build-extra.sh" "$HERE/mkinitramfs.sh" | cksum | cut -d' ' -f1)
FILES="i386/bzImage i386/initramfs.cpio.gz armv7/zImage armv7/initramfs.cpio.gz"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

up_to_date() {
    for f in $FILES; do [ -s "$OUT/$f" ] || return 1; done
    [ -f "$OUT/STAMP-extra" ] && grep -qx "script=$SCRIPT_ID" "$OUT/STAMP-extra"
}

up_to_date && { echo "extra test images up to date in $OUT"; exit 0; }
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.lock-extra"
    flock 9
    up_to_date && { echo "extra test images up to date in $OUT"; exit 0; }
fi

for tool in apt-get apt-cache dpkg-deb cpio gzip; do
    command -v $tool >/dev/null 2>&1 || { echo "build-extra.sh: '$tool' is needed (Debian/Ubuntu host)" >&2; exit 2; }
done

WORK="$OUT/.work-extra"
rm -rf "$WORK"
mkdir -p "$WORK/deb" "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
trap 'rm -rf "$WORK"' EXIT

# A private apt state (the host's lists stay untouched) that knows the three architectures.
APT="-o Dir::State::Lists=$WORK/apt/lists -o Dir::Cache=$WORK/apt/cache
     -o APT::Architectures::=amd64 -o APT::Architectures::=i386 -o APT::Architectures::=armhf
     -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q"
echo "build-extra.sh: reading the Debian package lists"
# A mirror still syncing one suite (seen: security lists of i386/armhf) is no reason to stop:
# the main suite's kernel is as good for a test; kernel_pkg fails when none can be found.
# shellcheck disable=SC2086
apt-get $APT update >"$WORK/apt-update.log" 2>&1 || grep '^E:' "$WORK/apt-update.log" >&2 || true

kernel_pkg() {  # kernel_pkg FLAVOUR ARCH: the versioned package behind the meta-package
    # shellcheck disable=SC2086
    pkg=$(apt-cache $APT depends "linux-image-$1:$2" | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    [ -n "$pkg" ] || { echo "build-extra.sh: Debian has no linux-image-$1 for $2 here" >&2; exit 1; }
    case $pkg in *:*) echo "$pkg" ;; *) echo "$pkg:$2" ;; esac
}
K386=$(kernel_pkg 686 i386)
KARM=$(kernel_pkg armmp armhf)

echo "build-extra.sh: downloading $K386 $KARM busybox-static (amd64, i386, armhf)"
# shellcheck disable=SC2086
(cd "$WORK/deb" && apt-get $APT download "$K386" "$KARM" busybox-static:amd64 busybox-static:i386 busybox-static:armhf) \
    >"$WORK/download.log" 2>&1 || { cat "$WORK/download.log" >&2; exit 1; }

extract() {  # extract DEB PATTERN DEST : one file out of a .deb
    mkdir -p "$WORK/x"
    dpkg-deb --fsys-tarfile "$1" | (cd "$WORK/x" && tar -x --wildcards "$2")
    # shellcheck disable=SC2086
    mv $WORK/x/$2 "$3"
    rm -rf "$WORK/x"
}

for arch in amd64 i386 armhf; do
    extract "$(ls "$WORK"/deb/busybox-static_*_$arch.deb)" './bin/busybox' "$WORK/busybox-$arch"
    chmod +x "$WORK/busybox-$arch"
done
mkdir -p "$OUT/i386" "$OUT/armv7"
extract "$(ls "$WORK"/deb/linux-image-*_i386.deb)" './boot/vmlinuz-*' "$OUT/i386/bzImage"
extract "$(ls "$WORK"/deb/linux-image-*_armhf.deb)" './boot/vmlinuz-*' "$OUT/armv7/zImage"

# The applet list comes from the amd64 binary: the host may not run the others.
APPLETS=$("$WORK/busybox-amd64" --list-full)
export APPLETS
BUSYBOX="$WORK/busybox-i386" CONSOLE=ttyS0 LOGIN=0 sh "$HERE/mkinitramfs.sh" "$OUT/i386/initramfs.cpio.gz"
BUSYBOX="$WORK/busybox-armhf" CONSOLE=ttyAMA0 LOGIN=0 sh "$HERE/mkinitramfs.sh" "$OUT/armv7/initramfs.cpio.gz"

cat >"$OUT/STAMP-extra" <<EOF
script=$SCRIPT_ID
kernel-i386=$K386
kernel-armhf=$KARM
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$OUT/i386" "$OUT/armv7"
echo "extra test images ready in $OUT"
