// The QEMU hypervisor driver: guests are daemonized qemu-system-x86_64 processes driven over QMP, state on disk.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { VifPlugger } from '../../../network/control-plane.ts';
import { buildConfigDriveIso } from '../../config-drive.ts';
import type { GuestResources } from '../../guest-resources.ts';
import {
  type ConsoleEndpoint,
  type ConsoleKind,
  type DiskSpec,
  DriverError,
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
import { consoleTail, ReadinessScanner } from './guest-console.ts';
import { DeviceOps } from './guest-device-ops.ts';
import { ROOT_SLOT } from './guest-devices.ts';
import { collectDiagnostics } from './guest-diagnostics.ts';
import {
  type BuildConfigDrive,
  bootImageOf,
  HeldImages,
  rootSizeBytes,
  writeConfigDrive,
} from './guest-images.ts';
import {
  type BeforeContinue,
  bootGuest,
  type DriverLog,
  killGuest,
  type MachineContext,
  type Observed,
  observe,
  powerOffGuest,
  saveGuest,
} from './guest-machine.ts';
import { ResetOps } from './guest-reset-ops.ts';
import {
  type AttachedNic,
  type GuestDefinition,
  type GuestPaths,
  GuestStore,
  isValidGuestId,
  MAX_SOCKET_PATH,
  socketRootFor,
} from './guest-store.ts';
import {
  type AccelSetting,
  cpuInfoOf,
  hostInventory,
  hostTraits,
  probeQemuVersion,
  readHostCpu,
  resolveAccel,
} from './host-probe.ts';
import { ImageCache } from './image-cache.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { MonitorPool, qmpFailure } from './monitor-pool.ts';
import { createOverlay } from './qemu-img.ts';
import { livePid, QEMU_BINARY } from './qemu-process.ts';

export interface QemuDriverOptions {
  /** Holds guests/<id>/ and images/<id> (guests' sockets are reached through a short alias when it is long). */
  stateDir: string;
  resources: GuestResources;
  /** The node name reported as hypervisor_hostname. */
  hostname: string;
  /** kvm, tcg, or auto (KVM only where vmx/svm and /dev/kvm are both there); default auto. */
  accel?: AccelSetting;
  /** Clean-shutdown wait before powering off (stop without timeoutMs, soft reboot, resize, rebuild); default 60 s. */
  stopTimeoutMs?: number;
  /** How long detach waits for the guest to release a device; default 20 s. */
  detachTimeoutMs?: number;
  /** Packs config-drive files into an ISO; default: genisoimage (config-2, Rock Ridge + Joliet). */
  buildConfigDrive?: BuildConfigDrive;
  /** Runs after QEMU started paused (its taps exist) and before the guest runs: NIC plumbing. */
  beforeContinue?: BeforeContinue;
  /** Wires NICs' taps into their networks before the guest runs (and after hot-plug); unplugs on detach/destroy. */
  vifPlugger?: VifPlugger;
  log?: DriverLog;
  /** Default qemu-system-x86_64 on PATH. */
  qemuBinary?: string;
}

const silentLog: DriverLog = { debug() {}, warn() {}, error() {} };

/**
 * Guests are QEMU processes that outlive the agent (-daemonize); everything needed to find and rebuild them lives
 * under stateDir, so a new driver over the same directory adopts running guests and restarts nothing.
 */
export class QemuDriver implements HypervisorDriver {
  readonly info: HypervisorInfo;
  readonly accel: 'kvm' | 'tcg';
  readonly stateDir: string;
  readonly #store: GuestStore;
  readonly #images: ImageCache;
  readonly #monitors = new MonitorPool();
  readonly #mutex = new KeyedMutex();
  readonly #scanner = new ReadinessScanner();
  readonly #ctx: MachineContext;
  readonly #traits: string[];
  readonly #stopTimeoutMs: number;
  readonly #resources: GuestResources;
  readonly #buildConfigDrive: BuildConfigDrive;
  readonly #devices: DeviceOps;
  readonly #reset: ResetOps;

  constructor(opts: QemuDriverOptions) {
    this.stateDir = opts.stateDir;
    const guestsDir = join(opts.stateDir, 'guests');
    mkdirSync(guestsDir, { recursive: true });
    mkdirSync(join(opts.stateDir, 'images'), { recursive: true });
    for (const n of readdirSync(guestsDir))
      if (n.startsWith('.creating-')) rmSync(join(guestsDir, n), { recursive: true, force: true });
    const cpu = readHostCpu();
    const binary = opts.qemuBinary ?? QEMU_BINARY;
    this.accel = resolveAccel(opts.accel ?? 'auto', cpu);
    this.info = Object.freeze({
      hypervisorType: 'QEMU',
      hypervisorVersion: probeQemuVersion(binary),
      hostname: opts.hostname,
      cpuInfo: Object.freeze(cpuInfoOf(cpu)),
    });
    this.#traits = hostTraits(this.accel, cpu);
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? 60_000;
    this.#resources = opts.resources;
    this.#buildConfigDrive = opts.buildConfigDrive ?? ((files, iso) => buildConfigDriveIso(files, iso));
    this.#store = new GuestStore(guestsDir, socketRootFor(guestsDir));
    this.#images = new ImageCache({
      dir: join(opts.stateDir, 'images'),
      resources: opts.resources,
      inUse: () => this.#imagesInUse(),
    });
    this.#ctx = {
      accel: this.accel,
      binary,
      images: this.#images,
      monitors: this.#monitors,
      log: opts.log ?? silentLog,
      beforeContinue: opts.beforeContinue,
      vifPlugger: opts.vifPlugger,
    };
    const core = { ctx: this.#ctx, store: this.#store };
    this.#devices = new DeviceOps(core, opts.detachTimeoutMs ?? 20_000);
    this.#reset = new ResetOps(core, {
      stopTimeoutMs: this.#stopTimeoutMs,
      configDrive: (id, paths, wanted) =>
        writeConfigDrive(this.#resources, this.#buildConfigDrive, id, paths, wanted),
    });
  }

  // --- beyond the seam ---

  /** Closes the QMP sessions (guests keep running); call before dropping the driver. */
  async close(): Promise<void> {
    await this.#monitors.closeAll();
  }

  /** Where guests' unix sockets are addressed: the guests directory, or a short symlink to it. */
  get socketRoot(): string {
    return this.#store.socketRoot;
  }

  /** Removes cached base images no guest uses; returns their ids. */
  pruneImages(): Promise<string[]> {
    return this.#images.prune();
  }

  // --- HypervisorDriver ---

  inventory(): Promise<HostInventory> {
    return hostInventory(this.stateDir, this.#traits);
  }

  async listGuests(): Promise<GuestObserved[]> {
    const ids = await this.#store.ids();
    const all = await Promise.all(ids.map((id) => this.findGuest(id)));
    return all.filter((g): g is GuestObserved => g !== undefined);
  }

  async findGuest(id: GuestId): Promise<GuestObserved | undefined> {
    const def = await this.#store.read(id);
    if (!def) return undefined;
    const paths = this.#store.paths(id);
    const o = await observe(this.#ctx, id, paths);
    const consoleReady =
      o.pid !== undefined && o.power !== 'shutdown' ? await this.#scanner.ready(paths) : false;
    return { id, powerState: o.power, rescued: def.rescue !== undefined, consoleReady };
  }

  create(spec: GuestSpec): Promise<void> {
    return this.#mutex.run(spec.id, async () => {
      if (
        !isValidGuestId(spec.id) ||
        Buffer.byteLength(this.#store.paths(spec.id).serialSocket) > MAX_SOCKET_PATH
      )
        throw new DriverError(`Guest id ${spec.id} is not usable on this host.`, { code: 400 });
      if (await this.#store.read(spec.id)) return;
      const staged = await this.#store.stage(spec.id);
      const held = new HeldImages(this.#images);
      try {
        const { boot, base } = await bootImageOf(held, spec.imageId);
        await createOverlay(base.path, base.format, staged.paths.root, rootSizeBytes(spec.flavor, base));
        await writeConfigDrive(
          this.#resources,
          this.#buildConfigDrive,
          spec.id,
          staged.paths,
          spec.configDrive,
        );
        const def: GuestDefinition = {
          version: 1,
          spec: structuredClone(spec),
          image: boot,
          disks: [],
          nics: nicsAtCreate(spec.nics ?? []),
          configDrive: spec.configDrive,
          createdAt: new Date().toISOString(),
        };
        await this.#store.write(def, staged.paths);
        await staged.commit();
      } catch (err) {
        await staged.abort();
        throw err;
      } finally {
        held.release();
      }
    });
  }

  start(id: GuestId): Promise<void> {
    return this.#locked(id, async (def, paths, o) => {
      if (o.power === 'running') return;
      if (o.power === 'paused' || o.power === 'suspended') throw new InvalidGuestState(id, o.power, 'start');
      if (o.pid !== undefined) await killGuest(this.#ctx, id, paths); // crashed, or a start interrupted before cont
      await bootGuest(this.#ctx, def, paths);
    });
  }

  stop(id: GuestId, opts: StopOptions = {}): Promise<void> {
    return this.#locked(id, async (_def, paths, o) => {
      if (o.pid !== undefined) {
        const clean = o.power === 'running' ? (opts.timeoutMs ?? this.#stopTimeoutMs) : 0;
        await powerOffGuest(this.#ctx, id, paths, o.pid, clean);
      }
      // Stopping a suspended guest discards its saved memory, as powering off would.
      await rm(paths.stateFile, { force: true });
    });
  }

  reboot(id: GuestId, type: RebootType): Promise<void> {
    return this.#locked(id, async (def, paths, o) => {
      if (type === 'SOFT') {
        if (o.power !== 'running' || o.pid === undefined) throw new InvalidGuestState(id, o.power, 'reboot');
        await powerOffGuest(this.#ctx, id, paths, o.pid, this.#stopTimeoutMs);
      } else {
        await killGuest(this.#ctx, id, paths);
        await rm(paths.stateFile, { force: true });
      }
      await bootGuest(this.#ctx, def, paths);
    });
  }

  pause(id: GuestId): Promise<void> {
    return this.#runState(id, 'pause', 'running', 'paused', 'stop');
  }

  unpause(id: GuestId): Promise<void> {
    return this.#runState(id, 'unpause', 'paused', 'running', 'cont');
  }

  suspend(id: GuestId): Promise<void> {
    return this.#locked(id, async (_def, paths, o) => {
      if (o.power === 'suspended') return;
      if ((o.power !== 'running' && o.power !== 'paused') || o.pid === undefined)
        throw new InvalidGuestState(id, o.power, 'suspend');
      await saveGuest(this.#ctx, id, paths, o.pid);
    });
  }

  resume(id: GuestId): Promise<void> {
    return this.#locked(id, async (def, paths, o) => {
      if (o.power === 'running') return;
      if (o.power !== 'suspended') throw new InvalidGuestState(id, o.power, 'resume');
      if (o.pid !== undefined) await killGuest(this.#ctx, id, paths); // an interrupted restore
      await bootGuest(this.#ctx, def, paths, { restore: true });
      await rm(paths.stateFile, { force: true });
    });
  }

  destroy(id: GuestId): Promise<void> {
    return this.#mutex.run(id, async () => {
      if (!isValidGuestId(id)) return;
      const paths = this.#store.paths(id);
      const nics = (await this.#store.read(id))?.nics ?? [];
      await killGuest(this.#ctx, id, paths);
      await this.#store.remove(id);
      for (const n of nics) if (n.device) await this.#ctx.vifPlugger?.unplug(n.id).catch(() => {});
      this.#scanner.forget(paths.dir);
    });
  }

  resize(id: GuestId, flavor: FlavorSpec): Promise<void> {
    return this.#locked(id, (def, paths, o) => this.#reset.resize(def, paths, o, flavor));
  }

  rebuild(id: GuestId, spec: GuestSpec): Promise<void> {
    return this.#locked(id, (def, paths, o) => this.#reset.rebuild(def, paths, o, { ...spec, id }));
  }

  snapshot(id: GuestId): Promise<SnapshotData> {
    return this.#locked(id, (def, paths, o) => this.#reset.snapshot(def, paths, o));
  }

  rescue(id: GuestId, opts: RescueOptions = {}): Promise<void> {
    return this.#locked(id, (def, paths, o) => this.#reset.rescue(def, paths, o, opts.imageId));
  }

  unrescue(id: GuestId): Promise<void> {
    return this.#locked(id, (def, paths) => this.#reset.unrescue(def, paths));
  }

  async consoleOutput(id: GuestId, length?: number): Promise<string> {
    const { paths } = await this.#need(id);
    return consoleTail(paths.serialLog, length);
  }

  attachDisk(id: GuestId, disk: DiskSpec): Promise<void> {
    return this.#locked(id, (def, paths, o) => this.#devices.attachDisk(def, paths, o, disk));
  }

  detachDisk(id: GuestId, diskId: string): Promise<void> {
    return this.#locked(id, (def, paths, o) => this.#devices.detachDisk(def, paths, o, diskId));
  }

  attachNic(id: GuestId, nic: NicSpec): Promise<void> {
    return this.#locked(id, (def, paths, o) => this.#devices.attachNic(def, paths, o, nic));
  }

  detachNic(id: GuestId, nicId: string): Promise<void> {
    return this.#locked(id, (def, paths, o) => this.#devices.detachNic(def, paths, o, nicId));
  }

  async diagnostics(id: GuestId): Promise<GuestDiagnostics> {
    const { def, paths } = await this.#need(id);
    const o = await observe(this.#ctx, id, paths);
    const live = o.pid !== undefined && o.status !== 'unknown';
    const qmp = live ? await this.#monitors.get(id, o.pid as number, paths.qmpSocket) : undefined;
    try {
      return await collectDiagnostics(def, o, qmp, this.accel);
    } catch (err) {
      throw qmpFailure(id, 'reading diagnostics', err);
    }
  }

  async consoleEndpoint(id: GuestId, kind: ConsoleKind): Promise<ConsoleEndpoint | undefined> {
    const { paths } = await this.#need(id);
    if ((await livePid(paths.pidFile, id)) === undefined) return undefined;
    return { unixSocket: kind === 'vnc' ? paths.vncSocket : paths.serialSocket };
  }

  // --- internals ---

  async #need(id: GuestId): Promise<{ def: GuestDefinition; paths: GuestPaths }> {
    const def = await this.#store.read(id);
    if (!def) throw new GuestNotFound(id);
    return { def, paths: this.#store.paths(id) };
  }

  /** Runs an operation on an existing guest under its lock, with its definition and observed power. */
  #locked<T>(
    id: GuestId,
    fn: (def: GuestDefinition, paths: GuestPaths, o: Observed) => Promise<T>,
  ): Promise<T> {
    return this.#mutex.run(id, async () => {
      const { def, paths } = await this.#need(id);
      return fn(def, paths, await observe(this.#ctx, id, paths));
    });
  }

  #runState(
    id: GuestId,
    op: 'pause' | 'unpause',
    from: 'running' | 'paused',
    to: 'running' | 'paused',
    command: 'stop' | 'cont',
  ): Promise<void> {
    return this.#locked(id, async (_def, paths, o) => {
      if (o.power === to) return;
      if (o.power !== from || o.pid === undefined) throw new InvalidGuestState(id, o.power, op);
      const qmp = await this.#monitors.get(id, o.pid, paths.qmpSocket);
      await qmp.execute(command).catch((err) => {
        throw qmpFailure(id, op, err);
      });
    });
  }

  async #imagesInUse(): Promise<Set<string>> {
    const used = new Set<string>();
    for (const id of await this.#store.ids()) {
      const def = await this.#store.read(id);
      for (const b of [def?.image, def?.rescue])
        for (const i of [b?.id, b?.kernelId, b?.ramdiskId]) if (i) used.add(i);
    }
    return used;
  }
}

/** The NICs a guest is created with, in PCI slots after its disks (a spec's NICs validated as attachNic does). */
function nicsAtCreate(nics: NicSpec[]): AttachedNic[] {
  const out: AttachedNic[] = [];
  let slot = ROOT_SLOT + 1;
  for (const n of nics) {
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(n.macAddress))
      throw new DriverError(`NIC ${n.id} has an invalid MAC address ${n.macAddress}.`, { code: 400 });
    if (n.device !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(n.device))
      throw new DriverError(`NIC ${n.id} names an invalid host device ${n.device}.`, { code: 400 });
    const a: AttachedNic = { id: n.id, macAddress: n.macAddress.toLowerCase(), slot: slot++ };
    if (n.device) a.device = n.device;
    if (n.mtu) a.mtu = n.mtu;
    if (n.networkId) a.networkId = n.networkId;
    out.push(a);
  }
  return out;
}
