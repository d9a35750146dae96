#!/usr/bin/env bash
# Installs the Debian packages Monostack needs (clients, Tempest, PostgreSQL, data-plane tools) when any is missing.
#
# Idempotent: a machine that already has every package does no apt work at all.
# Run as root on Debian 12 / Ubuntu; as another user it only tells what is missing.
set -euo pipefail

PACKAGES=(
  # OpenStack clients and the conformance suite (test/compat, npm run conformance)
  python3-openstackclient
  tempest
  keystone-tempest-plugin
  # PostgreSQL server for the DB dialect tests (scripts/pg-test-server.sh)
  postgresql
  # data plane: guests, disks, DHCP, security groups, routers, consoles, initramfs images
  qemu-system-x86
  qemu-utils
  dnsmasq-base
  nftables
  iproute2
  socat
  # network agent: conntrack (cut flows a removed security-group rule allowed), haproxy (metadata proxy per network)
  conntrack
  haproxy
  # tests: busybox's udhcpc/nc/ping stand in for guests inside namespaces; ISC dhclient is their DHCPv6 client
  busybox
  isc-dhcp-client
  # tests: ssh into guests (inside namespaces) and ssh-keygen
  openssh-client
  # the test guest image: initramfs (cpio), its ext4 disk (mke2fs -d)
  cpio
  e2fsprogs
  # compute: config drives (ISO 9660, label config-2)
  genisoimage
  # compute: x509 keypair generation (os-keypairs type x509 without a public key)
  openssl
  # benchmarks: a C load generator (npm run bench)
  wrk
)

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

# The test guest image is built from Debian packages fetched with `apt-get download` (nothing installed):
# apt's package lists must know the cloud kernel. A machine whose lists were never fetched gets them now.
guest_image_sources() {
  if apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "apt's package lists lack linux-image-cloud-amd64 (the test guest image needs it): run apt-get update as root" >&2
    return 0
  fi
  apt-get -o DPkg::Lock::Timeout=900 update
}

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all ${#PACKAGES[@]} present"
  guest_image_sources
  exit 0
fi

echo "system packages missing: ${missing[*]}"

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root to install them:" >&2
  echo "  sudo bash $0" >&2
  echo "or: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run instead of failing on its lock.
APT_OPTS=(-o DPkg::Lock::Timeout=900 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

apt-get "${APT_OPTS[@]}" update
apt-get "${APT_OPTS[@]}" install -y "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
  is_installed "$pkg" || still+=("$pkg")
done
if [ "${#still[@]}" -ne 0 ]; then
  echo "system packages still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
echo "system packages: installed ${missing[*]}"
# Debian starts haproxy's own service on install; Monostack runs its own haproxy per network and needs none.
for pkg in "${missing[@]}"; do
  if [ "$pkg" = haproxy ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now haproxy >/dev/null 2>&1 || true
  fi
done
guest_image_sources
