#!/bin/sh
# Prints "GUEST-DISKS name:KiB …" (or "GUEST-DISKS none") on the console at start and whenever the set of
# whole disks in /proc/partitions changes; polls twice a second with shell builtins only (and sleep).
last=unset
while :; do
  cur=
  while read -r major minor blocks name; do
    case "$name" in
      vd[a-z] | vd[a-z][a-z] | sd[a-z] | sd[a-z][a-z] | sr[0-9]* | xvd[a-z] | nvme[0-9]n[0-9]) cur="$cur $name:$blocks" ;;
    esac
  done </proc/partitions
  if [ "$cur" != "$last" ]; then
    # The leading newline ends a prompt the console shell may have left without one.
    printf '\nGUEST-DISKS%s\n' "${cur:- none}"
    last=$cur
  fi
  sleep 0.5
done
