#!/bin/sh
# Installs the Debian packages the lab and its tests use, when run as root and they are missing.
set -e
# libsystemd-dev and pkg-config: pip builds pdudaemon's systemd-python dependency from source;
# chromium: the browser tests drive it with Playwright
PACKAGES="postgresql qemu-system-x86 qemu-system-arm u-boot-qemu busybox-static cpio telnet ser2net socat git xz-utils zstd libsystemd-dev pkg-config chromium"
missing=""
for pkg in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages:$missing" >&2
  echo "install them with: sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing"
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
