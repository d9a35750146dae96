#!/bin/sh
# Monostack test guest, stage 1 (the initramfs /init): mounts the kernel filesystems, loads the shipped modules,
# then switch_roots to the disk named by root= (staying in the initramfs when it cannot mount it); either way it
# ends in busybox init, whose sysinit (/etc/init.d/rcS) does the rest.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
. /usr/lib/guest/functions.sh
mount_kernel_fs
exec </dev/console >/dev/console 2>&1
GUEST_TRACE=$(cmdline_arg monostack.trace)
trace init
load_modules
trace modules

root=$(cmdline_arg root)
mode=rw
set -f
for arg in $(cat /proc/cmdline); do
  case "$arg" in ro) mode=ro ;; rw) mode=rw ;; esac
done
set +f

switch_to_disk() {
  dev=$(resolve_dev "$1") || return 1
  mkdir -p /newroot
  mount -o "$mode" "$dev" /newroot 2>/dev/null || return 1
  if [ ! -x /newroot/sbin/init ] || [ ! -d /newroot/proc ]; then
    umount /newroot
    return 1
  fi
  echo "GUEST-ROOT $dev"
  mount --move /dev /newroot/dev
  mount --move /sys /newroot/sys
  mount --move /proc /newroot/proc
  exec switch_root /newroot /sbin/init
}

case "$root" in
  '' | /dev/ram* | /dev/root) echo "GUEST-ROOT initramfs" ;;
  *) switch_to_disk "$root" || echo "GUEST-ROOT initramfs (could not mount $root)" ;;
esac
exec /sbin/init
