// One fake guest: its record, its serial console (with a readiness line) and its deterministic snapshot image.
import { createHash } from 'node:crypto';
import type {
  DiskSpec,
  FlavorSpec,
  GuestDiagnostics,
  GuestPowerState,
  GuestSpec,
  NicSpec,
} from '../../hypervisor-driver.ts';

/** The console line the fake prints once a guest has booted, after CirrOS's getty prompt. */
export function readinessLine(hostname: string): string {
  return `${hostname} login: `;
}

/** A fake guest as kept in memory and in the state file (plain JSON). */
export interface FakeGuest {
  spec: GuestSpec;
  power: GuestPowerState;
  rescued: boolean;
  rescueImageId?: string;
  /** When the guest last booted (ms since the epoch); null while it never ran or is off. */
  bootedAt: number | null;
  /** Whether the readiness lines of the current boot were printed. */
  readyLogged: boolean;
  disks: DiskSpec[];
  nics: NicSpec[];
  console: string[];
}

/** Console lines kept per guest; older ones are dropped, as a serial log rotates. */
export const CONSOLE_LINES_KEPT = 200;

export function copySpec(spec: GuestSpec): GuestSpec {
  const copy: GuestSpec = { ...spec, flavor: copyFlavor(spec.flavor), metadata: { ...spec.metadata } };
  if (spec.nics) copy.nics = spec.nics.map((n) => ({ ...n }));
  return copy;
}

export function copyFlavor(flavor: FlavorSpec): FlavorSpec {
  return { ...flavor, extraSpecs: { ...flavor.extraSpecs } };
}

export function newGuest(spec: GuestSpec): FakeGuest {
  return {
    spec: copySpec(spec),
    power: 'shutdown',
    rescued: false,
    bootedAt: null,
    readyLogged: false,
    disks: [],
    nics: (spec.nics ?? []).map((n) => ({ ...n })),
    console: [],
  };
}

export function appendConsole(guest: FakeGuest, ...lines: string[]): void {
  guest.console.push(...lines);
  if (guest.console.length > CONSOLE_LINES_KEPT)
    guest.console.splice(0, guest.console.length - CONSOLE_LINES_KEPT);
}

/** Marks a (re)boot: the kernel lines now, the readiness lines once bootMs has passed. */
export function boot(guest: FakeGuest, now: number): void {
  guest.power = 'running';
  guest.bootedAt = now;
  guest.readyLogged = false;
  const source = guest.rescued
    ? `rescue image ${guest.rescueImageId ?? guest.spec.imageId}`
    : guest.spec.imageId;
  appendConsole(
    guest,
    `[    0.000000] Linux version 6.1.0-fake (monostack fake hypervisor) booting from ${source}`,
    `[    0.000000] Memory: ${guest.spec.flavor.memoryMb}MB, CPUs: ${guest.spec.flavor.vcpus}`,
    `cloud-init: datasource ${guest.spec.configDrive ? 'ConfigDrive' : 'OpenStack metadata service'}`,
  );
}

export function powerOff(guest: FakeGuest, clean: boolean): void {
  if (clean && guest.power === 'running') appendConsole(guest, 'reboot: Power down');
  guest.power = 'shutdown';
  guest.bootedAt = null;
  guest.readyLogged = false;
}

/** Prints the readiness lines when the boot has had bootMs; returns whether the console shows readiness. */
export function settleConsole(guest: FakeGuest, now: number, bootMs: number): boolean {
  if (guest.power !== 'running' || guest.bootedAt === null) return guest.readyLogged;
  if (!guest.readyLogged && now >= guest.bootedAt + bootMs) {
    appendConsole(guest, 'cloud-init: modules:final finished', readinessLine(guest.spec.hostname));
    guest.readyLogged = true;
  }
  return guest.readyLogged;
}

/**
 * A small qcow2-looking image: the qcow2 magic and version 3 header fields, then bytes derived from the guest's
 * image, id and root size, so two snapshots of one guest are equal and two guests' differ.
 */
export function snapshotBytes(guest: FakeGuest): Uint8Array {
  const out = Buffer.alloc(512);
  out.write('QFI\xfb', 0, 'latin1');
  out.writeUInt32BE(3, 4); // version
  out.writeUInt32BE(16, 20); // cluster_bits
  out.writeBigUInt64BE(BigInt(guest.spec.flavor.rootGb) * 1024n ** 3n, 24); // virtual size
  const seed = `${guest.spec.imageId}:${guest.spec.id}:${guest.spec.flavor.rootGb}`;
  for (let i = 104, n = 0; i < out.length; i += 32, n++) {
    createHash('sha256').update(`${seed}:${n}`).digest().copy(out, i);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function diagnosticsOf(guest: FakeGuest, now: number): GuestDiagnostics {
  const uptime = guest.bootedAt === null ? 0 : Math.max(0, Math.floor((now - guest.bootedAt) / 1000));
  const cpus = guest.spec.flavor.vcpus;
  return {
    state: guest.power,
    driver: 'fake',
    hypervisor: 'fake',
    hypervisorOs: 'fake-os',
    uptime,
    configDrive: guest.spec.configDrive,
    numCpus: cpus,
    numDisks: 1 + guest.disks.length,
    numNics: guest.nics.length,
    memoryDetails: { maximum: guest.spec.flavor.memoryMb, used: 0 },
    cpuDetails: Array.from({ length: cpus }, (_, id) => ({ id, time: uptime * 1e9, utilisation: null })),
    nicDetails: guest.nics.map((n) => ({ macAddress: n.macAddress, rxOctets: 0, txOctets: 0 })),
    diskDetails: Array.from({ length: 1 + guest.disks.length }, () => ({
      readBytes: 0,
      writeBytes: 0,
      errorsCount: 0,
    })),
  };
}
