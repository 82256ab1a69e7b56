#!/bin/sh
# Build the images the dispatcher tests boot, from Debian's own packages.
#
# usage: share/test-images/build.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces (see README.md beside this script):
#   OUT/x86_64/bzImage                 Debian linux-image-amd64 kernel
#   OUT/x86_64/initramfs.cpio.gz       busybox root shell on ttyS0 (login=1 on the cmdline: login prompt)
#   OUT/x86_64/initramfs-login.cpio.gz busybox login prompt on ttyS0 (root / root)
#   OUT/arm64/Image                    Debian linux-image-arm64 kernel, uncompressed (U-Boot booti)
#   OUT/arm64/initramfs.cpio.gz        same as x86_64, console ttyAMA0
#   OUT/arm64/initramfs-login.cpio.gz
#   OUT/STAMP                          what was built from what; a second run with the same
#                                      script finds it and returns at once
#
# Only needs the Debian mirror (apt-get download), dpkg-deb, cpio and gzip; runs as root or not
# (apt state for arm64 goes to a private folder under OUT so the system's apt lists are left alone).
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT_ID=$(cat "$HERE/build.sh" "$HERE/mkinitramfs.sh" | cksum | cut -d' ' -f1)

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

all_present() {
    for f in x86_64/bzImage x86_64/initramfs.cpio.gz x86_64/initramfs-login.cpio.gz \
             arm64/Image arm64/initramfs.cpio.gz arm64/initramfs-login.cpio.gz; do
        [ -s "$OUT/$f" ] || return 1
    done
}

# Fast path: everything is there and was built by this very script.
if all_present && [ -f "$OUT/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$OUT/STAMP"; then
    echo "test images up to date in $OUT"
    exit 0
fi

# Two test runs building at once would trample each other's work folder: one builds, the
# other waits and then finds everything ready.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.lock"
    flock 9
    if all_present && [ -f "$OUT/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$OUT/STAMP"; then
        echo "test images up to date in $OUT"
        exit 0
    fi
fi

for tool in apt-get apt-cache dpkg-deb cpio gzip; do
    command -v $tool >/dev/null 2>&1 || { echo "build.sh: '$tool' is needed (Debian/Ubuntu host)" >&2; exit 2; }
done

WORK="$OUT/.work"
rm -rf "$WORK"
mkdir -p "$WORK/deb" "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
trap 'rm -rf "$WORK"' EXIT

# A private apt state that knows both architectures: never touches /var/lib/apt/lists, so a
# concurrent apt-get on the host keeps working.
APT="-o Dir::State::Lists=$WORK/apt/lists -o Dir::Cache=$WORK/apt/cache
     -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1
     -o APT::Sandbox::User=root -q"
echo "build.sh: reading the Debian package lists"
# shellcheck disable=SC2086
apt-get $APT update >"$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log" >&2; exit 1; }

# The ABI number in the kernel's package name changes with every security update: always go
# through the meta-package.
kernel_pkg() {
    # shellcheck disable=SC2086
    apt-cache $APT depends "linux-image-$1:$1" | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}
KX=$(kernel_pkg amd64)
KA=$(kernel_pkg arm64)
[ -n "$KX" ] && [ -n "$KA" ] || { echo "build.sh: cannot resolve linux-image-amd64/arm64" >&2; exit 1; }
case $KX in *:*) ;; *) KX="$KX:amd64" ;; esac
case $KA in *:*) ;; *) KA="$KA:arm64" ;; esac

echo "build.sh: downloading $KX $KA busybox-static (amd64, arm64)"
# shellcheck disable=SC2086
(cd "$WORK/deb" && apt-get $APT download "$KX" "$KA" busybox-static:amd64 busybox-static:arm64) \
    >"$WORK/download.log" 2>&1 || { cat "$WORK/download.log" >&2; exit 1; }

extract() {  # extract DEB PATTERN DEST : one file out of a .deb, without unpacking the rest
    mkdir -p "$WORK/x"
    dpkg-deb --fsys-tarfile "$1" | (cd "$WORK/x" && tar -x --wildcards "$2")
    # shellcheck disable=SC2086
    mv $WORK/x/$2 "$3"
    rm -rf "$WORK/x"
}

mkdir -p "$OUT/x86_64" "$OUT/arm64"
for arch in amd64 arm64; do
    extract "$(ls "$WORK"/deb/busybox-static_*_$arch.deb)" './bin/busybox' "$WORK/busybox-$arch"
done
chmod +x "$WORK/busybox-amd64" "$WORK/busybox-arm64"

echo "build.sh: extracting kernels"
extract "$(ls "$WORK"/deb/linux-image-*_amd64.deb)" './boot/vmlinuz-*' "$OUT/x86_64/bzImage.new"
# Debian's arm64 "vmlinuz" is already an uncompressed Image, which is what booti wants.
extract "$(ls "$WORK"/deb/linux-image-*_arm64.deb)" './boot/vmlinuz-*' "$OUT/arm64/Image.new"
mv "$OUT/x86_64/bzImage.new" "$OUT/x86_64/bzImage"
mv "$OUT/arm64/Image.new" "$OUT/arm64/Image"

echo "build.sh: building busybox initramfs images"
# The applet list comes from the amd64 binary (same Debian source version for both arches).
APPLETS=$("$WORK/busybox-amd64" --list-full)
export APPLETS
for arch in amd64:x86_64:ttyS0 arm64:arm64:ttyAMA0; do
    deb_arch=${arch%%:*}; rest=${arch#*:}; dir=${rest%%:*}; console=${rest#*:}
    BUSYBOX="$WORK/busybox-$deb_arch" CONSOLE=$console LOGIN=0 \
        sh "$HERE/mkinitramfs.sh" "$OUT/$dir/initramfs.cpio.gz"
    BUSYBOX="$WORK/busybox-$deb_arch" CONSOLE=$console LOGIN=1 \
        sh "$HERE/mkinitramfs.sh" "$OUT/$dir/initramfs-login.cpio.gz"
done

BB_VERSION=$(ls "$WORK"/deb/busybox-static_*_amd64.deb | sed 's/.*busybox-static_\(.*\)_amd64.deb/\1/')
cat >"$OUT/STAMP" <<EOF
script=$SCRIPT_ID
kernel-amd64=$KX
kernel-arm64=$KA
busybox-static=$BB_VERSION
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$OUT/x86_64" "$OUT/arm64"
echo "test images ready in $OUT"
