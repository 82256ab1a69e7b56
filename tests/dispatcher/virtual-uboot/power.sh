#!/bin/sh
# power.sh on|off STATE_DIR PORT TFTP_ROOT
# The "outlet" of the virtual U-Boot board: a QEMU arm64 virt machine running Debian's U-Boot,
# its UART on a TCP server at 127.0.0.1:PORT (QEMU waits for the console before it starts the CPU),
# its TFTP served by QEMU's user network from TFTP_ROOT.
set -e
ACTION=$1; STATE=$2; PORT=$3; TFTP=$4
PIDF=$STATE/qemu.pid
case $ACTION in
  on)
    mkdir -p "$STATE"
    if [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then exit 0; fi
    exec qemu-system-aarch64 -M virt -cpu cortex-a57 -accel tcg -m 512 -display none -monitor none -no-reboot \
      -bios /usr/lib/u-boot/qemu_arm64/u-boot.bin \
      -netdev user,id=n0,tftp="$TFTP" -device virtio-net-pci,netdev=n0 \
      -serial tcp:127.0.0.1:"$PORT",server=on,wait=on \
      -daemonize -pidfile "$PIDF" ;;
  off)
    if [ -f "$PIDF" ]; then
      PID=$(cat "$PIDF")
      kill "$PID" 2>/dev/null || true
      # wait for it to go, so that the next "on" does not find the port busy
      for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$PID" 2>/dev/null || true
      rm -f "$PIDF"
    fi ;;
  *) echo "usage: power.sh on|off STATE_DIR PORT TFTP_ROOT" >&2; exit 2 ;;
esac
