#!/bin/sh
# The ACPI power button (acpid runs /etc/acpi/PWRF/00000080): power off cleanly through busybox init.
# The leading newline ends a prompt the console shell may have left without one.
printf '\nGUEST-POWEROFF\n' >/dev/console
exec poweroff
