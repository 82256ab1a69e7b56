#!/bin/sh
# power-media.sh on|off STATE_DIR UART TFTP_ROOT USB_DISK SATA_DISK
# The "outlet" of a virtual U-Boot board with secondary media: power.sh's QEMU arm64 virt machine
# with Debian's U-Boot, plus a USB stick behind an EHCI controller (U-Boot has no xHCI driver) and a
# SATA disk on an AHCI controller. Its UART is the pty UART (one end of a socat pair the test keeps
# for the whole run), so that the console survives power cycles, like a serial cable.
set -e
ACTION=$1; STATE=$2; UART=$3; TFTP=$4; USB=$5; SATA=$6
PIDF=$STATE/qemu.pid
case $ACTION in
  on)
    mkdir -p "$STATE"
    if [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then exit 0; fi
    exec qemu-system-aarch64 -M virt -cpu cortex-a57 -accel tcg -m 512 -display none -monitor none -no-reboot \
      -bios /usr/lib/u-boot/qemu_arm64/u-boot.bin \
      -netdev user,id=n0,tftp="$TFTP" -device virtio-net-pci,netdev=n0 \
      -device usb-ehci,id=ehci -drive if=none,id=usbdisk,format=raw,file="$USB" \
      -device usb-storage,bus=ehci.0,drive=usbdisk,serial=LAVAUSB1 \
      -device ahci,id=ahci -drive if=none,id=satadisk,format=raw,file="$SATA" \
      -device ide-hd,bus=ahci.0,drive=satadisk,serial=LAVASATA1 \
      -chardev serial,id=s0,path="$UART" -serial chardev:s0 \
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
  *) echo "usage: power-media.sh on|off STATE_DIR UART TFTP_ROOT USB_DISK SATA_DISK" >&2; exit 2 ;;
esac
