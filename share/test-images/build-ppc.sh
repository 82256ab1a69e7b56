#!/bin/sh
# The 32-bit PowerPC board of the reference's QEMU sample job docs/qemu-ppc-bamboo.yaml (QEMU's
# `bamboo`, a PowerPC 440EP), cross-built from Debian's sources: Debian's archive has no 32-bit
# powerpc kernel or busybox (a ports architecture), but it has the cross compiler and the sources.
#
# usage: share/test-images/build-ppc.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Needs on the host: gcc-powerpc-linux-gnu and libc6-dev-powerpc-cross (the cross toolchain), make,
# flex, bison, bc, dpkg-dev (dpkg-source unpacks busybox's source). Downloads only from the host's
# Debian mirror (private apt state, with deb-src lines for the same mirror): linux-source-6.1 and
# busybox's source package. Produces:
#   OUT/ppc/vmlinux             a ppc44x kernel (44x/bamboo_defconfig plus what the job needs, all
#                               built in: 8250 console ttyS0, initramfs, virtio-pci with virtio-scsi,
#                               SCSI disks, ext4, virtio-net and e1000 (QEMU's NICs on bamboo's PCI),
#                               devtmpfs, tmpfs); QEMU loads the ELF itself (-kernel vmlinux)
#   OUT/ppc/initramfs.cpio.gz   the busybox board of mkinitramfs.sh (console ttyS0) around a static
#                               32-bit PowerPC busybox built from Debian's source with Debian's
#                               static configuration
#   OUT/ppc/STAMP               what was built from what; a second run returns at once
# Reproducible: fixed build timestamp, user and host for the kernel, SOURCE_DATE_EPOCH for busybox.
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-ppc.sh" "$HERE/lib.sh" "$HERE/mkinitramfs.sh" | cksum | cut -d' ' -f1)
CROSS=powerpc-linux-gnu-
JOBS=$(nproc 2>/dev/null || echo 2)

mkdir -p "$OUT/ppc"
OUT=$(cd "$OUT" && pwd)
D="$OUT/ppc"

up_to_date() {
    for f in vmlinux initramfs.cpio.gz; do [ -s "$D/$f" ] || return 1; done
    [ -f "$D/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$D/STAMP"
}

build_once "ppc board images" "$D/.lock"

for tool in apt-get dpkg-deb dpkg-source cpio gzip xz file make flex bison bc ${CROSS}gcc; do
    command -v $tool >/dev/null 2>&1 || {
        echo "build-ppc.sh: '$tool' is needed (apt-get install gcc-powerpc-linux-gnu libc6-dev-powerpc-cross make flex bison bc dpkg-dev file)" >&2
        exit 2
    }
done

work_dir "$D/.work"
# logged NAME COMMAND...: the command's output (compiler warnings) into WORK/NAME.log, shown when it fails
logged() {
    log="$WORK/$1.log"; shift
    "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
}
# the host's Debian sources, each with its deb-src twin: busybox comes as a source package
mkdir -p "$WORK/apt/sources.list.d"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types: *deb *$/Types: deb deb-src/' "$f" >"$WORK/apt/sources.list.d/$(basename "$f")"
done
[ -f /etc/apt/sources.list ] && sed -n 's/^deb \(.*\)/deb \1\ndeb-src \1/p' /etc/apt/sources.list >"$WORK/apt/sources.list"
touch "$WORK/apt/sources.list"
mkdir -p "$WORK/deb" "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
APT="-o Dir::State::Lists=$WORK/apt/lists -o Dir::Cache=$WORK/apt/cache -o Debug::NoLocking=1
     -o APT::Sandbox::User=root -q -o APT::Architectures::=amd64
     -o Dir::Etc::SourceList=$WORK/apt/sources.list -o Dir::Etc::SourceParts=$WORK/apt/sources.list.d"
# shellcheck disable=SC2086
apt-get $APT update >"$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log" >&2; exit 1; }

echo "build-ppc.sh: downloading linux-source-6.1 and busybox's source"
apt_fetch linux-source-6.1
# shellcheck disable=SC2086
(cd "$WORK" && apt-get $APT source busybox) >"$WORK/source.log" 2>&1 || { cat "$WORK/source.log" >&2; exit 1; }
BUSYBOX_SRC=$(find "$WORK" -maxdepth 1 -type d -name 'busybox-*' | head -n1)
KERNEL_DEB=$(basename "$WORK"/deb/linux-source-6.1_*.deb)

K="$WORK/linux"
mkdir -p "$K"
dpkg-deb --fsys-tarfile "$WORK/deb/$KERNEL_DEB" | tar -x -O --wildcards './usr/src/linux-source-6.1.tar.xz' \
    | xz -dc | tar -x -C "$K" --strip-components=1

echo "build-ppc.sh: building the ppc44x kernel"
KMAKE="make -s -C $K ARCH=powerpc CROSS_COMPILE=$CROSS KBUILD_BUILD_TIMESTAMP=@0 KBUILD_BUILD_USER=lava
       KBUILD_BUILD_HOST=lava KBUILD_BUILD_VERSION=1"
$KMAKE 44x/bamboo_defconfig
# what docs/qemu-ppc-bamboo.yaml's board needs, built in (no modules: the ramdisk loads none; the test
# overlay's ext2 disk mounts with the ext4 driver), and less of what the real board has (its EMAC, flash,
# USB, NFS root...): the build takes minutes on 2 cores
"$K/scripts/config" --file "$K/.config" \
    -d MODULES -d DEBUG_INFO -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -e DEBUG_INFO_NONE -d KALLSYMS -d FTRACE \
    -d IBM_EMAC -d MTD -d USB_SUPPORT -d NETWORK_FILESYSTEMS -d NFS_FS -d ROOT_NFS -d IP_PNP -d CRAMFS \
    -d EXT2_FS -d WIRELESS -d WLAN -d SWAP -d INPUT -d VT -d HWMON -d I2C -d SPI -d NEW_LEDS \
    -e SERIAL_8250 -e SERIAL_8250_CONSOLE -e SERIAL_OF_PLATFORM \
    -e BLK_DEV_INITRD -e RD_GZIP -e DEVTMPFS -e TMPFS -e PROC_FS -e SYSFS -e UNIX98_PTYS \
    -e PCI -e VIRTIO_MENU -e VIRTIO_PCI -e VIRTIO_PCI_LEGACY \
    -e SCSI -e BLK_DEV_SD -e SCSI_LOWLEVEL -e SCSI_VIRTIO -e EXT4_FS \
    -e NET -e INET -e PACKET -e UNIX -e NETDEVICES -e ETHERNET -e NET_VENDOR_INTEL -e E1000 -e VIRTIO_NET
$KMAKE olddefconfig
logged kernel nice $KMAKE -j"$JOBS" vmlinux
for opt in SERIAL_8250_CONSOLE BLK_DEV_INITRD DEVTMPFS VIRTIO_PCI SCSI_VIRTIO BLK_DEV_SD EXT4_FS EXT4_USE_FOR_EXT2 \
           E1000 VIRTIO_NET PACKET; do
    grep -qx "CONFIG_$opt=y" "$K/.config" || { echo "build-ppc.sh: CONFIG_$opt did not stay built in" >&2; exit 1; }
done

echo "build-ppc.sh: building busybox (static, 32-bit PowerPC)"
# Debian's configuration of its busybox-static package
cp "$BUSYBOX_SRC/debian/config/pkg/static" "$BUSYBOX_SRC/.config"
BMAKE="make -s -C $BUSYBOX_SRC ARCH=powerpc CROSS_COMPILE=$CROSS"
# the configuration step writes the banner's build date: the epoch, so that the binary is reproducible
export SOURCE_DATE_EPOCH=0
yes '' | $BMAKE oldconfig >/dev/null
logged busybox nice $BMAKE -j"$JOBS" busybox busybox.links
file "$BUSYBOX_SRC/busybox" 2>/dev/null | grep -q 'PowerPC.*statically linked' \
    || { echo "build-ppc.sh: busybox is no static 32-bit PowerPC binary" >&2; exit 1; }

# busybox.links lists the applets' paths: the host cannot run the binary to ask it
APPLETS=$(sed 's,^/,,' "$BUSYBOX_SRC/busybox.links")
export APPLETS
BUSYBOX="$BUSYBOX_SRC/busybox" CONSOLE=ttyS0 LOGIN=0 sh "$HERE/mkinitramfs.sh" "$D/initramfs.cpio.gz"
cp "$K/vmlinux" "$D/vmlinux.tmp"
${CROSS}strip "$D/vmlinux.tmp"
mv "$D/vmlinux.tmp" "$D/vmlinux"

cat >"$D/STAMP" <<EOF
script=$SCRIPT_ID
kernel=$KERNEL_DEB $(sed -n 's/^# Linux\/powerpc \(.*\) Kernel Configuration/\1/p' "$K/.config")
busybox=$(basename "$BUSYBOX_SRC")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$D"
echo "ppc board images ready in $D"
