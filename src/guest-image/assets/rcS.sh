#!/bin/sh
# Monostack test guest, stage 2 (busybox init's sysinit, same on the initramfs and on the disk): finds the
# metadata (config drive, else the metadata service), configures the NICs, applies hostname and SSH keys, runs
# #! user data once per instance, starts dropbear and prints the GUEST-READY line.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
. /usr/lib/guest/functions.sh
mount_kernel_fs
mkdir -p /run /tmp
grep -q ' /run ' /proc/mounts || mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
md=/run/guest
mkdir -p "$md" /var/lib/guest /root
GUEST_TRACE=$(cmdline_arg monostack.trace)
trace rcS
load_modules
chown 0:0 /root && chmod 700 /root
ip link set lo up
hostname "$(cat /etc/hostname 2>/dev/null || echo guest)"

# The ACPI power button (QMP system_powerdown) runs /etc/acpi/PWRF/00000080.
[ -e /dev/input/event0 ] && acpid -l /run/acpid.log
trace acpid

source=none
cd_dev=$(findfs LABEL=config-2 2>/dev/null || findfs LABEL=CONFIG-2 2>/dev/null)
if [ -n "$cd_dev" ]; then
  mkdir -p /mnt/config
  if mount -o ro "$cd_dev" /mnt/config 2>/dev/null; then
    for f in meta_data.json user_data network_data.json; do
      [ -f "/mnt/config/openstack/latest/$f" ] && cp "/mnt/config/openstack/latest/$f" "$md/$f"
    done
    umount /mnt/config
    source=config-drive
  fi
fi
trace config-drive $source

# Networking: static IPv4 from network_data.json where it gives one, DHCP (udhcpc) on the other NICs.
[ -s "$md/network_data.json" ] && json_flat "$md/network_data.json"
dhcp_ifs=
for path in /sys/class/net/*; do
  ifc=${path##*/}
  case "$ifc" in eth* | ens* | enp*) ;; *) continue ;; esac
  ip link set "$ifc" up
  planned=dhcp
  if [ -s "$md/network_data.json.flat" ]; then
    awk -v mac="$(cat "$path/address")" -f "$GUEST_LIB/net-plan.awk" "$md/network_data.json.flat" >"$md/plan.$ifc"
    while read -r kind a b; do
      case "$kind" in
        mtu) ip link set "$ifc" mtu "$a" ;;
        addr) ip addr add "$a" dev "$ifc" && planned=static ;;
        route) [ "$a" = 0.0.0.0/0 ] && a=default; ip route add "$a" via "$b" dev "$ifc" 2>/dev/null ;;
        dns) echo "nameserver $a" >>/run/resolv.conf ;;
      esac
    done <"$md/plan.$ifc"
  fi
  [ "$planned" = dhcp ] && dhcp_ifs="$dhcp_ifs $ifc"
done
for ifc in $dhcp_ifs; do
  udhcpc -i "$ifc" -s /usr/share/udhcpc/default.script -t 3 -T 1 -A 2 -n -O staticroutes -O mtu \
    >/dev/null 2>&1 &
done
wait
trace network

if [ "$source" = none ] && [ -n "$(first_ipv4)" ] && http_get /openstack/latest/meta_data.json "$md/meta_data.json"; then
  source=metadata-service
  http_get /openstack/latest/user_data "$md/user_data" || rm -f "$md/user_data"
fi
trace metadata $source

uuid=
if [ -s "$md/meta_data.json" ] && json_flat "$md/meta_data.json"; then
  flat=$md/meta_data.json.flat
  uuid=$(jget "$flat" uuid)
  h=$(jget "$flat" hostname)
  [ -n "$h" ] || h=$(jget "$flat" name)
  h=$(printf %s "$h" | tr -c 'A-Za-z0-9.-' '-' | cut -c 1-63)
  if [ -n "$h" ]; then
    hostname "$h"
    echo "$h" >/etc/hostname
    printf '127.0.0.1 localhost\n127.0.1.1 %s %s\n' "$h" "${h%%.*}" >/etc/hosts
  fi
  jvalues "$flat" public_keys >"$md/keys"
  if [ -s "$md/keys" ]; then
    mkdir -p /root/.ssh
    chmod 700 /root/.ssh
    cp "$md/keys" /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
  fi
fi
trace applied

# #! user data runs once per instance (its marker lives on the root filesystem, so a disk root remembers it).
if [ -s "$md/user_data" ] && [ "$(head -c 2 "$md/user_data")" = '#!' ]; then
  state=/var/lib/guest/instances/${uuid:-unknown}
  if [ ! -e "$state/user-data.done" ]; then
    mkdir -p "$state"
    cp "$md/user_data" "$state/user-data"
    chmod 700 "$state/user-data"
    (cd / && "$state/user-data" </dev/null)
    echo $? >"$state/user-data.done"
    sync
  fi
fi
trace user-data

if [ -s /root/.ssh/authorized_keys ] || [ "$(cmdline_arg monostack.ssh)" = 1 ]; then
  # -R: host keys are made on the first connection and kept in /etc/dropbear (on a disk root, for good):
  # making them here would wait for the kernel's entropy pool, seconds under TCG.
  mkdir -p /etc/dropbear
  dropbear -R -s -P /run/dropbear.pid
fi

read -r up _ </proc/uptime
echo "GUEST-READY $(first_ipv4 | grep . || echo none) hostname=$(hostname) uptime=$up"
load_modules modules.late
