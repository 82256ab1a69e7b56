#!/bin/sh
# Network root filesystems for the NFS and NBD tests, from Debian packages (arm64).
#
# usage: share/test-images/build-netroot.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Needs build.sh's images first (it reads OUT/STAMP for the kernel package and OUT/arm64/*).
# Produces, beside them (never touching build.sh's files, so its STAMP stays valid):
#   OUT/arm64/netroot.cpio.gz   build.sh's busybox initramfs plus a second cpio member with the
#                               kernel modules Debian builds as modules (virtio, nfs, ext4...) and
#                               netroot-init.sh as /init: it mounts the root the kernel command line
#                               names (nfsroot=SERVER:PATH[,opts]: NFSv4; root=/dev/vdX: an ext4
#                               virtio disk, NBD through QEMU's -drive file=nbd://...) and
#                               switch_roots to it; with neither, the ramdisk's own shell
#   OUT/arm64/rootfs.tar.gz     the same busybox board as a root filesystem tarball (nfsrootfs)
#   OUT/arm64/rootfs.ext4       the same as a 32 MiB ext4 image (nbdroot)
#   OUT/STAMP-netroot           what was built from what; a second run returns at once
#
# The guest kernel has no ROOT_NFS/IP_PNP and its nfs/virtio/ext4 drivers are modules, hence the
# init (see ../shared/spec/virtual-peers.md, "Tricks").
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-netroot.sh" "$HERE/netroot-init.sh" "$HERE/lib.sh" "$HERE/kernel_modules.py" \
    | cksum | cut -d' ' -f1)
FILES="arm64/netroot.cpio.gz arm64/rootfs.tar.gz arm64/rootfs.ext4"
# load order matters only for symbols; modprobe --show-depends gives each module's prerequisites
# crc32c_generic: ext4 asks the crypto API for crc32c at mount time, not through a symbol
MODULES="virtio_pci virtio_net virtio_blk nfsv4 crc32c_generic ext4"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -s "$OUT/arm64/initramfs.cpio.gz" ] && [ -f "$OUT/STAMP" ] || {
    echo "build-netroot.sh: run build.sh first (no $OUT/arm64/initramfs.cpio.gz)" >&2; exit 2; }
KERNEL_PKG=$(sed -n 's/^kernel-arm64=//p' "$OUT/STAMP")
BASE_ID=$(cksum <"$OUT/arm64/initramfs.cpio.gz" | cut -d' ' -f1)

up_to_date() {
    for f in $FILES; do [ -s "$OUT/$f" ] || return 1; done
    [ -f "$OUT/STAMP-netroot" ] && grep -qx "script=$SCRIPT_ID" "$OUT/STAMP-netroot" \
        && grep -qx "kernel-arm64=$KERNEL_PKG" "$OUT/STAMP-netroot" && grep -qx "base=$BASE_ID" "$OUT/STAMP-netroot"
}

build_once "netroot test images" "$OUT/.lock-netroot"

for tool in apt-get dpkg-deb cpio gzip python3 mke2fs tar; do
    command -v $tool >/dev/null 2>&1 || { echo "build-netroot.sh: '$tool' is needed (Debian host)" >&2; exit 2; }
done

work_dir "$OUT/.work-netroot"
private_apt amd64 arm64
kernel_modules_of "$KERNEL_PKG"

# -- the second cpio member: modules in load order, and the init that finds the root
M="$WORK/member"
mkdir -p "$M/lib/modules" "$M/newroot" "$M/etc"
copy_modules "$M" $MODULES

udhcpc_script "$M/etc/udhcpc.script"
netroot_images "$OUT/arm64" "$M"

cat >"$OUT/STAMP-netroot" <<EOF
script=$SCRIPT_ID
kernel-arm64=$KERNEL_PKG
base=$BASE_ID
modules=$(tr '\n' ' ' <"$M/etc/modules.order")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$OUT/arm64"
echo "netroot test images ready in $OUT"
