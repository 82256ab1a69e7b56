#!/bin/sh
# 32-bit ARM boards for the reference's QEMU sample jobs (vexpress-a9, cubieboard), from Debian packages.
#
# usage: share/test-images/build-armhf.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Needs build-extra.sh's armv7/initramfs.cpio.gz (the armhf busybox board). Produces, from one
# linux-image-armmp package so that kernel, modules and device trees always match:
#   OUT/armhf/zImage                    the armmp kernel (multi-platform ARMv7: vexpress, sunxi, virt...)
#   OUT/armhf/vexpress-v2p-ca9.dtb      the device trees of QEMU's vexpress-a9 and cubieboard machines
#   OUT/armhf/sun4i-a10-cubieboard.dtb
#   OUT/armhf/initramfs.cpio.gz         the armv7 busybox board plus a second cpio member: the modules
#                                       Debian builds as modules for the test overlay's disk (virtio-mmio
#                                       block, the A10's AHCI, SCSI disks, ext4) and the boards' network
#                                       cards (lan9118, allwinner-emac and its MDIO bus), /lib/modules/order (their load
#                                       order, module names) and an /init that loads them, then runs the
#                                       board's own init (/ramdisk-init)
#   OUT/armhf/STAMP                     what was built from what; a second run returns at once
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-armhf.sh" "$HERE/lib.sh" "$HERE/kernel_modules.py" | cksum | cut -d' ' -f1)
D="$OUT/armhf"
DTBS="vexpress-v2p-ca9.dtb sun4i-a10-cubieboard.dtb"
# crc32c_generic: ext4 asks the crypto API for crc32c at mount time, not through a symbol
MODULES="virtio_mmio virtio_blk ahci_sunxi sd_mod crc32c_generic ext4 smsc911x mdio_sun4i sun4i_emac"

mkdir -p "$D"
OUT=$(cd "$OUT" && pwd)
D="$OUT/armhf"
BASE="$OUT/armv7/initramfs.cpio.gz"
[ -s "$BASE" ] || { echo "build-armhf.sh: run build-extra.sh first (no $BASE)" >&2; exit 2; }
BASE_ID=$(cksum <"$BASE" | cut -d' ' -f1)

up_to_date() {
    for f in zImage initramfs.cpio.gz $DTBS; do [ -s "$D/$f" ] || return 1; done
    [ -f "$D/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$D/STAMP" && grep -qx "base=$BASE_ID" "$D/STAMP"
}

build_once "armhf board images" "$D/.lock"

for tool in apt-get apt-cache dpkg-deb cpio gzip python3; do
    command -v $tool >/dev/null 2>&1 || { echo "build-armhf.sh: '$tool' is needed (Debian host)" >&2; exit 2; }
done

work_dir "$D/.work"
mkdir -p "$WORK/deb" "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
APT="-o Dir::State::Lists=$WORK/apt/lists -o Dir::Cache=$WORK/apt/cache -o Debug::NoLocking=1
     -o APT::Sandbox::User=root -q -o APT::Architectures::=amd64 -o APT::Architectures::=armhf"
# a mirror still syncing one suite (seen: the security lists of armhf) is no reason to stop: the main
# suite's kernel is as good for a test; the look-up below fails when no kernel can be found
# shellcheck disable=SC2086
apt-get $APT update >"$WORK/apt-update.log" 2>&1 || grep '^E:' "$WORK/apt-update.log" >&2 || true
# shellcheck disable=SC2086
KERNEL_PKG=$(apt-cache $APT depends "linux-image-armmp:armhf" | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KERNEL_PKG" ] || { echo "build-armhf.sh: Debian has no linux-image-armmp for armhf here" >&2; exit 1; }
echo "build-armhf.sh: downloading $KERNEL_PKG"
apt_fetch "$KERNEL_PKG"
dpkg-deb -x "$WORK"/deb/linux-image-*.deb "$WORK/kernel"

M="$WORK/member"
mkdir -p "$M/lib/modules"
# shellcheck disable=SC2086
python3 "$HERE/kernel_modules.py" "$WORK/kernel/lib/modules/$(ls "$WORK/kernel/lib/modules")/kernel" \
    "$M/lib/modules" $MODULES | sed 's/\.ko$//' >"$M/lib/modules/order"
cat >"$M/init" <<'EOF'
#!/bin/sh
# armhf boards: load the drivers Debian builds as modules, then the board's own init
mount -t proc proc /proc
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m.ko" 2>/dev/null; done
umount /proc
exec /ramdisk-init
EOF
chmod 755 "$M/init"
mkdir -p "$WORK/base"
(cd "$WORK/base" && gzip -dc "$BASE" | cpio -id --quiet --no-absolute-filenames init)
cp "$WORK/base/init" "$M/ramdisk-init"
(cd "$M" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$WORK/member.cpio.gz"
cat "$BASE" "$WORK/member.cpio.gz" >"$D/initramfs.cpio.gz.tmp"
mv "$D/initramfs.cpio.gz.tmp" "$D/initramfs.cpio.gz"
cp "$WORK"/kernel/boot/vmlinuz-* "$D/zImage"
for dtb in $DTBS; do cp "$WORK"/kernel/usr/lib/linux-image-*/"$dtb" "$D/$dtb"; done

cat >"$D/STAMP" <<EOF
script=$SCRIPT_ID
kernel-armhf=$KERNEL_PKG
base=$BASE_ID
modules=$(tr '\n' ' ' <"$M/lib/modules/order")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$D"
echo "armhf board images ready in $D"
