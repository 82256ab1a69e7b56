# Steps the test-image build scripts share: sourced (. "$HERE/lib.sh"), never run on its own.
# The sourcing script sets OUT and WORK and defines up_to_date.

# build_once LABEL LOCK: ends the script when up_to_date says its images are current, before and
# again after taking LOCK (another build of the same images may just have finished them)
build_once() {
    up_to_date && { echo "$1 up to date in $OUT"; exit 0; }
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$2"
        flock 9
        up_to_date && { echo "$1 up to date in $OUT"; exit 0; }
    fi
    return 0
}

# private_apt ARCH...: APT, apt-get options that keep Debian's package lists under WORK (the host's
# apt state is never touched), for these architectures; reads the lists now
private_apt() {
    mkdir -p "$WORK/deb" "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
    APT="-o Dir::State::Lists=$WORK/apt/lists -o Dir::Cache=$WORK/apt/cache -o Debug::NoLocking=1
         -o APT::Sandbox::User=root -q"
    for arch in "$@"; do APT="$APT -o APT::Architectures::=$arch"; done
    # shellcheck disable=SC2086
    apt-get $APT update >"$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log" >&2; exit 1; }
}

# apt_fetch PACKAGE...: the packages' .deb files into WORK/deb
apt_fetch() {
    # shellcheck disable=SC2086
    (cd "$WORK/deb" && apt-get $APT download "$@") >"$WORK/download.log" 2>&1 \
        || { cat "$WORK/download.log" >&2; exit 1; }
}

# work_dir PATH: WORK, emptied now (with WORK/kernel for a kernel package's files) and removed
# when the script ends
work_dir() {
    WORK=$1
    rm -rf "$WORK"
    mkdir -p "$WORK/kernel"
    trap 'rm -rf "$WORK"' EXIT
}

# kernel_modules_of PACKAGE: the kernel package's lib/modules into WORK/kernel (copy_modules reads them)
kernel_modules_of() {
    echo "$(basename "$0"): downloading $1 (for its modules)"
    apt_fetch "$1"
    dpkg-deb --fsys-tarfile "$WORK"/deb/linux-image-*.deb | (cd "$WORK/kernel" && tar -x ./lib/modules)
}

# copy_modules ROOT MODULE...: the kernel's modules (from WORK/kernel, a linux-image package's
# files) and their prerequisites into ROOT/lib/modules, the load order into ROOT/etc/modules.order
copy_modules() {
    root=$1; shift
    mkdir -p "$root/lib/modules" "$root/etc"
    python3 "$HERE/kernel_modules.py" "$WORK/kernel/lib/modules/$(ls "$WORK/kernel/lib/modules")/kernel" \
        "$root/lib/modules" "$@" >"$root/etc/modules.order"
}

# udhcpc_script PATH: the script busybox's udhcpc runs with the lease in its environment
udhcpc_script() {
    cat >"$1" <<'SCRIPT'
#!/bin/sh
# busybox udhcpc calls this with the lease in the environment
case $1 in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "${router:-}" ] && ip route add default via "${router%% *}" dev "$interface"
    ;;
esac
exit 0
SCRIPT
    chmod 755 "$1"
}

# netroot_images DIR MEMBER: DIR's network-root images from its busybox initramfs.cpio.gz and the
# MEMBER folder (modules, netroot-init.sh as /init): netroot.cpio.gz (the initramfs plus MEMBER,
# whose /init falls back to the initramfs's own, kept as /ramdisk-init), and the busybox board as
# a root filesystem, rootfs.tar.gz (nfsrootfs) and a 32 MiB rootfs.ext4 (nbdroot)
netroot_images() {
    R="$WORK/rootfs"
    mkdir -p "$R"
    (cd "$R" && gzip -dc "$1/initramfs.cpio.gz" | cpio -id --quiet --no-absolute-filenames)
    cp "$HERE/netroot-init.sh" "$2/init"
    chmod 755 "$2/init"
    cp "$R/init" "$2/ramdisk-init"
    (cd "$2" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$WORK/member.cpio.gz"
    cat "$1/initramfs.cpio.gz" "$WORK/member.cpio.gz" >"$1/netroot.cpio.gz.tmp"
    mv "$1/netroot.cpio.gz.tmp" "$1/netroot.cpio.gz"
    # the root filesystem is the busybox board itself: its /init is what switch_root runs
    echo "netroot rootfs" >"$R/etc/lava-rootfs"
    tar -C "$R" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -cf - . | gzip -9n >"$1/rootfs.tar.gz.tmp"
    mv "$1/rootfs.tar.gz.tmp" "$1/rootfs.tar.gz"
    rm -f "$1/rootfs.ext4.tmp"
    E2FSPROGS_FAKE_TIME=0 mke2fs -q -t ext4 -L lava-root -U clear -E root_owner=0:0 -d "$R" "$1/rootfs.ext4.tmp" 32M
    mv "$1/rootfs.ext4.tmp" "$1/rootfs.ext4"
}
