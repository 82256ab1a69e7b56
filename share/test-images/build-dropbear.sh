#!/bin/sh
# The x86_64 test board with a network card and an ssh server (dropbear), for secondary connections:
# a job boots it under QEMU on one console and logs in to it over ssh on a second one.
#
# usage: share/test-images/build-dropbear.sh [OUT]
#   OUT defaults to ${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}
#
# Produces, beside build.sh's images (run it first; its files are never touched):
#   OUT/x86_64/initramfs-dropbear.cpio.gz  build.sh's x86_64 board, plus
#       * the virtio-net driver of the very kernel build.sh took (Debian builds it as a module),
#         loaded by /init; eth0 gets QEMU user networking's fixed address 10.0.2.15/24
#       * /usr/sbin/dropbear with its shared libraries, from this host's dropbear-bin package
#         (amd64, as the board), started by /init on port 22 before the first shell prompt;
#         host keys are made at the first connection. Only keys log in: root's
#         /root/.ssh/authorized_keys, which a job puts there with `deploy: authorize: ssh`.
#   OUT/STAMP-dropbear  what was built from what; a second run returns at once
set -eu

OUT=${1:-${LAVA_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/lava/test-images}}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(cd "$OUT" && pwd)
BASE="$OUT/x86_64/initramfs.cpio.gz"
RESULT="$OUT/x86_64/initramfs-dropbear.cpio.gz"
DROPBEAR=/usr/sbin/dropbear
[ -s "$BASE" ] && [ -f "$OUT/STAMP" ] || { echo "build-dropbear.sh: run build.sh first" >&2; exit 2; }
[ -x "$DROPBEAR" ] || { echo "build-dropbear.sh: $DROPBEAR is missing (apt-get install dropbear-bin)" >&2; exit 2; }
[ "$(dpkg --print-architecture)" = amd64 ] || { echo "build-dropbear.sh: the host's dropbear must be amd64" >&2; exit 2; }
KERNEL_PKG=$(sed -n 's/^kernel-amd64=//p' "$OUT/STAMP")
# insmod order: each module after the ones it needs (checked below against each module's depends=)
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"
SCRIPT_ID=$(cksum < "$HERE/build-dropbear.sh" | cut -d' ' -f1)
BASE_ID=$(cksum < "$BASE" | cut -d' ' -f1)
DROPBEAR_VERSION=$(dpkg-query -W -f '${Version}' dropbear-bin 2>/dev/null || echo unknown)

current() {
    [ -s "$RESULT" ] && [ -f "$OUT/STAMP-dropbear" ] \
        && grep -qx "script=$SCRIPT_ID" "$OUT/STAMP-dropbear" && grep -qx "base=$BASE_ID" "$OUT/STAMP-dropbear" \
        && grep -qx "dropbear=$DROPBEAR_VERSION" "$OUT/STAMP-dropbear"
}
current && { echo "dropbear test image up to date in $OUT"; exit 0; }
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.lock-dropbear"
    flock 9
    current && { echo "dropbear test image up to date in $OUT"; exit 0; }
fi

WORK="$OUT/.work-dropbear"
rm -rf "$WORK"
mkdir -p "$WORK/deb" "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/board" "$WORK/kernel"
trap 'rm -rf "$WORK"' EXIT

# the kernel package again, for its modules only (build.sh kept the kernel image alone); private apt state
APT="-o Dir::State::Lists=$WORK/apt/lists -o Dir::Cache=$WORK/apt/cache -o APT::Architectures::=amd64
     -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q"
echo "build-dropbear.sh: downloading $KERNEL_PKG for its network driver"
# shellcheck disable=SC2086
apt-get $APT update >"$WORK/apt.log" 2>&1 || grep '^E:' "$WORK/apt.log" >&2 || true
# shellcheck disable=SC2086
(cd "$WORK/deb" && apt-get $APT download "$KERNEL_PKG") >>"$WORK/apt.log" 2>&1 \
    || { cat "$WORK/apt.log" >&2; exit 1; }
dpkg-deb --fsys-tarfile "$WORK"/deb/linux-image-*.deb \
    | (cd "$WORK/kernel" && tar -x --wildcards './lib/modules/*/kernel/drivers/net/*' './lib/modules/*/kernel/net/core/*' \
                                 './lib/modules/*/kernel/drivers/virtio/*')
KVER=$(ls "$WORK/kernel/lib/modules")

(cd "$WORK/board" && gzip -dc "$BASE" | cpio -i -d --quiet)
B="$WORK/board"
mkdir -p "$B/lib/modules/$KVER" "$B/etc/dropbear" "$B/usr/sbin"
loaded=""
for module in $MODULES; do
    file=$(find "$WORK/kernel/lib/modules/$KVER" -name "$module.ko*" | head -n 1)
    [ -n "$file" ] || { echo "build-dropbear.sh: no $module in $KERNEL_PKG" >&2; exit 1; }
    case $file in
        *.xz) xz -dc "$file" > "$B/lib/modules/$KVER/$module.ko" ;;
        *) cp "$file" "$B/lib/modules/$KVER/$module.ko" ;;
    esac
    for needed in $(grep -ao 'depends=[A-Za-z0-9_,-]*' "$B/lib/modules/$KVER/$module.ko" | sed 's/^depends=//' | tr ',' ' '); do
        case " $loaded " in *" $needed "*) ;; *) echo "build-dropbear.sh: $module needs $needed first" >&2; exit 1 ;; esac
    done
    loaded="${loaded:-} $module"
done

# dropbear and the libraries it loads, in a folder of their own: a glibc in the usual places would be
# picked up by the static busybox's name lookups (the shell's \u prompt) and break the console
LIBS=/usr/lib/dropbear
mkdir -p "$B$LIBS"
cp "$DROPBEAR" "$B$LIBS/dropbear"
ldd "$DROPBEAR" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
    cp -L "$lib" "$B$LIBS/$(basename "$lib")"
done
LOADER=$(ldd "$DROPBEAR" | awk '/^\t\/.*ld-linux/{print $1}')
[ -n "$LOADER" ] || { echo "build-dropbear.sh: no dynamic loader for $DROPBEAR" >&2; exit 1; }
printf '#!/bin/sh\nexec %s --library-path %s %s/dropbear "$@"\n' "$LIBS/$(basename "$LOADER")" "$LIBS" "$LIBS" \
    > "$B/usr/sbin/dropbear"
chmod 755 "$B/usr/sbin/dropbear"

# network and ssh come up before the console's first prompt, so the board is reachable once it prompts
cat > "$WORK/network-and-ssh" <<EOF
for m in $MODULES; do insmod /lib/modules/$KVER/\$m.ko 2>/dev/null; done
if ip link set eth0 up 2>/dev/null; then
    ip addr add 10.0.2.15/24 dev eth0
    ip route add default via 10.0.2.2
    /usr/sbin/dropbear -R -s -p 22 -P /run/dropbear.pid && echo "init: dropbear listening on 10.0.2.15:22"
fi
EOF
awk -v extra="$WORK/network-and-ssh" '
    { print }
    /^ip link set lo up/ { while ((getline line < extra) > 0) print line }
' "$B/init" > "$WORK/init" && mv "$WORK/init" "$B/init" && chmod 755 "$B/init"
grep -q '/usr/sbin/dropbear' "$B/init" || { echo "build-dropbear.sh: could not extend /init" >&2; exit 1; }

(cd "$B" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) > "$RESULT.tmp"
mv "$RESULT.tmp" "$RESULT"
printf 'script=%s\nbase=%s\ndropbear=%s\nkernel-amd64=%s\nbuilt=%s\n' "$SCRIPT_ID" "$BASE_ID" "$DROPBEAR_VERSION" \
    "$KERNEL_PKG" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$OUT/STAMP-dropbear"
echo "dropbear test image: $RESULT"
