#!/bin/sh
# power.sh on|off STATE_DIR PORT TFTP_ROOT [ROM [BOOTFILE]]
# The "outlet" of the virtual iPXE board: a QEMU x86_64 PC whose SeaBIOS network-boots the iPXE option
# ROM of its e1000 card (ROM: Debian's ipxe-qemu one by default; "none" gives a card without a boot ROM).
# BOOTFILE: the file DHCP names, which the ROM fetches and runs (GRUB's PXE image: the BIOS GRUB board).
# Its UART is a TCP server at 127.0.0.1:PORT (QEMU waits for the console before it starts the CPU),
# TFTP is served by QEMU's user network from TFTP_ROOT at 10.0.2.2.
set -e
ACTION=$1; STATE=$2; PORT=$3; TFTP=$4; ROM=${5:-/usr/lib/ipxe/qemu/pxe-e1000.rom}; BOOTFILE=${6:-}
[ "$ROM" = none ] && ROM=
PIDF=$STATE/qemu.pid
case $ACTION in
  on)
    mkdir -p "$STATE"
    if [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then exit 0; fi
    # graphics=off: SeaBIOS and the option ROM write to the serial port instead of a screen
    exec qemu-system-x86_64 -machine graphics=off -accel tcg -m 512 -display none -monitor none -no-reboot \
      -netdev user,id=n0,tftp="$TFTP"${BOOTFILE:+,bootfile=$BOOTFILE} -device e1000,netdev=n0,romfile="$ROM" -boot n \
      -serial tcp:127.0.0.1:"$PORT",server=on,wait=on \
      -daemonize -pidfile "$PIDF" ;;
  off)
    if [ -f "$PIDF" ]; then
      PID=$(cat "$PIDF")
      kill "$PID" 2>/dev/null || true
      for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$PID" 2>/dev/null || true
      rm -f "$PIDF"
    fi ;;
  *) echo "usage: power.sh on|off STATE_DIR PORT TFTP_ROOT [ROM [BOOTFILE]]" >&2; exit 2 ;;
esac
