#!/bin/sh
# Build the pieces that make a disk image bootable by a PC's BIOS (SeaBIOS): GRUB for i386-pc.
#
# usage: share/test-images/build-bootdisk.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces:
#   OUT/bootdisk/boot.img   GRUB's MBR boot code (write its first 440 bytes into sector 0)
#   OUT/bootdisk/core.img   GRUB's core image (write it from sector 1, before the first partition):
#                           it reads (hd0,msdos2)/boot/grub/grub.cfg (biosdisk, part_msdos, ext2, linux)
#   OUT/bootdisk/STAMP
# share/corpus-run.py assembles disks from these: partition 2 is an ext4 filesystem with /boot/bzImage,
# the initrds and grub.cfg. Needs apt-get (Debian's mirror only: grub-pc-bin), dpkg-deb and grub-mkimage.
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-bootdisk.sh" "$HERE/lib.sh" | cksum | cut -d' ' -f1)
D="$OUT/bootdisk"
mkdir -p "$D"
up_to_date() { [ -s "$D/boot.img" ] && [ -s "$D/core.img" ] && [ -f "$D/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$D/STAMP"; }
build_once "boot-disk pieces" "$D/.lock"
for tool in apt-get dpkg-deb grub-mkimage; do
    command -v $tool >/dev/null 2>&1 || { echo "build-bootdisk.sh: '$tool' is needed" >&2; exit 2; }
done
WORK="$D/.work"
rm -rf "$WORK"
mkdir -p "$WORK/x"
trap 'rm -rf "$WORK"' EXIT
private_apt amd64
apt_fetch grub-pc-bin
dpkg-deb -x "$WORK"/deb/grub-pc-bin_*.deb "$WORK/x"
MODS="$WORK/x/usr/lib/grub/i386-pc"
grub-mkimage -O i386-pc -d "$MODS" -o "$WORK/core.img" -p '(hd0,msdos2)/boot/grub' \
    biosdisk part_msdos ext2 linux normal configfile echo
cp "$MODS/boot.img" "$D/boot.img"
mv "$WORK/core.img" "$D/core.img"
printf 'script=%s\ngrub=%s\n' "$SCRIPT_ID" "$(basename "$WORK"/deb/grub-pc-bin_*.deb)" > "$D/STAMP"
echo "boot-disk pieces ready in $D"
