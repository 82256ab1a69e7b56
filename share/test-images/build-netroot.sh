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
#                               an /init that mounts the root named on the kernel command line and
#                               switch_roots to it:
#                                 nfsroot=SERVER:PATH[,opts] [ip=dhcp]  NFSv4 (default vers=4.1;
#                                                                       port=N picks the server port)
#                                 root=/dev/vdX                         an ext4 virtio disk (NBD: QEMU's
#                                                                       -drive file=nbd://...)
#                               with neither, the ramdisk's own shell, as build.sh's image
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
SCRIPT_ID=$(cat "$HERE/build-netroot.sh" "$HERE/lib.sh" "$HERE/kernel_modules.py" | cksum | cut -d' ' -f1)
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

cat >"$M/init" <<'EOF'
#!/bin/sh
# netroot init: load the drivers, then mount the root the kernel command line names and switch to it
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
while read -r module; do insmod "/lib/modules/$module" 2>/dev/null; done </etc/modules.order
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
NFSROOT=$(arg nfsroot)
ROOT=$(arg root)
# exiting makes the kernel panic: a board without its root must not look booted
fail() { echo "netroot: failed: $*"; exit 1; }
if [ -n "$NFSROOT" ]; then
    ip link set lo up
    ip link set eth0 up || fail "no eth0"
    udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script >/dev/null || fail "no DHCP lease on eth0"
    SERVER=${NFSROOT%%:*}
    REST=${NFSROOT#*:}
    EXPORT=${REST%%,*}
    OPTIONS=
    case $REST in *,*) OPTIONS=${REST#*,} ;; esac
    case ,$OPTIONS, in
      *,vers=4*) ;;
      *,vers=*) fail "this image mounts NFSv4 only (nfsroot=...,vers=4.1)" ;;
      *) OPTIONS=${OPTIONS:+$OPTIONS,}vers=4.1 ;;
    esac
    echo "netroot: mounting $SERVER:$EXPORT ($OPTIONS)"
    mount -t nfs4 -o "$OPTIONS,addr=$SERVER" "$SERVER:$EXPORT" /newroot || fail "cannot mount $SERVER:$EXPORT"
elif [ -n "$ROOT" ] && [ "$ROOT" != /dev/ram0 ] && [ "$ROOT" != /dev/nfs ]; then
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b "$ROOT" ] && break; sleep 0.5; done
    echo "netroot: mounting $ROOT"
    mount -t ext4 "$ROOT" /newroot || fail "cannot mount $ROOT"
else
    umount /proc /sys /dev 2>/dev/null
    exec /ramdisk-init
fi
umount /proc /sys
umount /dev 2>/dev/null
exec switch_root /newroot /init
EOF
chmod 755 "$M/init"

# the base image's own /init stays reachable as /ramdisk-init
R="$WORK/rootfs"
mkdir -p "$R"
(cd "$R" && gzip -dc "$OUT/arm64/initramfs.cpio.gz" | cpio -id --quiet --no-absolute-filenames)
cp "$R/init" "$M/ramdisk-init"
(cd "$M" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$WORK/member.cpio.gz"
cat "$OUT/arm64/initramfs.cpio.gz" "$WORK/member.cpio.gz" >"$OUT/arm64/netroot.cpio.gz.tmp"
mv "$OUT/arm64/netroot.cpio.gz.tmp" "$OUT/arm64/netroot.cpio.gz"

# -- the root filesystem: the busybox board itself; its /init is what switch_root runs
echo "netroot rootfs" >"$R/etc/lava-rootfs"
tar -C "$R" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -cf - . | gzip -9n >"$OUT/arm64/rootfs.tar.gz.tmp"
mv "$OUT/arm64/rootfs.tar.gz.tmp" "$OUT/arm64/rootfs.tar.gz"
rm -f "$OUT/arm64/rootfs.ext4.tmp"
E2FSPROGS_FAKE_TIME=0 mke2fs -q -t ext4 -L lava-root -U clear -E root_owner=0:0 -d "$R" "$OUT/arm64/rootfs.ext4.tmp" 32M
mv "$OUT/arm64/rootfs.ext4.tmp" "$OUT/arm64/rootfs.ext4"

cat >"$OUT/STAMP-netroot" <<EOF
script=$SCRIPT_ID
kernel-arm64=$KERNEL_PKG
base=$BASE_ID
modules=$(tr '\n' ' ' <"$M/etc/modules.order")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$OUT/arm64"
echo "netroot test images ready in $OUT"
