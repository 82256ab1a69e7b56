#!/bin/sh
# Secondary-media test images: a master OS that writes USB/SATA disks, and a disk image to write (arm64).
#
# usage: share/test-images/build-media.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Needs build.sh's images first (it reads OUT/STAMP for the kernel package and OUT/arm64/*).
# Produces, beside them (never touching the other scripts' files):
#   OUT/arm64/media.cpio.gz   build.sh's busybox initramfs plus a second cpio member with the kernel
#                             modules Debian builds as modules for USB storage behind an EHCI
#                             controller, AHCI (SATA) disks, ext4 and virtio networking, and an /init
#                             that loads them, takes a DHCP lease on eth0, makes udev-style
#                             /dev/disk/by-id links (usb-VENDOR_MODEL_SERIAL-0:0, ata-MODEL_SERIAL,
#                             with -partN links) and then:
#                               root=/dev/...   mounts that ext4 root and switch_roots to it
#                               otherwise       stays in the ramdisk's own shell (the "master OS")
#   OUT/arm64/media-disk.img  a raw disk, MBR, partition 1 ext4 (label lava-media): /boot/Image,
#                             /boot/media.cpio.gz and the busybox board as root filesystem, whose
#                             /etc/lava-rootfs says "media rootfs"
#   OUT/STAMP-media           what was built from what; a second run returns at once
#
# Debian's U-Boot for qemu_arm64 drives EHCI (not xHCI) and AHCI: the board gets
# `-device usb-ehci` + `usb-storage` and `-device ahci` + `ide-hd`.
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-media.sh" "$HERE/lib.sh" "$HERE/kernel_modules.py" | cksum | cut -d' ' -f1)
FILES="arm64/media.cpio.gz arm64/media-disk.img"
MODULES="virtio_pci virtio_net ehci_pci usb_storage sd_mod ahci crc32c_generic ext4"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -s "$OUT/arm64/initramfs.cpio.gz" ] && [ -s "$OUT/arm64/Image" ] && [ -f "$OUT/STAMP" ] || {
    echo "build-media.sh: run build.sh first (no $OUT/arm64/initramfs.cpio.gz)" >&2; exit 2; }
KERNEL_PKG=$(sed -n 's/^kernel-arm64=//p' "$OUT/STAMP")
BASE_ID=$(cat "$OUT/arm64/initramfs.cpio.gz" "$OUT/arm64/Image" | cksum | cut -d' ' -f1)

up_to_date() {
    for f in $FILES; do [ -s "$OUT/$f" ] || return 1; done
    [ -f "$OUT/STAMP-media" ] && grep -qx "script=$SCRIPT_ID" "$OUT/STAMP-media" \
        && grep -qx "kernel-arm64=$KERNEL_PKG" "$OUT/STAMP-media" && grep -qx "base=$BASE_ID" "$OUT/STAMP-media"
}

build_once "media test images" "$OUT/.lock-media"

for tool in apt-get dpkg-deb cpio gzip python3 mke2fs tar; do
    command -v $tool >/dev/null 2>&1 || { echo "build-media.sh: '$tool' is needed (Debian host)" >&2; exit 2; }
done

work_dir "$OUT/.work-media"
private_apt amd64 arm64
kernel_modules_of "$KERNEL_PKG"

# -- the second cpio member: modules in load order, the by-id links, and the init
M="$WORK/member"
mkdir -p "$M/lib/modules" "$M/newroot" "$M/etc" "$M/sbin"
copy_modules "$M" $MODULES

udhcpc_script "$M/etc/udhcpc.script"

# busybox has no udev: the /dev/disk/by-id names udev would give, from sysfs
cat >"$M/sbin/lava-disk-ids" <<'EOF'
#!/bin/sh
mkdir -p /dev/disk/by-id
clean() { sed -e 's/^ *//' -e 's/ *$//' -e 's/[^A-Za-z0-9.:-]/_/g'; }
for block in /sys/block/sd*; do
    [ -e "$block/device" ] || continue
    name=${block##*/}
    vendor=$(clean <"$block/device/vendor")
    model=$(clean <"$block/device/model")
    if [ "$vendor" = ATA ]; then
        serial=$(dd if="$block/device/vpd_pg80" bs=1 skip=4 2>/dev/null | tr -d '\0' | clean)
        id="ata-${model}_${serial}"
    else
        dir=$(readlink -f "$block/device")
        while [ "$dir" != / ] && ! [ -f "$dir/idVendor" ]; do dir=${dir%/*}; [ -n "$dir" ] || dir=/; done
        serial=$(clean <"$dir/serial" 2>/dev/null)
        id="usb-${vendor}_${model}_${serial}-0:0"
    fi
    ln -sfn "../../$name" "/dev/disk/by-id/$id"
    for part in "$block/$name"*; do
        [ -e "$part/partition" ] && ln -sfn "../../${part##*/}" "/dev/disk/by-id/$id-part$(cat "$part/partition")"
    done
done
EOF
chmod 755 "$M/sbin/lava-disk-ids"

cat >"$M/init" <<'EOF'
#!/bin/sh
# media init: drivers, network, disk names; then the root named on the command line, or the ramdisk shell
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
while read -r module; do
    case $module in
      usb-storage.ko) insmod "/lib/modules/$module" delay_use=0 2>/dev/null ;;
      *) insmod "/lib/modules/$module" 2>/dev/null ;;
    esac
done </etc/modules.order
ROOT=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^root=//p' | tail -n 1)
fail() { echo "media: failed: $*"; exit 1; }
if [ -n "$ROOT" ] && [ "$ROOT" != /dev/ram0 ]; then
    for _ in $(seq 40); do lava-disk-ids; [ -b "$ROOT" ] && break; sleep 0.25; done
    echo "media: mounting $ROOT"
    mount -t ext4 "$ROOT" /newroot || fail "cannot mount $ROOT"
    umount /proc /sys
    umount /dev 2>/dev/null
    exec switch_root /newroot /init
fi
ip link set lo up
if ip link set eth0 up 2>/dev/null; then
    udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script >/dev/null || echo "media: no DHCP lease on eth0"
fi
# USB disks come a moment after their driver: keep the names fresh for a while
(for _ in $(seq 40); do lava-disk-ids; sleep 0.25; done) &
umount /proc /sys /dev 2>/dev/null
exec /ramdisk-init
EOF
chmod 755 "$M/init"

R="$WORK/rootfs"
mkdir -p "$R"
(cd "$R" && gzip -dc "$OUT/arm64/initramfs.cpio.gz" | cpio -id --quiet --no-absolute-filenames)
cp "$R/init" "$M/ramdisk-init"
(cd "$M" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$WORK/member.cpio.gz"
cat "$OUT/arm64/initramfs.cpio.gz" "$WORK/member.cpio.gz" >"$WORK/media.cpio.gz"

# -- the disk: one ext4 partition holding the boot files and the root filesystem
# the root's /init is the ramdisk's own (the media init's work is done when it switch_roots)
echo "media rootfs" >"$R/etc/lava-rootfs"
mkdir -p "$R/boot"
cp "$OUT/arm64/Image" "$R/boot/Image"
cp "$WORK/media.cpio.gz" "$R/boot/media.cpio.gz"
PART_MB=56
E2FSPROGS_FAKE_TIME=0 mke2fs -q -t ext4 -L lava-media -U clear -E root_owner=0:0 -d "$R" "$WORK/part.ext4" ${PART_MB}M
truncate -s $((PART_MB + 2))M "$WORK/disk.img"
# an MBR with one Linux partition (type 0x83) from 1 MiB: entry = status, CHS, type, CHS, first LBA, sectors
python3 - "$WORK/disk.img" $((PART_MB * 2048)) <<'PY'
import struct, sys
entry = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, int(sys.argv[2]))
with open(sys.argv[1], "r+b") as disk:
    disk.seek(440)
    disk.write(struct.pack("<I", 0x1A7A0001) + b"\0\0" + entry + bytes(48) + b"\x55\xaa")
PY
dd if="$WORK/part.ext4" of="$WORK/disk.img" bs=1M seek=1 conv=notrunc status=none

mv "$WORK/media.cpio.gz" "$OUT/arm64/media.cpio.gz"
mv "$WORK/disk.img" "$OUT/arm64/media-disk.img"
cat >"$OUT/STAMP-media" <<EOF
script=$SCRIPT_ID
kernel-arm64=$KERNEL_PKG
base=$BASE_ID
modules=$(tr '\n' ' ' <"$M/etc/modules.order")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$OUT/arm64/media.cpio.gz" "$OUT/arm64/media-disk.img"
echo "media test images ready in $OUT"
