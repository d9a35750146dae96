// One guest's QEMU life: observe its power, boot it (fresh or from saved state), power it off, save its memory.
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { access, open, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VifPlugger } from '../../../network/control-plane.ts';
import { DriverError, type GuestId, type GuestPowerState } from '../../hypervisor-driver.ts';
import { markBoot } from './guest-console.ts';
import { nicOf, RESCUE_SLOT, ROOT_SLOT, volumeDisk } from './guest-devices.ts';
import type { AttachedNic, GuestDefinition, GuestPaths, GuestStore } from './guest-store.ts';
import type { ImageCache } from './image-cache.ts';
import { type MonitorPool, qmpFailure } from './monitor-pool.ts';
import { DEFAULT_KERNEL_APPEND, type LaunchDisk, type QemuLaunch, qemuArgv } from './qemu-command.ts';
import { isGuestProcess, killGuestProcess, livePid, spawnDaemonized, waitForExit } from './qemu-process.ts';
import type { QmpClient } from './qmp-client.ts';

/** A pino-compatible logger, narrowed to what the driver uses. */
export interface DriverLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Called between QEMU's start (paused, taps created) and `cont`: where NICs get plumbed. */
export type BeforeContinue = (id: GuestId, ctx: { pid: number; nics: AttachedNic[] }) => Promise<void>;

export interface MachineContext {
  accel: 'kvm' | 'tcg';
  binary?: string;
  images: ImageCache;
  monitors: MonitorPool;
  log: DriverLog;
  beforeContinue?: BeforeContinue;
  /** Wires each NIC's tap into its network once QEMU created it (before `cont`, and after a hot-plug). */
  vifPlugger?: VifPlugger;
}

/** Hands the NICs with a tap and a network to the VIF plugger (a no-op without one). */
export async function plugVifs(ctx: MachineContext, nics: AttachedNic[]): Promise<void> {
  if (!ctx.vifPlugger) return;
  for (const n of nics)
    if (n.device && n.networkId)
      await ctx.vifPlugger.plug({
        portId: n.id,
        device: n.device,
        networkId: n.networkId,
        macAddress: n.macAddress,
      });
}

export interface Observed {
  power: GuestPowerState;
  /** The live QEMU, when one runs (it may be a leftover in 'shutdown': stop/start reap it). */
  pid?: number;
  /** QMP's run state ('running', 'paused', 'prelaunch', 'guest-panicked', …) when a QEMU runs. */
  status?: string;
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Maps QMP's run state (and whether saved memory exists) to the power state the driver reports. */
export function powerOfStatus(status: string, saved: boolean): GuestPowerState {
  switch (status) {
    case 'running':
      return 'running';
    case 'internal-error':
    case 'guest-panicked':
      return 'crashed';
    case 'shutdown':
    case 'prelaunch': // started but never continued: the guest never ran (an interrupted start)
      return 'shutdown';
    case 'inmigrate':
      return saved ? 'suspended' : 'paused';
    default:
      return 'paused';
  }
}

/** The guest's power as its process and QMP run state say. */
export async function observe(ctx: MachineContext, id: GuestId, paths: GuestPaths): Promise<Observed> {
  const saved = await exists(paths.stateFile);
  const pid = await livePid(paths.pidFile, id);
  if (pid === undefined) return { power: saved ? 'suspended' : 'shutdown' };
  try {
    const qmp = await ctx.monitors.get(id, pid, paths.qmpSocket);
    const { status } = await qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: 5000 });
    return { power: powerOfStatus(status, saved), pid, status };
  } catch (err) {
    if (!(await isGuestProcess(pid, id))) return { power: saved ? 'suspended' : 'shutdown' };
    ctx.log.warn(
      { guest_id: id, pid, err },
      'QEMU runs but its monitor does not answer; reporting it running',
    );
    return { power: 'running', pid, status: 'unknown' };
  }
}

/** The QEMU command line of the guest as defined now. */
export async function launchOf(
  ctx: MachineContext,
  def: GuestDefinition,
  paths: GuestPaths,
  incomingFd?: number,
): Promise<QemuLaunch> {
  const id = def.spec.id;
  const boot = def.rescue ?? def.image;
  const disks: LaunchDisk[] = [];
  if (def.rescue) {
    disks.push({
      nodeName: 'blk-rescue',
      deviceId: 'disk-rescue',
      slot: RESCUE_SLOT,
      backend: { kind: 'file', path: paths.rescueRoot, format: 'qcow2' },
      readOnly: false,
      bootIndex: 1,
    });
  }
  disks.push({
    nodeName: 'blk-root',
    deviceId: 'disk-root',
    slot: ROOT_SLOT,
    backend: { kind: 'file', path: paths.root, format: 'qcow2' },
    readOnly: false,
    bootIndex: def.rescue ? 2 : 1,
  });
  for (const d of def.disks) disks.push(volumeDisk(d));
  let kernel: QemuLaunch['kernel'];
  if (boot.kernelId) {
    const k = await ctx.images.fetch(boot.kernelId, 'kernel');
    const r = boot.ramdiskId ? await ctx.images.fetch(boot.ramdiskId, 'ramdisk') : undefined;
    kernel = { path: k.path, initrd: r?.path, append: boot.cmdline ?? DEFAULT_KERNEL_APPEND };
  }
  return {
    guestId: id,
    accel: ctx.accel,
    vcpus: def.spec.flavor.vcpus,
    memoryMb: def.spec.flavor.memoryMb,
    paths,
    disks,
    cdrom: def.configDrive ? paths.configIso : undefined,
    nics: def.nics.map(nicOf),
    kernel,
    incomingFd,
  };
}

/**
 * Starts the guest's QEMU (paused), restores the saved state when `restore`, runs the beforeContinue hook, then
 * lets it run. The caller has checked that no QEMU of this guest runs. On any failure the new QEMU is killed.
 */
export async function bootGuest(
  ctx: MachineContext,
  def: GuestDefinition,
  paths: GuestPaths,
  opts: { restore?: boolean } = {},
): Promise<number> {
  const id = def.spec.id;
  if ((await livePid(paths.pidFile, id)) !== undefined)
    throw new DriverError(`Guest ${id} already has a QEMU process.`, { transient: true });
  // Stale sockets and pidfiles need no cleaning: QEMU replaces them, and its lock on the pidfile stops a second
  // QEMU of this guest (say, from another driver over the same directory) before it touches the sockets.
  // A restored guest continues its boot: its console readiness carries over.
  if (!opts.restore) await markBoot(paths);
  const fd = opts.restore ? openSync(paths.stateFile, 'r') : undefined;
  try {
    const launch = await launchOf(ctx, def, paths, fd === undefined ? undefined : 3);
    await spawnDaemonized(qemuArgv(launch), { binary: ctx.binary, extraFd: fd, what: `guest ${id}` });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const pid = await livePid(paths.pidFile, id);
  // Gone already: it crashed at start, or something killed it (a second driver over this directory takes a
  // QEMU still paused before its first `cont` for an interrupted start). A retry tells the two apart; the
  // reconciler's retries are bounded, so a QEMU that always crashes still ends in a fault.
  if (pid === undefined)
    throw new DriverError(`QEMU of guest ${id} exited right after starting.`, { transient: true });
  try {
    const qmp = await ctx.monitors.get(id, pid, paths.qmpSocket);
    if (opts.restore) await waitForIncoming(qmp, pid, id);
    await plugVifs(ctx, def.nics);
    await ctx.beforeContinue?.(id, { pid, nics: def.nics.map((n) => ({ ...n })) });
    await qmp.execute('cont');
    return pid;
  } catch (err) {
    ctx.monitors.drop(id);
    await killGuestProcess(pid, id).catch(() => {});
    throw qmpFailure(id, opts.restore ? 'restoring the saved state' : 'starting', err);
  }
}

async function waitForIncoming(qmp: QmpClient, pid: number, id: GuestId): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    if (!(await isGuestProcess(pid, id)))
      throw new DriverError(`QEMU of guest ${id} exited while restoring its saved state.`);
    const { status } = await qmp.execute<{ status: string }>('query-status');
    if (status !== 'inmigrate') return;
    if (Date.now() > deadline)
      throw new DriverError(`Restoring guest ${id} did not finish.`, { transient: true });
    await sleep(20);
  }
}

/** SIGKILLs the guest's QEMU, if one runs. */
export async function killGuest(ctx: MachineContext, id: GuestId, paths: GuestPaths): Promise<void> {
  const pid = await livePid(paths.pidFile, id);
  ctx.monitors.drop(id);
  if (pid !== undefined) await killGuestProcess(pid, id);
}

/** How often the ACPI power button is pressed again while waiting for a clean shutdown (as Nova does). */
const POWERDOWN_RETRY_MS = 10_000;

/**
 * Powers the guest off: ACPI power button (system_powerdown) and up to cleanMs for QEMU to exit; then QMP quit;
 * then SIGKILL by PID.
 */
export async function powerOffGuest(
  ctx: MachineContext,
  id: GuestId,
  paths: GuestPaths,
  pid: number,
  cleanMs: number,
): Promise<void> {
  const qmp = await ctx.monitors.get(id, pid, paths.qmpSocket).catch(() => undefined);
  if (cleanMs > 0 && qmp) {
    const deadline = Date.now() + cleanMs;
    for (;;) {
      await qmp.execute('system_powerdown', undefined, { timeoutMs: 5000 }).catch(() => {});
      const left = deadline - Date.now();
      if (await waitForExit(pid, id, Math.max(0, Math.min(POWERDOWN_RETRY_MS, left)))) {
        ctx.monitors.drop(id);
        return;
      }
      if (Date.now() >= deadline) break;
    }
    ctx.log.debug({ guest_id: id, timeout_ms: cleanMs }, 'guest ignored the power button; powering off');
  }
  if (qmp) {
    await qmp.execute('quit', undefined, { timeoutMs: 3000 }).catch(() => {});
    if (await waitForExit(pid, id, 3000)) {
      ctx.monitors.drop(id);
      return;
    }
  }
  ctx.monitors.drop(id);
  await killGuestProcess(pid, id);
}

/**
 * Saves a running or paused guest's memory to its state file and ends its QEMU: the guest is stopped, migrated
 * into a unix socket this process writes to <state>.part, and the file renamed into place once complete.
 */
export async function saveGuest(
  ctx: MachineContext,
  id: GuestId,
  paths: GuestPaths,
  pid: number,
): Promise<void> {
  const qmp = await ctx.monitors.get(id, pid, paths.qmpSocket);
  const { status } = await qmp.execute<{ status: string }>('query-status');
  const wasRunning = status === 'running';
  const part = `${paths.stateFile}.part`;
  const sock = paths.migrateSocket;
  await rm(sock, { force: true });
  const server = createServer();
  const received = new Promise<void>((resolve, reject) => {
    server.once('connection', (conn) => {
      const out = createWriteStream(part);
      conn.pipe(out);
      out.once('finish', resolve);
      out.once('error', reject);
      conn.once('error', reject);
    });
  });
  received.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, resolve);
  });
  try {
    if (wasRunning) await qmp.execute('stop');
    await qmp.execute('migrate', { uri: `unix:${sock}` });
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      const mig = await qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
      if (mig.status === 'completed') break;
      if (mig.status === 'failed' || mig.status === 'cancelled')
        throw new DriverError(`Saving guest ${id} failed: ${mig['error-desc'] ?? mig.status}`);
      if (Date.now() > deadline)
        throw new DriverError(`Saving guest ${id} did not finish.`, { transient: true });
      await sleep(20);
    }
    await received;
    const fh = await open(part, 'r+');
    await fh.sync().finally(() => fh.close());
    await rename(part, paths.stateFile);
  } catch (err) {
    await rm(part, { force: true });
    if (wasRunning) await qmp.execute('cont').catch(() => {});
    throw qmpFailure(id, 'saving the memory', err);
  } finally {
    server.close();
    await rm(sock, { force: true });
  }
  await powerOffGuest(ctx, id, paths, pid, 0);
}

/** What the driver's operation helpers share: the machine context and the store. */
export interface DriverCore {
  ctx: MachineContext;
  store: GuestStore;
}
