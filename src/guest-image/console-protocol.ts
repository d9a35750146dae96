// The lines the test guest prints on its serial console, and their parsers (for the QEMU driver and tests).

/** `GUEST-READY <ipv4|none> hostname=<h> uptime=<s>`: metadata applied, user data run, sshd started. */
export const GUEST_READY = /^GUEST-READY (\S+) hostname=(\S*) uptime=([0-9.]+)\s*$/;
/** `GUEST-DISKS <name>:<KiB> …` or `GUEST-DISKS none`: at start and whenever the guest's whole disks change. */
export const GUEST_DISKS = /^GUEST-DISKS((?: \S+:\d+)+| none)\s*$/;
/** `GUEST-ROOT /dev/vda`, `GUEST-ROOT initramfs` or `GUEST-ROOT initramfs (could not mount …)`. */
export const GUEST_ROOT = /^GUEST-ROOT (\S+)/;
/** Printed when the ACPI power button was pressed and the guest starts powering off. */
export const GUEST_POWEROFF = /^GUEST-POWEROFF\s*$/;

export interface GuestReady {
  /** The first global IPv4 address, or undefined when the guest has none. */
  ip?: string;
  hostname: string;
  uptimeSeconds: number;
}

/** Parses one console line (without its newline; a trailing \r is ignored). */
export function parseGuestReady(line: string): GuestReady | undefined {
  const m = GUEST_READY.exec(line.replace(/\r$/, ''));
  if (!m) return undefined;
  return {
    ...(m[1] !== 'none' ? { ip: m[1] } : {}),
    hostname: m[2] ?? '',
    uptimeSeconds: Number(m[3]),
  };
}

/** The disks of a GUEST-DISKS line (name → size in KiB), or undefined for another line. */
export function parseGuestDisks(line: string): Map<string, number> | undefined {
  const m = GUEST_DISKS.exec(line.replace(/\r$/, ''));
  if (!m) return undefined;
  const disks = new Map<string, number>();
  if (m[1] === ' none') return disks;
  for (const item of m[1]!.trim().split(' ')) {
    const at = item.lastIndexOf(':');
    disks.set(item.slice(0, at), Number(item.slice(at + 1)));
  }
  return disks;
}
