#!/bin/sh
# Monostack test guest, shutdown (busybox init runs this before it kills everything and powers off): stop the
# daemons and leave the root filesystem clean.
[ -r /run/dropbear.pid ] && kill "$(cat /run/dropbear.pid)" 2>/dev/null
sync
mount -o remount,ro / 2>/dev/null
exit 0
