#!/bin/sh
# GRUB for a PC that network-boots it from its card's PXE ROM (BIOS, i386-pc), for the GRUB x86 board.
#
# usage: share/test-images/build-grub-pxe.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces OUT/grub-pxe/, a tree to copy into a TFTP root:
#   boot/grub/i386-pc/core.0   what DHCP names as the boot file (grub-mknetdir's, with its modules beside it)
#   boot/grub/grub.cfg         GRUB writes to the serial line (COM1, 115200) and reads the keys SeaBIOS's
#                              serial console (QEMU -machine graphics=off) takes from that line (GRUB
#                              reading the UART too would race it for the bytes); a menu that waits 30 s with
#                              "Press enter to boot the selected OS" and boots nothing by itself: the
#                              dispatcher presses `c` and types the job's commands at `grub>`
#   STAMP
# Needs apt-get (Debian's mirror only: grub-pc-bin), dpkg-deb and grub-mknetdir (grub-common).
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-grub-pxe.sh" "$HERE/lib.sh" | cksum | cut -d' ' -f1)
D="$OUT/grub-pxe"
mkdir -p "$OUT"
up_to_date() { [ -s "$D/boot/grub/i386-pc/core.0" ] && [ -f "$D/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$D/STAMP"; }
build_once "GRUB PXE tree" "$OUT/.lock-grub-pxe"
for tool in apt-get dpkg-deb grub-mknetdir; do
    command -v $tool >/dev/null 2>&1 || { echo "build-grub-pxe.sh: '$tool' is needed" >&2; exit 2; }
done
work_dir "$OUT/.work-grub-pxe"
private_apt amd64
apt_fetch grub-pc-bin
dpkg-deb -x "$WORK"/deb/grub-pc-bin_*.deb "$WORK/x"
rm -rf "$D.tmp"
mkdir -p "$D.tmp"
grub-mknetdir --net-directory="$D.tmp" --subdir=boot/grub -d "$WORK/x/usr/lib/grub/i386-pc" >"$WORK/mknetdir.log" 2>&1 \
    || { cat "$WORK/mknetdir.log" >&2; exit 1; }
cat >"$D.tmp/boot/grub/grub.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_input console
terminal_output serial
set timeout=30
menuentry "LAVA test board: nothing to boot (press c for the command line)" {
    echo "this board boots only what the dispatcher types at the command line"
}
CFG
printf 'script=%s\ngrub=%s\n' "$SCRIPT_ID" "$(basename "$WORK"/deb/grub-pc-bin_*.deb)" >"$D.tmp/STAMP"
rm -rf "$D"
mv "$D.tmp" "$D"
echo "GRUB PXE tree ready in $D"
