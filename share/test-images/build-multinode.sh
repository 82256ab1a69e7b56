#!/bin/sh
# A test board with a network card, for MultiNode groups whose boards talk to each other.
#
# usage: share/test-images/build-multinode.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces, beside build.sh's images (run it first; its files are never touched):
#   OUT/x86_64/initramfs-net.cpio.gz  build.sh's x86_64 board plus the virtio-net driver of the very
#                                     kernel build.sh took (Debian builds it as a module), loaded by
#                                     /init: QEMU's virtio-net-pci cards come up as eth0, eth1...
#   OUT/STAMP-multinode               what was built from what; a second run returns at once
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$OUT" && pwd)
BASE="$OUT/x86_64/initramfs.cpio.gz"
RESULT="$OUT/x86_64/initramfs-net.cpio.gz"
[ -s "$BASE" ] && [ -f "$OUT/STAMP" ] || { echo "build-multinode.sh: run build.sh first" >&2; exit 2; }
KX=$(sed -n 's/^kernel-amd64=//p' "$OUT/STAMP")
# in loading order: Debian builds the virtio bus and its PCI transport as modules too
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-multinode.sh" "$HERE/lib.sh" | cksum | cut -d' ' -f1)
BASE_ID=$(cksum < "$BASE" | cut -d' ' -f1)

up_to_date() {
    [ -s "$RESULT" ] && [ -f "$OUT/STAMP-multinode" ] \
        && grep -qx "script=$SCRIPT_ID" "$OUT/STAMP-multinode" && grep -qx "base=$BASE_ID" "$OUT/STAMP-multinode"
}
build_once "multinode test image" "$OUT/.lock-multinode"

WORK="$OUT/.work-multinode"
rm -rf "$WORK"
mkdir -p "$WORK/root" "$WORK/x"
trap 'rm -rf "$WORK"' EXIT
private_apt amd64
apt_fetch "$KX"

dpkg-deb --fsys-tarfile "$WORK"/deb/linux-image-*.deb | (cd "$WORK/x" && tar -x --wildcards './lib/modules/*/kernel/drivers/net/*' './lib/modules/*/kernel/net/core/*' './lib/modules/*/kernel/drivers/virtio/*')
KVER=$(ls "$WORK/x/lib/modules")
(cd "$WORK/root" && gzip -dc "$BASE" | cpio -i -d --quiet)
mkdir -p "$WORK/root/lib/modules/$KVER"
for module in $MODULES; do
    found=$(find "$WORK/x/lib/modules/$KVER" -name "$module.ko*" | head -n 1)
    [ -n "$found" ] || { echo "build-multinode.sh: $module not in $KX" >&2; exit 1; }
    case $found in
        *.xz) xz -dc "$found" > "$WORK/root/lib/modules/$KVER/$module.ko" ;;
        *) cp "$found" "$WORK/root/lib/modules/$KVER/$module.ko" ;;
    esac
done
# load the drivers before anything else runs: the network cards exist when the tests start
sed -i "s|^ip link set lo up 2>/dev/null\$|&\nfor m in $MODULES; do insmod /lib/modules/$KVER/\$m.ko 2>/dev/null; done|" "$WORK/root/init"
grep -q "insmod /lib/modules/$KVER" "$WORK/root/init" || { echo "build-multinode.sh: /init not patched" >&2; exit 1; }
(cd "$WORK/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) > "$RESULT.tmp"
mv "$RESULT.tmp" "$RESULT"
printf 'script=%s\nbase=%s\nkernel-amd64=%s\nmodules=%s\nbuilt=%s\n' "$SCRIPT_ID" "$BASE_ID" "$KX" "$MODULES" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$OUT/STAMP-multinode"
echo "multinode test image: $RESULT"
