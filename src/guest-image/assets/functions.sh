# Shell functions shared by the guest's /init (stage 1) and /etc/init.d/rcS (stage 2); busybox sh.
GUEST_LIB=/usr/lib/guest

# Mounts proc, sys, dev and dev/pts unless already there (stage 1 moves them into the disk root).
mount_kernel_fs() {
  [ -e /proc/self ] || mount -t proc proc /proc
  [ -d /sys/class ] || mount -t sysfs sysfs /sys
  [ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
  mkdir -p /dev/pts /dev/shm
  [ -e /dev/pts/ptmx ] || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
}

# load_modules [LIST]: insmod every module of /etc/guest/LIST (default "modules") not loaded yet, in the
# order the build computed ("name path" lines).
load_modules() {
  list=/etc/guest/${1:-modules}
  [ -r "$list" ] || return 0
  while read -r name path; do
    [ -n "$name" ] || continue
    [ -d "/sys/module/$name" ] && continue
    insmod "$path" 2>/dev/null || echo "guest: insmod $name failed"
  done <"$list"
}

# Prints the word after "key=" on the kernel command line (empty when absent).
cmdline_arg() {
  set -f
  for arg in $(cat /proc/cmdline); do
    case "$arg" in "$1"=*) set +f; echo "${arg#*=}"; return 0 ;; esac
  done
  set +f
  return 1
}

# Resolves LABEL=/UUID=/a path to a block device, waiting up to 3 s for it to appear.
resolve_dev() {
  i=0
  while [ $i -lt 30 ]; do
    case "$1" in
      LABEL=* | UUID=*) dev=$(findfs "$1" 2>/dev/null) ;;
      *) dev=$1 ;;
    esac
    if [ -n "$dev" ] && [ -b "$dev" ]; then echo "$dev"; return 0; fi
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# json_flat FILE: writes FILE.flat ("path<TAB>value" lines); returns 1 when FILE is not valid JSON.
json_flat() {
  awk -f "$GUEST_LIB/json-flat.awk" "$1" >"$1.flat"
}

# jget FLAT PATH: the value at PATH (first match), empty when absent.
jget() {
  [ -r "$1" ] || return 0
  awk -F '\t' -v k="$2" '$1 == k { print substr($0, length(k) + 2); exit }' "$1"
}

# jvalues FLAT PREFIX: every value directly under the object PREFIX (e.g. public_keys), one per line.
jvalues() {
  [ -r "$1" ] || return 0
  awk -F '\t' -v p="$2." 'index($1, p) == 1 && index(substr($1, length(p) + 1), ".") == 0 {
    print substr($0, length($1) + 2) }' "$1"
}

# http_get PATH OUT: GETs http://169.254.169.254PATH with nc (busybox wget crashes here); 0 on HTTP 200.
http_get() {
  raw=/run/guest/http.raw
  printf 'GET %s HTTP/1.0\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n' "$1" |
    nc -w 2 169.254.169.254 80 >"$raw" 2>/dev/null
  head -n 1 "$raw" 2>/dev/null | grep -q '^HTTP/1\.[01] 200' || return 1
  n=$(awk '{ n += length($0) + 1 } /^\r?$/ { print n; exit }' "$raw")
  [ -n "$n" ] || return 1
  tail -c +$((n + 1)) "$raw" >"$2"
}

# trace LABEL: prints "GUEST-TRACE <uptime> LABEL" when the kernel command line has monostack.trace=1.
trace() {
  [ "$GUEST_TRACE" = 1 ] || return 0
  read -r up _ </proc/uptime
  echo "GUEST-TRACE $up $*"
}

# The first global IPv4 address, or nothing.
first_ipv4() {
  ip -4 -o addr show scope global 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }'
}
