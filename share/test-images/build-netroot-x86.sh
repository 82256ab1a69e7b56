#!/bin/sh
# Network root filesystems for the x86_64 boards (the iPXE and GRUB PCs, QEMU), from Debian packages.
#
# usage: share/test-images/build-netroot-x86.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Needs build.sh's images first (it reads OUT/STAMP for the kernel package and OUT/x86_64/*).
# Produces, beside them (never touching build.sh's files, so its STAMP stays valid):
#   OUT/x86_64/netroot.cpio.gz  build.sh's busybox initramfs plus a second cpio member with
#                               * the modules Debian builds as modules: e1000 (the iPXE/GRUB PCs'
#                                 card), virtio net/blk (QEMU boards), af_packet (udhcpc), nfsv4,
#                                 nbd, ext4
#                               * nbd-client (Debian's, netlink) with its shared libraries
#                               * netroot-init.sh as /init: it mounts the root the kernel command
#                                 line names (nfsroot=, nbd.server= + nbd.port=, root=/dev/vdX) and
#                                 switch_roots to it; with none, the ramdisk's own shell
#   OUT/x86_64/rootfs.tar.gz    the busybox board as a root filesystem tarball (nfsrootfs);
#                               /etc/lava-rootfs says "netroot rootfs"
#   OUT/x86_64/rootfs.ext4      the same as a 32 MiB ext4 image (nbdroot)
#   OUT/STAMP-netroot-x86       what was built from what; a second run returns at once
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-netroot-x86.sh" "$HERE/netroot-init.sh" "$HERE/lib.sh" "$HERE/kernel_modules.py" \
    | cksum | cut -d' ' -f1)
FILES="x86_64/netroot.cpio.gz x86_64/rootfs.tar.gz x86_64/rootfs.ext4"
# crc32c_generic: ext4 asks the crypto API for crc32c at mount time, not through a symbol
MODULES="e1000 virtio_pci virtio_net virtio_blk af_packet nfsv4 nbd crc32c_generic ext4"
# nbd-client and the libraries it loads (ldd's closure on bookworm, checked below by the loader)
NBD_PACKAGES="nbd-client libc6 libgnutls30 libnl-3-200 libnl-genl-3-200 libp11-kit0 libidn2-0 libunistring2
 libtasn1-6 libnettle8 libhogweed6 libgmp10 libffi8"
LIBDIR=lib/x86_64-linux-gnu

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -s "$OUT/x86_64/initramfs.cpio.gz" ] && [ -f "$OUT/STAMP" ] || {
    echo "build-netroot-x86.sh: run build.sh first (no $OUT/x86_64/initramfs.cpio.gz)" >&2; exit 2; }
KERNEL_PKG=$(sed -n 's/^kernel-amd64=//p' "$OUT/STAMP")
BASE_ID=$(cksum <"$OUT/x86_64/initramfs.cpio.gz" | cut -d' ' -f1)

up_to_date() {
    for f in $FILES; do [ -s "$OUT/$f" ] || return 1; done
    [ -f "$OUT/STAMP-netroot-x86" ] && grep -qx "script=$SCRIPT_ID" "$OUT/STAMP-netroot-x86" \
        && grep -qx "kernel-amd64=$KERNEL_PKG" "$OUT/STAMP-netroot-x86" \
        && grep -qx "base=$BASE_ID" "$OUT/STAMP-netroot-x86"
}

build_once "x86_64 netroot test images" "$OUT/.lock-netroot-x86"

for tool in apt-get dpkg-deb cpio gzip python3 mke2fs tar; do
    command -v $tool >/dev/null 2>&1 || { echo "build-netroot-x86.sh: '$tool' is needed (Debian host)" >&2; exit 2; }
done
[ "$(uname -m)" = x86_64 ] || { echo "build-netroot-x86.sh: the host must run x86_64 programs (nbd-client's loader)" >&2; exit 2; }

work_dir "$OUT/.work-netroot-x86"
private_apt amd64
kernel_modules_of "$KERNEL_PKG"

# -- the second cpio member: modules in load order, nbd-client, and the init that finds the root
M="$WORK/member"
mkdir -p "$M/newroot" "$M/sbin" "$M/$LIBDIR" "$M/lib64"
copy_modules "$M" $MODULES
for module in e1000 nfsv4 nbd ext4; do
    grep -q "^$module\.ko" "$M/etc/modules.order" || { echo "build-netroot-x86.sh: no $module module in $KERNEL_PKG" >&2; exit 1; }
done

# shellcheck disable=SC2086
apt_fetch $NBD_PACKAGES
S="$WORK/sysroot"
mkdir -p "$S"
for deb in "$WORK"/deb/*.deb; do
    case $deb in */linux-image-*) ;; *) dpkg-deb -x "$deb" "$S" ;; esac
done
cp "$S/sbin/nbd-client" "$M/sbin/nbd-client"
# the guest's own loader lists what nbd-client loads, from the downloaded libraries only
LOADER="$S/$LIBDIR/ld-linux-x86-64.so.2"
"$LOADER" --library-path "$S/$LIBDIR:$S/usr/$LIBDIR" --list "$S/sbin/nbd-client" >"$WORK/needed"
if grep -q "not found" "$WORK/needed"; then
    cat "$WORK/needed" >&2; echo "build-netroot-x86.sh: a library of nbd-client is missing from NBD_PACKAGES" >&2; exit 1
fi
sed -n 's/.* => \([^ ]*\) .*/\1/p' "$WORK/needed" | while read -r lib; do cp -L "$lib" "$M/$LIBDIR/"; done
cp -L "$LOADER" "$M/$LIBDIR/ld-linux-x86-64.so.2"
ln -sf "/$LIBDIR/ld-linux-x86-64.so.2" "$M/lib64/ld-linux-x86-64.so.2"

udhcpc_script "$M/etc/udhcpc.script"
netroot_images "$OUT/x86_64" "$M"

cat >"$OUT/STAMP-netroot-x86" <<STAMP
script=$SCRIPT_ID
kernel-amd64=$KERNEL_PKG
base=$BASE_ID
nbd-client=$(basename "$WORK"/deb/nbd-client_*.deb)
modules=$(tr '\n' ' ' <"$M/etc/modules.order")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STAMP
ls -l "$OUT/x86_64/netroot.cpio.gz" "$OUT/x86_64/rootfs.tar.gz" "$OUT/x86_64/rootfs.ext4"
echo "x86_64 netroot test images ready in $OUT"
