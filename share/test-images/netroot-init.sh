#!/bin/sh
# netroot init: load the drivers, then mount the root the kernel command line names and switch to it.
#   nfsroot=SERVER:PATH[,opts]            NFSv4 (default vers=4.1; port=N picks the server port)
#   nbd.server=HOST nbd.port=N            the export "lava" of that NBD server (nbd-client), as ext4
#   root=/dev/XXX                         an ext4 disk (QEMU's -drive file=nbd://... gives /dev/vda)
# with none of them, the ramdisk's own shell (/ramdisk-init).
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
while read -r module; do insmod "/lib/modules/$module" 2>/dev/null; done </etc/modules.order
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
NFSROOT=$(arg nfsroot)
NBD_SERVER=$(arg nbd.server)
NBD_PORT=$(arg nbd.port)
ROOT=$(arg root)
# exiting makes the kernel panic: a board without its root must not look booted
fail() { echo "netroot: failed: $*"; exit 1; }
network() {
    ip link set lo up
    ip link set eth0 up || fail "no eth0"
    udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script >/dev/null || fail "no DHCP lease on eth0"
}
if [ -n "$NFSROOT" ]; then
    network
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
elif [ -n "$NBD_SERVER" ]; then
    command -v nbd-client >/dev/null || fail "no nbd-client in this ramdisk"
    network
    echo "netroot: connecting /dev/nbd0 to nbd://$NBD_SERVER:$NBD_PORT/lava"
    # netlink: the kernel keeps the connection, no client process has to survive switch_root
    nbd-client "$NBD_SERVER" "$NBD_PORT" /dev/nbd0 -N lava >/dev/null || fail "cannot connect to nbd://$NBD_SERVER:$NBD_PORT/lava"
    mount -t ext4 /dev/nbd0 /newroot || fail "cannot mount /dev/nbd0 (nbd://$NBD_SERVER:$NBD_PORT/lava)"
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
