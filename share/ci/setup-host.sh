#!/bin/sh
# Installs the Debian packages the lab and its tests use, when run as root and they are missing.
set -e
# libsystemd-dev and pkg-config: pip builds pdudaemon's systemd-python dependency from source;
# chromium: the browser tests drive it with Playwright
# the virtual peers of the boards (see ../shared/spec/virtual-peers.md): NFS, NBD, IPMI, iPXE,
# OVMF + GRUB, fastboot, ssh, containers, and the mail/IRC/proxy/coordinator peers of the tests
PACKAGES="postgresql qemu-system-x86 qemu-system-arm qemu-system-ppc u-boot-qemu busybox-static cpio telnet ser2net socat git xz-utils zstd libsystemd-dev pkg-config chromium
 nfs-ganesha nfs-ganesha-vfs rpcbind nbd-server openipmi ipmitool ipxe-qemu ovmf grub-efi-amd64-bin grub-common e2tools qemu-utils xorriso
 fastboot mkbootimg android-sdk-libsparse-utils abootimg openssh-server openssh-client dropbear-bin docker.io docker-compose lxc dnsmasq-base
 python3-aiosmtpd ngircd squid lava-coordinator"
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
# another apt (the package check, a second test run) may hold dpkg's lock: wait for it
APT_GET="apt-get -o DPkg::Lock::Timeout=600"
$APT_GET update -q >/dev/null
# the peers' own services (squid, ngircd, lava-coordinator, dockerd...) must not start on their
# default ports: the lab and the tests start the ones they need with their own configuration
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive $APT_GET install -y -q --no-install-recommends $missing >/dev/null
