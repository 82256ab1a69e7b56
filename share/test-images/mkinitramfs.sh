#!/bin/sh
# Build one busybox initramfs (cpio newc, gzip) for the test boards.
#
# usage: BUSYBOX=static-busybox CONSOLE=ttyS0|ttyAMA0 LOGIN=0|1 [APPLETS="bin/sh ..."] mkinitramfs.sh OUT.cpio.gz
#
# The board:
#   * hostname "lava"; shell prompt "root@lava:~# " (PS1='\u@\h:\w\$ ', so it follows the cwd)
#   * LOGIN=1 (or "login=1" on the kernel command line): a getty login prompt "lava login: ",
#     user root, password root; otherwise a root shell straight away
#   * "lava.panic=1" on the kernel command line: /init exits, the kernel panics
#     ("Kernel panic - not syncing: Attempted to kill init!"), which tests of panic detection use
#   * every busybox applet at its usual path (sh, sed, awk, grep, tr, date, ip, udhcpc, ...)
set -eu
OUT=$1
BUSYBOX=${BUSYBOX:-/bin/busybox}
CONSOLE=${CONSOLE:-ttyS0}
LOGIN=${LOGIN:-0}
# Applets as "dir/name" paths; --list-full of the binary, or of the host's when cross-building.
APPLETS=${APPLETS:-$("$BUSYBOX" --list-full)}

R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" \
         "$R/tmp" "$R/root" "$R/mnt" "$R/run" "$R/var/tmp" "$R/var/log" "$R/lib/modules"
chmod 1777 "$R/tmp" "$R/var/tmp"
chmod 700 "$R/root"
cp "$BUSYBOX" "$R/bin/busybox"
chmod 755 "$R/bin/busybox"
for a in $APPLETS; do
    # the list also names busybox itself: linking it would replace the binary with a loop
    case $a in */busybox|busybox) continue ;; esac
    case $a in */*) ;; *) a="bin/$a" ;; esac
    [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done

echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
echo 'root:x:0:' > "$R/etc/group"
# password "root"; a fixed salt keeps the image reproducible
echo 'root:$6$lavatest$3ohKBAHOd0AIX5ZAp72U2ChtUit91q5sasewAalshg6H8Fv5JM53v7buE.gAXqHL0S4JainOHv6I6XmLfSQSM.:19000:0:99999:7:::' > "$R/etc/shadow"
chmod 600 "$R/etc/shadow"
echo lava > "$R/etc/hostname"
echo '/bin/sh' > "$R/etc/shells"
cat > "$R/etc/os-release" <<'EOF'
NAME="LAVA test image"
ID=lava-busybox
PRETTY_NAME="LAVA test image (busybox initramfs)"
EOF
cat > "$R/etc/profile" <<'EOF'
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
export PS1='\u@\h:\w\$ '
cd "$HOME"
EOF

cat > "$R/init" <<EOF
#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
hostname -F /etc/hostname
ip link set lo up 2>/dev/null
if grep -q 'lava.panic=1' /proc/cmdline; then
    echo "init: lava.panic=1 on the kernel command line, exiting init so that the kernel panics"
    exit 1
fi
echo "init: boot done"
# Loop so that logging out (or exiting the shell) gives a new prompt instead of a kernel panic.
if [ "$LOGIN" = 1 ] || grep -q 'login=1' /proc/cmdline; then
    while true; do getty 115200 $CONSOLE vt100; done
fi
while true; do setsid cttyhack /bin/sh -l; done
EOF
chmod 755 "$R/init"

# -R 0:0: files belong to root on the board whoever builds the image
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
