// The HypervisorDriver seam: the primitives a compute agent needs from a hypervisor; the reconciler owns the diff.

/** A guest's id is its server's id: one server never has two guests. */
export type GuestId = string;

/** Observed power of a guest, as a hypervisor reports it. */
export type GuestPowerState = 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended';

/** Nova's power_state codes (nova/compute/power_state.py), the numbers the control plane stores. */
export const PowerStateCode = Object.freeze({
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
});

/** Maps an observed guest power state to its Nova power_state code; an absent guest is NOSTATE. */
export function powerStateCode(state: GuestPowerState | undefined): number {
  switch (state) {
    case 'running':
      return PowerStateCode.RUNNING;
    case 'paused':
      return PowerStateCode.PAUSED;
    case 'shutdown':
      return PowerStateCode.SHUTDOWN;
    case 'crashed':
      return PowerStateCode.CRASHED;
    case 'suspended':
      return PowerStateCode.SUSPENDED;
    default:
      return PowerStateCode.NOSTATE;
  }
}

export interface HypervisorInfo {
  /** Nova's hypervisor_type: 'fake', 'QEMU', … */
  hypervisorType: string;
  /** Nova's integer form of the version: major*1_000_000 + minor*1_000 + micro. */
  hypervisorVersion: number;
  /** The node name this driver reports (Nova's hypervisor_hostname). */
  hostname: string;
  /** Nova's cpu_info: arch, model, vendor, topology, features. */
  cpuInfo: Readonly<Record<string, unknown>>;
}

export interface HostInventory {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  /** os-traits names this host offers (COMPUTE_*, HW_CPU_*), reported to placement. */
  traits: string[];
}

export interface FlavorSpec {
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  ephemeralGb: number;
  swapMb: number;
  extraSpecs: Record<string, string>;
}

/** What a guest should be: the desired shape the control plane hands the agent. */
export interface GuestSpec {
  id: GuestId;
  name: string;
  hostname: string;
  flavor: FlavorSpec;
  imageId: string;
  userData?: string;
  keyData?: string;
  metadata: Record<string, string>;
  configDrive: boolean;
  /** The guest's NICs (ports), in order; created with the guest and plugged before it runs. */
  nics?: NicSpec[];
}

/** What a hypervisor says a guest is. */
export interface GuestObserved {
  id: GuestId;
  powerState: GuestPowerState;
  /** True while the guest runs from a rescue image. */
  rescued?: boolean;
  /** True once the guest's console shows it booted (login prompt or cloud-init's final line). */
  consoleReady?: boolean;
}

export interface StopOptions {
  /** How long to wait for a clean (ACPI) shutdown before powering off; 0 powers off at once. */
  timeoutMs?: number;
}

export type RebootType = 'SOFT' | 'HARD';

export interface RescueOptions {
  /** Image to boot the rescue disk from; the driver's default (the guest's own image) when absent. */
  imageId?: string;
}

export interface SnapshotData {
  bytes: Uint8Array | AsyncIterable<Uint8Array>;
  diskFormat: string;
  containerFormat: string;
}

export interface DiskSpec {
  /** The volume id (or another stable key); attach is idempotent on it. */
  id: string;
  /** Guest device name ('/dev/vdb'); the driver picks one when absent. */
  device?: string;
  /** Where the disk lives: a file path, an NBD URL, … */
  source: string;
  readOnly?: boolean;
}

export interface NicSpec {
  /** The port id; attach is idempotent on it. */
  id: string;
  macAddress: string;
  /** The host-side device to plug into (a tap or bridge name). */
  device?: string;
  mtu?: number;
  /** The Neutron network of the port (the VIF plugger wires the device into it). */
  networkId?: string;
}

/** Nova's server diagnostics (the 2.48 shape), camel-cased. */
export interface GuestDiagnostics {
  state: GuestPowerState;
  driver: string;
  hypervisor: string;
  hypervisorOs: string;
  uptime: number;
  configDrive: boolean;
  numCpus: number;
  numDisks: number;
  numNics: number;
  memoryDetails: { maximum: number; used: number };
  cpuDetails: { id: number; time: number; utilisation: number | null }[];
  nicDetails: { macAddress: string; rxOctets: number; txOctets: number }[];
  diskDetails: { readBytes: number; writeBytes: number; errorsCount: number }[];
}

/**
 * A hypervisor as the compute agent sees it. Every mutating call is idempotent: reaching the state a call asks
 * for again succeeds and changes nothing. Calls on a guest that does not exist throw GuestNotFound, except
 * create (which defines it) and destroy (absent is success). A call that cannot apply in the guest's present
 * power state throws InvalidGuestState. Hypervisor failures throw DriverError; `transient` says whether retrying
 * the same call later may succeed.
 */
export interface HypervisorDriver {
  readonly info: HypervisorInfo;
  /** Capacity this host offers to placement. */
  inventory(): Promise<HostInventory>;
  /** Every guest on this host, including ones no server claims (the truth for resync). */
  listGuests(): Promise<GuestObserved[]>;
  /** One guest, or undefined when absent. */
  findGuest(id: GuestId): Promise<GuestObserved | undefined>;
  /** Defines a guest (disks, config drive) without starting it; one that exists already is left as it is. */
  create(spec: GuestSpec): Promise<void>;
  /** Powers a shut-down or crashed guest on; running is success; paused/suspended throw InvalidGuestState. */
  start(id: GuestId): Promise<void>;
  /** Shuts a guest down (clean first, then hard after timeoutMs); shut down is success. */
  stop(id: GuestId, opts?: StopOptions): Promise<void>;
  /** SOFT: a clean restart of a running guest (else InvalidGuestState). HARD: from any state to running. */
  reboot(id: GuestId, type: RebootType): Promise<void>;
  /** Freezes a running guest in memory; paused is success. */
  pause(id: GuestId): Promise<void>;
  /** Thaws a paused guest; running is success. */
  unpause(id: GuestId): Promise<void>;
  /** Saves a running or paused guest's memory to disk and stops it; suspended is success. */
  suspend(id: GuestId): Promise<void>;
  /** Restores a suspended guest; running is success. */
  resume(id: GuestId): Promise<void>;
  /** Removes a guest and its local disks; absent is success. */
  destroy(id: GuestId): Promise<void>;
  /** Gives a guest a new flavor, keeping its power state (a running guest is restarted into it). */
  resize(id: GuestId, flavor: FlavorSpec): Promise<void>;
  /** Replaces the root disk from spec.imageId and the guest's definition; a running guest comes back running. */
  rebuild(id: GuestId, spec: GuestSpec): Promise<void>;
  /** Captures the root disk in any power state; repeated calls return equivalent images. */
  snapshot(id: GuestId): Promise<SnapshotData>;
  /** Boots the guest from a rescue disk with its own disk attached second; rescued is success. */
  rescue(id: GuestId, opts?: RescueOptions): Promise<void>;
  /** Boots the guest from its own disk again; not rescued is success. */
  unrescue(id: GuestId): Promise<void>;
  /** The last `length` lines of the guest's serial console (all when absent). */
  consoleOutput(id: GuestId, length?: number): Promise<string>;
  /** Attaches a disk; one attached under the same id is success. */
  attachDisk(id: GuestId, disk: DiskSpec): Promise<void>;
  /** Detaches a disk; not attached is success. */
  detachDisk(id: GuestId, diskId: string): Promise<void>;
  /** Plugs a NIC; one plugged under the same id is success. */
  attachNic(id: GuestId, nic: NicSpec): Promise<void>;
  /** Unplugs a NIC; not plugged is success. */
  detachNic(id: GuestId, nicId: string): Promise<void>;
  /** Counters of a guest, as Nova's server diagnostics shows them. */
  diagnostics(id: GuestId): Promise<GuestDiagnostics>;
  /** Where a console proxy on this host reaches a guest's VNC or serial console; undefined when it has none. */
  consoleEndpoint(id: GuestId, kind: ConsoleKind): Promise<ConsoleEndpoint | undefined>;
}

export type ConsoleKind = 'vnc' | 'serial';

/** A console a proxy can connect to: a unix socket on the guest's host (one client at a time for serial). */
export interface ConsoleEndpoint {
  unixSocket: string;
}

/** The operations of a driver, as names for delays, fault injection and statistics. */
export type DriverOp = Exclude<keyof HypervisorDriver, 'info'>;

/** A hypervisor failure; `code` is the HTTP-like code Nova records in the server's fault. */
export class DriverError extends Error {
  readonly transient: boolean;
  readonly code: number;
  constructor(message: string, opts: { transient?: boolean; code?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DriverError';
    this.transient = opts.transient ?? false;
    this.code = opts.code ?? 500;
  }
}

/** The guest does not exist on this host. */
export class GuestNotFound extends DriverError {
  readonly guestId: GuestId;
  constructor(guestId: GuestId) {
    super(`Instance ${guestId} could not be found.`, { code: 404 });
    this.name = 'GuestNotFound';
    this.guestId = guestId;
  }
}

/** The guest's power state does not allow the operation. */
export class InvalidGuestState extends DriverError {
  readonly guestId: GuestId;
  readonly state: GuestPowerState;
  readonly op: string;
  constructor(guestId: GuestId, state: GuestPowerState, op: string) {
    // Wording after Nova's InstanceInvalidState (nova/exception.py); code 409 as the API maps it.
    super(`Instance ${guestId} in power_state ${state}. Cannot ${op} while the instance is in this state.`, {
      code: 409,
    });
    this.name = 'InvalidGuestState';
    this.guestId = guestId;
    this.state = state;
    this.op = op;
  }
}
