#!/bin/sh
# Build the test installer ISO for `deploy: to: iso-installer` / `boot: method: qemu-iso` (x86_64).
#
# usage: share/test-images/build-iso.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Needs build.sh's images first (its busybox tree is the installed system; its STAMP names the
# kernel package). Produces, never touching build.sh's files:
#   OUT/iso/x86_64/lava-installer.iso   a Debian-installer-shaped CD (Rock Ridge):
#       /install.amd/vmlinuz      Debian's linux-image-amd64 kernel (the .deb the modules come from)
#       /install.amd/initrd.gz    the installer ramdisk (below); the installed system boots it too
#       /install/base.tar.gz      the system it installs: build.sh's busybox board
#       /.disk/info               the CD's name, as on Debian CDs
#   OUT/iso/x86_64/preseed.cfg          a preseed for it (hostname debian, root password root)
#   OUT/iso/STAMP                       what was built from what; a second run returns at once
#
# The ramdisk has two roles, chosen by the kernel command line:
#   root=DEV         the installed system's boot: load the drivers, mount DEV (or UUID=/LABEL=),
#                    switch_root to it
#   preseed/url=URL  the installer: DHCP on eth0, fetch URL with busybox wget, read the d-i keys
#                    below, run preseed/early_command, write an MBR (one bootable partition over
#                    the whole disk) with SYSLINUX's boot code, mke2fs, unpack base.tar.gz from the
#                    CD (/dev/sr0), copy the kernel and this ramdisk to /boot, install EXTLINUX
#                    (Debian's extlinux, run with its own glibc copy), run preseed/late_command
#                    (`in-target CMD` runs CMD chrooted into /target), then power off
#                    ("Requesting system poweroff", the kernel's "reboot: Power down") or reboot.
#   Preseed keys read: partman-auto/disk (default: the first of /dev/sda /dev/vda), netcfg/get_hostname
#   (default: the kernel command line's, else debian), passwd/root-password or
#   passwd/root-password-crypted, preseed/early_command, preseed/late_command,
#   debian-installer/exit/poweroff (default true). Kernel parameters after `---` go to the
#   installed system's command line, as with debian-installer.
#   A failed step prints "!! ERROR: <what>", a line saying why, and "[Press enter to continue]", then
#   waits, as debian-installer's text frontend does.
#
# Needs apt-get/dpkg-deb (Debian's mirror only: the kernel .deb for its modules, extlinux), cpio,
# gzip, python3, xorriso, ldd. First build about 40-60 s (one kernel .deb), then 0.02 s.
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SCRIPT_ID=$(cat "$HERE/build-iso.sh" "$HERE/lib.sh" "$HERE/kernel_modules.py" | cksum | cut -d' ' -f1)
FILES="iso/x86_64/lava-installer.iso iso/x86_64/preseed.cfg"
# af_packet: udhcpc's raw socket; crc32c_generic: ext4 asks the crypto API for it at mount time
MODULES="af_packet virtio_pci virtio_net ata_piix sd_mod sr_mod isofs crc32c_generic ext4"

sh "$HERE/build.sh" "$OUT" >/dev/null
OUT=$(cd "$OUT" && pwd)
KERNEL_PKG=$(sed -n 's/^kernel-amd64=//p' "$OUT/STAMP")
BASE_ID=$(cksum <"$OUT/x86_64/initramfs.cpio.gz" | cut -d' ' -f1)
mkdir -p "$OUT/iso/x86_64"

up_to_date() {
    for f in $FILES; do [ -s "$OUT/$f" ] || return 1; done
    [ -f "$OUT/iso/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$OUT/iso/STAMP" \
        && grep -qx "kernel-amd64=$KERNEL_PKG" "$OUT/iso/STAMP" && grep -qx "base=$BASE_ID" "$OUT/iso/STAMP"
}
build_once "installer ISO" "$OUT/iso/.lock"
for tool in apt-get dpkg-deb cpio gzip python3 xorriso ldd tar; do
    command -v $tool >/dev/null 2>&1 || { echo "build-iso.sh: '$tool' is needed (Debian host)" >&2; exit 2; }
done

work_dir "$OUT/iso/.work"
mkdir -p "$WORK/extlinux"
private_apt amd64
echo "build-iso.sh: downloading $KERNEL_PKG and extlinux"
apt_fetch "$KERNEL_PKG" extlinux:amd64
EXTLINUX_DEB=$(ls "$WORK"/deb/extlinux_*.deb)
EXTLINUX_VERSION=$(dpkg-deb -f "$EXTLINUX_DEB" Version)
dpkg-deb --fsys-tarfile "$WORK"/deb/linux-image-*.deb \
    | (cd "$WORK/kernel" && tar -x --wildcards './boot/vmlinuz-*' ./lib/modules)
dpkg-deb -x "$EXTLINUX_DEB" "$WORK/extlinux"
VERSION=$(ls "$WORK/kernel/lib/modules")

# -- the ramdisk: build.sh's busybox tree, the modules, extlinux, the two-role /init
R="$WORK/ramdisk"
mkdir -p "$R"
(cd "$R" && gzip -dc "$OUT/x86_64/initramfs.cpio.gz" | cpio -id --quiet --no-absolute-filenames)
mkdir -p "$R/lib/modules" "$R/newroot" "$R/target" "$R/cdrom" "$R/usr/lib/extlinux"
copy_modules "$R" $MODULES

# extlinux and the glibc it was linked with, in a folder of their own (the busybox is static)
X="$R/usr/lib/extlinux"
cp "$WORK/extlinux/usr/bin/extlinux" "$X/extlinux.bin"
cp "$WORK/extlinux/usr/lib/EXTLINUX/mbr.bin" "$X/mbr.bin"
ldd "$X/extlinux.bin" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do cp -L "$lib" "$X/"; done
LOADER=$(basename "$(ldd "$X/extlinux.bin" | awk '/^\t\/.*ld-linux/{print $1}')")
printf '#!/bin/sh\nexec /usr/lib/extlinux/%s --library-path /usr/lib/extlinux /usr/lib/extlinux/extlinux.bin "$@"\n' \
    "$LOADER" >"$R/usr/sbin/extlinux"
chmod 755 "$R/usr/sbin/extlinux"
printf '#!/bin/sh\n# debian-installer'"'"'s in-target: run a command inside the installed system\nexec chroot /target "$@"\n' \
    >"$R/bin/in-target"
chmod 755 "$R/bin/in-target"

udhcpc_script "$R/etc/udhcpc.script"

cat >"$R/init" <<'EOF'
#!/bin/sh
# the installer ramdisk's init: boot an installed system (root=) or run the installer
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
while read -r module; do insmod "/lib/modules/$module" 2>/dev/null; done </etc/modules.order
ROOT=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^root=//p' | tail -n 1)
[ -z "$ROOT" ] && exec /installer
# disks are probed in parallel: sda and sdb may swap from one boot to the next, a UUID does not
DEVICE=$ROOT
for _ in $(seq 100); do
    case $ROOT in UUID=*|LABEL=*) DEVICE=$(findfs "$ROOT" 2>/dev/null) ;; esac
    [ -b "$DEVICE" ] && break
    sleep 0.1
done
if mount -t ext4 -o rw "$DEVICE" /newroot; then
    mount --move /dev /newroot/dev
    umount /proc /sys
    exec switch_root /newroot /init
fi
echo "boot: cannot mount the root filesystem $ROOT"
exit 1
EOF
chmod 755 "$R/init"

cat >"$R/installer" <<'EOF'
#!/bin/sh
# The LAVA test installer: what debian-installer does with a preseed, in a few steps.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
say() { echo "installer: $*"; }
fail() {
    # debian-installer's text frontend: the error, why, then it waits for someone to press enter
    echo "!! ERROR: $1"
    echo "$2"
    echo "[Press enter to continue]"
    while true; do sleep 3600; done
}
step_failed() { fail "Installation step failed" "$1"; }
cmdline() { sed 's/ --- .*//; s/ ---$//' /proc/cmdline | tr ' ' '\n' | sed -n "s|^$1=||p" | tail -n 1; }
# preseed lines "d-i KEY TYPE VALUE"; a line ending with a backslash goes on on the next one
preseed() {
    awk '{ if (sub(/\\$/, "")) printf "%s", $0; else print }' /tmp/preseed.cfg \
        | awk -v key="$1" '$1 == "d-i" && $2 == key { $1 = $2 = $3 = ""; sub(/^ +/, ""); value = $0 } END { print value }'
}

say "LAVA test installer ($(cat /etc/os-release | sed -n 's/^PRETTY_NAME=//p'))"
URL=$(cmdline preseed/url)
[ -n "$URL" ] || URL=$(cmdline url)
[ -n "$URL" ] || fail "No preseed" "There is no preseed/url= on the kernel command line."
ip link set lo up
ip link set eth0 up 2>/dev/null || fail "No network interface" "There is no eth0 to fetch the preseed with."
udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script >/dev/null 2>&1 \
    || fail "Network autoconfiguration failed" "No DHCP lease on eth0: the preseed at $URL cannot be fetched."
say "fetching the preseed from $URL"
timeout 30 wget -q -O /tmp/preseed.cfg "$URL" 2>/tmp/wget.log || fail "Failed to retrieve the preconfiguration file" \
    "The file needed for preconfiguration could not be retrieved from $URL: $(tail -n 1 /tmp/wget.log)"

EARLY=$(preseed preseed/early_command)
if [ -n "$EARLY" ]; then
    say "running preseed/early_command: $EARLY"
    sh -c "$EARLY" || step_failed "Execution of preseeded command \"$EARLY\" failed with exit code $?."
fi

DISK=$(preseed partman-auto/disk)
if [ -z "$DISK" ]; then
    for _ in $(seq 50); do
        for candidate in /dev/sda /dev/vda; do [ -b "$candidate" ] && DISK=$candidate && break 2; done
        sleep 0.1
    done
fi
[ -n "$DISK" ] && [ -b "$DISK" ] || step_failed "No disk to install onto (partman-auto/disk: '${DISK:-none found}')."
SECTORS=$(cat "/sys/block/${DISK#/dev/}/size")
[ "$SECTORS" -ge 131072 ] || step_failed "The disk $DISK is too small: $SECTORS sectors (64 MiB at least)."
say "partitioning $DISK ($((SECTORS / 2048)) MiB): one bootable partition"
# the MBR: boot code, then one entry (bootable, Linux) from 1 MiB to the end of the disk
le32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
dd if=/usr/lib/extlinux/mbr.bin of="$DISK" bs=440 count=1 conv=notrunc 2>/dev/null || step_failed "Cannot write to $DISK."
{ printf '\200\000\000\000\203\000\000\000'; le32 2048; le32 $((SECTORS - 2048)); } \
    | dd of="$DISK" bs=1 seek=446 conv=notrunc 2>/dev/null
dd if=/dev/zero of="$DISK" bs=1 seek=462 count=48 conv=notrunc 2>/dev/null
printf '\125\252' | dd of="$DISK" bs=1 seek=510 conv=notrunc 2>/dev/null
sync
blockdev --rereadpt "$DISK"
PART=${DISK}1
for _ in $(seq 50); do [ -b "$PART" ] && break; sleep 0.1; done
[ -b "$PART" ] || step_failed "The new partition $PART did not appear."
say "creating an ext2 filesystem on $PART"
mke2fs -F -L lavaroot "$PART" >/dev/null 2>&1 || step_failed "mke2fs $PART failed."
mount -t ext4 "$PART" /target || step_failed "Cannot mount $PART."
# the filesystem's UUID (superblock at 1024, UUID at +104) names the root for the installed system
UUID=$(xxd -p -s 1128 -l 16 "$PART" | sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)/\1-\2-\3-\4-/')

for _ in $(seq 50); do [ -b /dev/sr0 ] && break; sleep 0.1; done
mount -t iso9660 -o ro /dev/sr0 /cdrom 2>/dev/null && [ -f /cdrom/install/base.tar.gz ] \
    || step_failed "No installation CD: /dev/sr0 is not this installer's ISO (install/base.tar.gz missing)."
say "installing the base system from $(cat /cdrom/.disk/info)"
tar -xzf /cdrom/install/base.tar.gz -C /target || step_failed "Cannot unpack the base system."
mkdir -p /target/boot/extlinux
cp /cdrom/install.amd/vmlinuz /target/boot/vmlinuz
cp /cdrom/install.amd/initrd.gz /target/boot/initrd.img

HOSTNAME=$(preseed netcfg/get_hostname)
[ -n "$HOSTNAME" ] || HOSTNAME=$(cmdline netcfg/get_hostname)
echo "${HOSTNAME:-debian}" >/target/etc/hostname
HASH=$(preseed passwd/root-password-crypted)
PASSWORD=$(preseed passwd/root-password)
[ -z "$HASH" ] && [ -n "$PASSWORD" ] && HASH=$(mkpasswd -m sha512 "$PASSWORD")
if [ -n "$HASH" ]; then
    sed -i "s|^root:[^:]*:|root:$HASH:|" /target/etc/shadow
fi
echo "installed $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(cat /cdrom/.disk/info) onto $DISK, root UUID=$UUID" \
    >/target/etc/lava-installed

say "installing the boot loader (EXTLINUX) on $DISK"
# what follows `---` on the installer's command line is for the installed system's kernel
EXTRA=$(sed -n 's/.* --- *//p' /proc/cmdline)
[ -n "$EXTRA" ] || EXTRA=$(tr ' ' '\n' </proc/cmdline | grep '^console=' | tr '\n' ' ')
SERIAL=$(echo "$EXTRA" | sed -n 's/.*console=ttyS\([0-9]\),\{0,1\}\([0-9]*\).*/\1 \2/p')
# no_timer_check: on a loaded host a TCG guest can fail the kernel's IO-APIC timer check and panic
cat >/target/boot/extlinux/extlinux.conf <<CONF
${SERIAL:+SERIAL $SERIAL}
DEFAULT installed
PROMPT 0
TIMEOUT 1
LABEL installed
  KERNEL /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND root=UUID=${UUID} rw login=1 panic=-1 no_timer_check $EXTRA
CONF
extlinux --install /target/boot/extlinux >/tmp/extlinux.log 2>&1 \
    || step_failed "extlinux --install failed: $(tail -n 1 /tmp/extlinux.log)"

LATE=$(preseed preseed/late_command)
if [ -n "$LATE" ]; then
    say "running preseed/late_command: $LATE"
    mount --bind /proc /target/proc
    sh -c "$LATE" || step_failed "Execution of preseeded command \"$LATE\" failed with exit code $?."
    umount /target/proc
fi
sync
umount /target
umount /cdrom
say "installation complete"
if [ "$(preseed debian-installer/exit/poweroff)" = false ]; then
    echo "Requesting system reboot"
    reboot -f
fi
echo "Requesting system poweroff"
poweroff -f
EOF
chmod 755 "$R/installer"

# -- the ISO tree
I="$WORK/cd"
mkdir -p "$I/install.amd" "$I/install" "$I/.disk"
cp "$WORK"/kernel/boot/vmlinuz-* "$I/install.amd/vmlinuz"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$I/install.amd/initrd.gz"
B="$WORK/base"
mkdir -p "$B"
(cd "$B" && gzip -dc "$OUT/x86_64/initramfs.cpio.gz" | cpio -id --quiet --no-absolute-filenames)
mkdir -p "$B/boot"
tar -C "$B" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -cf - . | gzip -9n >"$I/install/base.tar.gz"
echo "LAVA test installer $VERSION amd64" >"$I/.disk/info"
find "$I" -exec touch -h -d @0 {} +
rm -f "$OUT/iso/x86_64/lava-installer.iso.tmp"
SOURCE_DATE_EPOCH=0 xorriso -as mkisofs -quiet -R -V LAVA_INSTALLER -o "$OUT/iso/x86_64/lava-installer.iso.tmp" "$I"
mv "$OUT/iso/x86_64/lava-installer.iso.tmp" "$OUT/iso/x86_64/lava-installer.iso"

cat >"$OUT/iso/x86_64/preseed.cfg" <<'EOF'
# preseed for the LAVA test installer (share/test-images/build-iso.sh)
d-i netcfg/get_hostname string debian
d-i passwd/root-password password root
d-i passwd/root-password-again password root
d-i partman-auto/disk string /dev/sda
d-i preseed/late_command string in-target sh -c \
    'echo preseed late_command > /etc/lava-late-command'
d-i debian-installer/exit/poweroff boolean true
EOF

cat >"$OUT/iso/STAMP" <<EOF
script=$SCRIPT_ID
kernel-amd64=$KERNEL_PKG
base=$BASE_ID
extlinux=$EXTLINUX_VERSION
modules=$(tr '\n' ' ' <"$R/etc/modules.order")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$OUT/iso/x86_64"
echo "installer ISO ready in $OUT/iso"
