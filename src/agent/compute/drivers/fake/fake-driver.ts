// The fake hypervisor: keeps guests and power states in memory (optionally in a JSON file), with delays and faults.
import { type Clock, systemClock } from '../../../../platform/clock.ts';
import type { VifPlugger } from '../../../network/control-plane.ts';
import {
  type ConsoleEndpoint,
  type ConsoleKind,
  type DiskSpec,
  type DriverOp,
  type FlavorSpec,
  type GuestDiagnostics,
  type GuestId,
  GuestNotFound,
  type GuestObserved,
  type GuestSpec,
  type HostInventory,
  type HypervisorDriver,
  type HypervisorInfo,
  InvalidGuestState,
  type NicSpec,
  type RebootType,
  type RescueOptions,
  type SnapshotData,
  type StopOptions,
} from '../../hypervisor-driver.ts';
import { type DriverStats, FaultPlan, type FaultPredicate, type FaultRule } from './fake-faults.ts';
import {
  appendConsole,
  boot,
  copyFlavor,
  copySpec,
  diagnosticsOf,
  type FakeGuest,
  newGuest,
  powerOff,
  settleConsole,
  snapshotBytes,
} from './fake-guest.ts';
import { FakeStateFile } from './fake-state-file.ts';

export interface FakeDriverOptions {
  /** Node name reported as hypervisor_hostname; Nova's fake driver says 'fake-mini'. */
  hostname?: string;
  /** Overrides of the default inventory (16 vCPU, 64 GiB RAM, 1000 GiB disk). */
  inventory?: Partial<HostInventory>;
  hypervisorVersion?: number;
  /** Milliseconds each operation takes; 0 (the default) answers at once. */
  delays?: Partial<Record<DriverOp, number>>;
  /** Faults per operation; see FaultRule. */
  faults?: Partial<Record<DriverOp, FaultRule>>;
  /** Decides faults per call, for patterns the rules cannot express. */
  inject?: FaultPredicate;
  /** Milliseconds from a boot until the console shows the readiness line; default 0. */
  bootMs?: number;
  /** A JSON file keeping the guests across processes; use FakeDriver.open() to load it. */
  stateFile?: string;
  clock?: Clock;
  /** Wires NICs that name a host device into their networks when the guest boots or a NIC is attached. */
  vifPlugger?: VifPlugger;
}

export const FAKE_DEFAULT_INVENTORY: Readonly<HostInventory> = Object.freeze({
  vcpus: 16,
  memoryMb: 64 * 1024,
  diskGb: 1000,
  traits: ['COMPUTE_NET_ATTACH_INTERFACE', 'COMPUTE_VOLUME_ATTACH_WITH_TAG', 'COMPUTE_RESCUE_BFV'],
});

/**
 * A first-class hypervisor driver that runs nothing: guests are records whose power state follows the
 * HypervisorDriver contract exactly, so the agent, the control plane and scale benchmarks run against it as they
 * would against QEMU. Cheap enough for 100 hosts x 100 guests in one process.
 */
export class FakeDriver implements HypervisorDriver {
  readonly info: HypervisorInfo;
  readonly #inventory: HostInventory;
  readonly #guests = new Map<GuestId, FakeGuest>();
  readonly #plan: FaultPlan;
  readonly #bootMs: number;
  readonly #clock: Clock;
  readonly #file: FakeStateFile | undefined;
  readonly #vifs: VifPlugger | undefined;

  constructor(opts: FakeDriverOptions = {}) {
    const hostname = opts.hostname ?? 'fake-mini';
    this.info = Object.freeze({
      hypervisorType: 'fake',
      hypervisorVersion: opts.hypervisorVersion ?? 1000,
      hostname,
      cpuInfo: Object.freeze({
        arch: 'x86_64',
        model: 'fake',
        vendor: 'monostack',
        topology: { sockets: 1, cores: opts.inventory?.vcpus ?? FAKE_DEFAULT_INVENTORY.vcpus, threads: 1 },
        features: [],
      }),
    });
    this.#inventory = {
      ...FAKE_DEFAULT_INVENTORY,
      ...opts.inventory,
      traits: [...(opts.inventory?.traits ?? FAKE_DEFAULT_INVENTORY.traits)],
    };
    this.#plan = new FaultPlan(opts.delays, opts.faults, opts.inject);
    this.#bootMs = opts.bootMs ?? 0;
    this.#clock = opts.clock ?? systemClock;
    this.#vifs = opts.vifPlugger;
    this.#file = opts.stateFile
      ? new FakeStateFile(opts.stateFile, {
          get: (id) => this.#guests.get(id),
          all: () => [...this.#guests.values()],
        })
      : undefined;
  }

  /** A driver whose guests are loaded from opts.stateFile, as a restarted agent finds its VMs still there. */
  static async open(opts: FakeDriverOptions): Promise<FakeDriver> {
    const driver = new FakeDriver(opts);
    if (driver.#file) for (const g of await driver.#file.load()) driver.#guests.set(g.spec.id, g);
    return driver;
  }

  // --- test and benchmark controls (not part of the seam) ---

  /** Sets or clears the fault rule of one operation. */
  setFault(op: DriverOp, rule: FaultRule | undefined): void {
    this.#plan.setFault(op, rule);
  }

  setFaultPredicate(predicate: FaultPredicate | undefined): void {
    this.#plan.setPredicate(predicate);
  }

  setDelay(op: DriverOp, ms: number): void {
    this.#plan.setDelay(op, ms);
  }

  stats(): DriverStats {
    return this.#plan.stats();
  }

  get guestCount(): number {
    return this.#guests.size;
  }

  /** Changes a guest behind the agent's back (a crash, a guest shutting itself down, an admin's virsh). */
  async simulate(id: GuestId, event: 'crash' | 'shutdown' | 'vanish'): Promise<void> {
    const guest = this.#guests.get(id);
    if (!guest) return;
    if (event === 'vanish') this.#guests.delete(id);
    else if (event === 'shutdown') powerOff(guest, true);
    else {
      appendConsole(guest, 'Kernel panic - not syncing: fake crash');
      guest.power = 'crashed';
      guest.bootedAt = null;
    }
    await this.#save(id);
  }

  /** Adds a guest no server asked for (left over by a crashed agent, or created by hand). */
  async plant(spec: GuestSpec, power: 'running' | 'shutdown' = 'running'): Promise<void> {
    const guest = newGuest(spec);
    if (power === 'running') boot(guest, this.#clock.now());
    this.#guests.set(spec.id, guest);
    await this.#save(spec.id);
  }

  /** Disks and NICs attached to a guest, as recorded. */
  devices(id: GuestId): { disks: DiskSpec[]; nics: NicSpec[] } {
    const g = this.#need(id);
    return { disks: g.disks.map((d) => ({ ...d })), nics: g.nics.map((n) => ({ ...n })) };
  }

  /** The flavor and image a guest has now. */
  definition(id: GuestId): GuestSpec {
    return copySpec(this.#need(id).spec);
  }

  /** Resolves when the state file holds everything done so far. */
  async flush(): Promise<void> {
    await this.#file?.flush();
  }

  // --- HypervisorDriver ---

  async inventory(): Promise<HostInventory> {
    await this.#plan.enter('inventory');
    return { ...this.#inventory, traits: [...this.#inventory.traits] };
  }

  async listGuests(): Promise<GuestObserved[]> {
    await this.#plan.enter('listGuests');
    const now = this.#clock.now();
    const out: GuestObserved[] = [];
    for (const g of this.#guests.values()) out.push(this.#observe(g, now));
    return out;
  }

  async findGuest(id: GuestId): Promise<GuestObserved | undefined> {
    await this.#plan.enter('findGuest', id);
    const g = this.#guests.get(id);
    return g ? this.#observe(g, this.#clock.now()) : undefined;
  }

  async create(spec: GuestSpec): Promise<void> {
    await this.#plan.enter('create', spec.id);
    if (this.#guests.has(spec.id)) return;
    this.#guests.set(spec.id, newGuest(spec));
    await this.#save(spec.id);
  }

  async start(id: GuestId): Promise<void> {
    await this.#plan.enter('start', id);
    const g = this.#need(id);
    if (g.power === 'running') return;
    if (g.power === 'paused' || g.power === 'suspended') throw new InvalidGuestState(id, g.power, 'start');
    await this.#plug(g.nics);
    boot(g, this.#clock.now());
    await this.#save(id);
  }

  /** As QEMU's taps are wired before `cont`: every NIC with a host device goes to the VIF plugger. */
  async #plug(nics: NicSpec[]): Promise<void> {
    if (!this.#vifs) return;
    for (const n of nics)
      if (n.device && n.networkId)
        await this.#vifs.plug({
          portId: n.id,
          device: n.device,
          networkId: n.networkId,
          macAddress: n.macAddress,
        });
  }

  async stop(id: GuestId, _opts?: StopOptions): Promise<void> {
    await this.#plan.enter('stop', id);
    const g = this.#need(id);
    if (g.power === 'shutdown') return;
    powerOff(g, true);
    await this.#save(id);
  }

  async reboot(id: GuestId, type: RebootType): Promise<void> {
    await this.#plan.enter('reboot', id);
    const g = this.#need(id);
    if (type === 'SOFT' && g.power !== 'running') throw new InvalidGuestState(id, g.power, 'reboot');
    appendConsole(g, type === 'SOFT' ? 'reboot: Restarting system' : 'reboot: Power cycle');
    boot(g, this.#clock.now());
    await this.#save(id);
  }

  async pause(id: GuestId): Promise<void> {
    await this.#transition('pause', id, 'running', 'paused');
  }

  async unpause(id: GuestId): Promise<void> {
    await this.#transition('unpause', id, 'paused', 'running');
  }

  async suspend(id: GuestId): Promise<void> {
    await this.#plan.enter('suspend', id);
    const g = this.#need(id);
    if (g.power === 'suspended') return;
    if (g.power !== 'running' && g.power !== 'paused') throw new InvalidGuestState(id, g.power, 'suspend');
    g.power = 'suspended';
    await this.#save(id);
  }

  async resume(id: GuestId): Promise<void> {
    await this.#transition('resume', id, 'suspended', 'running');
  }

  async destroy(id: GuestId): Promise<void> {
    await this.#plan.enter('destroy', id);
    const g = this.#guests.get(id);
    if (!g || !this.#guests.delete(id)) return;
    await this.#save(id);
    for (const n of g.nics) if (n.device) await this.#vifs?.unplug(n.id).catch(() => {});
  }

  async resize(id: GuestId, flavor: FlavorSpec): Promise<void> {
    await this.#plan.enter('resize', id);
    const g = this.#need(id);
    g.spec.flavor = copyFlavor(flavor);
    if (g.power === 'running') boot(g, this.#clock.now());
    await this.#save(id);
  }

  async rebuild(id: GuestId, spec: GuestSpec): Promise<void> {
    await this.#plan.enter('rebuild', id);
    const g = this.#need(id);
    const wasOn = g.power === 'running' || g.power === 'paused' || g.power === 'suspended';
    g.spec = { ...copySpec(spec), id };
    g.rescued = false;
    g.rescueImageId = undefined;
    if (wasOn) boot(g, this.#clock.now());
    else powerOff(g, false);
    await this.#save(id);
  }

  async snapshot(id: GuestId): Promise<SnapshotData> {
    await this.#plan.enter('snapshot', id);
    return { bytes: snapshotBytes(this.#need(id)), diskFormat: 'qcow2', containerFormat: 'bare' };
  }

  async rescue(id: GuestId, opts: RescueOptions = {}): Promise<void> {
    await this.#plan.enter('rescue', id);
    const g = this.#need(id);
    if (g.rescued) return;
    if (g.power === 'paused' || g.power === 'suspended') throw new InvalidGuestState(id, g.power, 'rescue');
    g.rescued = true;
    g.rescueImageId = opts.imageId;
    boot(g, this.#clock.now());
    await this.#save(id);
  }

  async unrescue(id: GuestId): Promise<void> {
    await this.#plan.enter('unrescue', id);
    const g = this.#need(id);
    if (!g.rescued) return;
    g.rescued = false;
    g.rescueImageId = undefined;
    boot(g, this.#clock.now());
    await this.#save(id);
  }

  async consoleOutput(id: GuestId, length?: number): Promise<string> {
    await this.#plan.enter('consoleOutput', id);
    const g = this.#need(id);
    settleConsole(g, this.#clock.now(), this.#bootMs);
    const lines = length === undefined ? g.console : length <= 0 ? [] : g.console.slice(-length);
    return lines.join('\n');
  }

  async attachDisk(id: GuestId, disk: DiskSpec): Promise<void> {
    await this.#plan.enter('attachDisk', id);
    const g = this.#need(id);
    if (g.disks.some((d) => d.id === disk.id)) return;
    g.disks.push({ ...disk, device: disk.device ?? `/dev/vd${String.fromCharCode(98 + g.disks.length)}` });
    await this.#save(id);
  }

  async detachDisk(id: GuestId, diskId: string): Promise<void> {
    await this.#plan.enter('detachDisk', id);
    const g = this.#need(id);
    const i = g.disks.findIndex((d) => d.id === diskId);
    if (i < 0) return;
    g.disks.splice(i, 1);
    await this.#save(id);
  }

  async attachNic(id: GuestId, nic: NicSpec): Promise<void> {
    await this.#plan.enter('attachNic', id);
    const g = this.#need(id);
    if (g.nics.some((n) => n.id === nic.id)) return;
    if (g.power === 'running') await this.#plug([nic]);
    g.nics.push({ ...nic });
    await this.#save(id);
  }

  async detachNic(id: GuestId, nicId: string): Promise<void> {
    await this.#plan.enter('detachNic', id);
    const g = this.#need(id);
    const i = g.nics.findIndex((n) => n.id === nicId);
    if (i < 0) return;
    const [gone] = g.nics.splice(i, 1);
    await this.#save(id);
    if (gone?.device) await this.#vifs?.unplug(gone.id).catch(() => {});
  }

  /** Fake guests have no console to connect to. */
  async consoleEndpoint(id: GuestId, _kind: ConsoleKind): Promise<ConsoleEndpoint | undefined> {
    this.#need(id);
    return undefined;
  }

  async diagnostics(id: GuestId): Promise<GuestDiagnostics> {
    await this.#plan.enter('diagnostics', id);
    return diagnosticsOf(this.#need(id), this.#clock.now());
  }

  #observe(g: FakeGuest, now: number): GuestObserved {
    const consoleReady = settleConsole(g, now, this.#bootMs);
    return { id: g.spec.id, powerState: g.power, rescued: g.rescued, consoleReady };
  }

  #need(id: GuestId): FakeGuest {
    const g = this.#guests.get(id);
    if (!g) throw new GuestNotFound(id);
    return g;
  }

  async #transition(
    op: DriverOp,
    id: GuestId,
    from: FakeGuest['power'],
    to: FakeGuest['power'],
  ): Promise<void> {
    await this.#plan.enter(op, id);
    const g = this.#need(id);
    if (g.power === to) return;
    if (g.power !== from) throw new InvalidGuestState(id, g.power, op);
    g.power = to;
    await this.#save(id);
  }

  /** Persists guest `id` (its record, or its removal) when the driver has a state file. */
  #save(id: GuestId): Promise<void> {
    return this.#file ? this.#file.save(id) : Promise.resolve();
  }
}
