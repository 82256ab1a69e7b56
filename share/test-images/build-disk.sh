#!/bin/sh
# Build the disk-image board: an x86_64 kernel with the modules that read a virtio or IDE disk holding
# ext4 (and drive a virtio network card),
# and disk images whose ext4 partition is the busybox root filesystem.
#
# usage: share/test-images/build-disk.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces, beside build.sh's images (which it builds first: the root filesystem is its busybox tree):
#   OUT/disk/x86_64/bzImage                Debian linux-image-amd64 kernel (the same .deb as the modules)
#   OUT/disk/x86_64/initramfs-disk.cpio.gz loads virtio, IDE + ext4 modules, mounts root= read-write and
#                                          switch_roots into it (a shell on ttyS0 if it cannot)
#   OUT/disk/x86_64/disk.img               raw disk, MBR: partition 1 = 4 MiB (empty), partition 2 = ext4
#                                          root filesystem (label lavaroot): boot with root=/dev/vda2
#   OUT/disk/x86_64/disk.qcow2             the same disk as qcow2
#   OUT/disk/STAMP                         what was built from what
#
# Needs apt-get/dpkg-deb (Debian's mirror only), cpio, gzip, mke2fs (e2fsprogs), qemu-img (qemu-utils).
# The modules come from the kernel's own .deb, so the kernel here always matches them.
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT_ID=$(cat "$HERE/build-disk.sh" "$HERE/build.sh" "$HERE/mkinitramfs.sh" "$HERE/kernel_modules.py" | cksum | cut -d' ' -f1)
# what the disk board's kernel needs to read its root (kernel_modules.py adds their prerequisites);
# IDE too: a QEMU x86 board gives the test overlay's disk on IDE, as the reference's boards do
MODULES="virtio_pci virtio_blk virtio_net crc32c_generic ext4 ata_piix ata_generic sd_mod"

sh "$HERE/build.sh" "$OUT" >/dev/null
mkdir -p "$OUT/disk"
OUT=$(cd "$OUT" && pwd)
D="$OUT/disk"

all_present() {
    for f in x86_64/bzImage x86_64/initramfs-disk.cpio.gz x86_64/disk.img x86_64/disk.qcow2; do
        [ -s "$D/$f" ] || return 1
    done
}
if all_present && [ -f "$D/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$D/STAMP"; then
    echo "disk test images up to date in $D"
    exit 0
fi
if command -v flock >/dev/null 2>&1; then
    exec 9>"$D/.lock"
    flock 9
    if all_present && [ -f "$D/STAMP" ] && grep -qx "script=$SCRIPT_ID" "$D/STAMP"; then
        echo "disk test images up to date in $D"
        exit 0
    fi
fi
PATH="$PATH:/sbin:/usr/sbin"
for tool in apt-get apt-cache dpkg-deb cpio gzip mke2fs qemu-img; do
    command -v $tool >/dev/null 2>&1 || { echo "build-disk.sh: '$tool' is needed" >&2; exit 2; }
done

WORK="$D/.work"
rm -rf "$WORK"
mkdir -p "$WORK/deb" "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/root" "$WORK/initrd"
trap 'rm -rf "$WORK"' EXIT
APT="-o Dir::State::Lists=$WORK/apt/lists -o Dir::Cache=$WORK/apt/cache
     -o APT::Architectures::=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q"
# shellcheck disable=SC2086
apt-get $APT update >"$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log" >&2; exit 1; }
# shellcheck disable=SC2086
KX=$(apt-cache $APT depends "linux-image-amd64:amd64" | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KX" ] || { echo "build-disk.sh: cannot resolve linux-image-amd64" >&2; exit 1; }
echo "build-disk.sh: downloading $KX"
# shellcheck disable=SC2086
(cd "$WORK/deb" && apt-get $APT download "$KX") >"$WORK/download.log" 2>&1 || { cat "$WORK/download.log" >&2; exit 1; }
DEB=$(ls "$WORK"/deb/linux-image-*.deb)
mkdir -p "$WORK/k"
dpkg-deb --fsys-tarfile "$DEB" | (cd "$WORK/k" && tar -x --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/*')
mkdir -p "$D/x86_64"
cp "$WORK"/k/boot/vmlinuz-* "$D/x86_64/bzImage.new"

# the busybox root filesystem: build.sh's shell image, unpacked
(cd "$WORK/root" && gzip -dc "$OUT/x86_64/initramfs.cpio.gz" | cpio -id --quiet)

# the initramfs: the same tree, the modules, and an /init that mounts the disk's root
(cd "$WORK/initrd" && gzip -dc "$OUT/x86_64/initramfs.cpio.gz" | cpio -id --quiet)
mkdir -p "$WORK/initrd/lib/modules" "$WORK/initrd/newroot"
# shellcheck disable=SC2086
python3 "$HERE/kernel_modules.py" "$WORK/k/lib/modules/$(ls "$WORK/k/lib/modules")/kernel" "$WORK/initrd/lib/modules" \
    $MODULES | sed 's/\.ko$//' > "$WORK/initrd/lib/modules/order"  # names: share/corpus-run.py's /init reads them too
cat > "$WORK/initrd/init" <<'EOF'
#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko || echo "init: cannot load $m"; done
root=$(sed -n 's/.*[ ^]root=\([^ ]*\).*/\1/p' /proc/cmdline)
n=0
while [ -n "$root" ] && [ ! -b "$root" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if [ -n "$root" ] && mount -o rw "$root" /newroot; then
    echo "init: root $root mounted, switching to it"
    mount --move /dev /newroot/dev
    umount /proc /sys
    exec switch_root /newroot /init
fi
echo "init: cannot mount root '$root', staying in the initramfs"
hostname lava
while true; do setsid cttyhack /bin/sh -l; done
EOF
chmod 755 "$WORK/initrd/init"
(cd "$WORK/initrd" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) > "$D/x86_64/initramfs-disk.cpio.gz.new"

# the disk: MBR, partition 1 at 1 MiB (4 MiB, empty), partition 2 at 5 MiB (24 MiB, ext4 root)
mke2fs -q -F -t ext4 -L lavaroot -d "$WORK/root" -E root_owner=0:0 "$WORK/root.ext4" 24M
truncate -s 29M "$WORK/disk.img"
# one MBR partition entry: status, CHS (unused), type, CHS, first LBA, sector count (little endian)
entry() {
    printf '\000\000\000\000\203\000\000\000'
    for v in "$1" "$2"; do
        printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((v & 255)) $((v >> 8 & 255)) $((v >> 16 & 255)) $((v >> 24 & 255)))"
    done
}
{ entry 2048 8192; entry 10240 49152; } | dd of="$WORK/disk.img" bs=1 seek=446 conv=notrunc status=none
printf '\125\252' | dd of="$WORK/disk.img" bs=1 seek=510 conv=notrunc status=none
dd if="$WORK/root.ext4" of="$WORK/disk.img" bs=1M seek=5 conv=notrunc,sparse status=none
qemu-img convert -q -f raw -O qcow2 "$WORK/disk.img" "$D/x86_64/disk.qcow2"
mv "$WORK/disk.img" "$D/x86_64/disk.img"
mv "$D/x86_64/bzImage.new" "$D/x86_64/bzImage"
mv "$D/x86_64/initramfs-disk.cpio.gz.new" "$D/x86_64/initramfs-disk.cpio.gz"
cat >"$D/STAMP" <<EOF
script=$SCRIPT_ID
kernel-amd64=$KX
modules=$(tr "\n" " " < "$WORK/initrd/lib/modules/order")
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
ls -l "$D/x86_64"
echo "disk test images ready in $D"
