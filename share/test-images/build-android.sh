#!/bin/sh
# Android images for the virtual fastboot phone, made from build.sh's kernels and ramdisks.
#
# usage: share/test-images/build-android.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces, for ARCH in x86_64 and arm64 (build.sh must have run):
#   OUT/ARCH/boot.img       mkbootimg (header v0) of the kernel and the login-less ramdisk
#   OUT/ARCH/system.simg    an 8 MiB ext4 image (one file, /build-id) in the sparse format (img2simg)
#   OUT/STAMP-android       what was built from what; a second run returns at once
# Needs mkbootimg, img2simg (android-sdk-libsparse-utils) and mke2fs; no network.
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$OUT" && pwd)
for tool in mkbootimg img2simg mke2fs; do
    command -v $tool >/dev/null 2>&1 || { echo "build-android.sh: '$tool' is needed" >&2; exit 2; }
done
INPUTS="x86_64/bzImage x86_64/initramfs.cpio.gz arm64/Image arm64/initramfs.cpio.gz"
for f in $INPUTS; do [ -s "$OUT/$f" ] || { echo "build-android.sh: $OUT/$f missing (run build.sh)" >&2; exit 1; }; done
ID=$( (cat "$HERE/build-android.sh"; for f in $INPUTS; do cksum <"$OUT/$f"; done) | cksum | cut -d' ' -f1)
[ -f "$OUT/STAMP-android" ] && grep -qx "id=$ID" "$OUT/STAMP-android" && { echo "android images up to date in $OUT"; exit 0; }

WORK=$(mktemp -d "$OUT/.work-android.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/root"
echo "$ID" >"$WORK/root/build-id"
for pair in x86_64:bzImage:ttyS0 arm64:Image:ttyAMA0; do
    ARCH=${pair%%:*}; rest=${pair#*:}; KERNEL=${rest%%:*}; CONSOLE=${rest#*:}
    # no "quiet": the dispatcher waits for the kernel's "Linux version" line
    mkbootimg --kernel "$OUT/$ARCH/$KERNEL" --ramdisk "$OUT/$ARCH/initramfs.cpio.gz" \
        --cmdline "console=$CONSOLE panic=-1" --header_version 0 -o "$WORK/boot.img"
    # fixed UUID and timestamps: the same inputs give the same bytes
    E2FSPROGS_FAKE_TIME=1 mke2fs -q -t ext4 -U 4c415641-0000-4000-8000-000000000001 -E hash_seed=4c415641-0000-4000-8000-000000000001 \
        -d "$WORK/root" "$WORK/system.img" 8M >/dev/null
    img2simg "$WORK/system.img" "$WORK/system.simg"
    mv "$WORK/boot.img" "$OUT/$ARCH/boot.img"
    mv "$WORK/system.simg" "$OUT/$ARCH/system.simg"
    rm -f "$WORK/system.img"
done
echo "id=$ID" >"$OUT/STAMP-android"
echo "android images built in $OUT"
