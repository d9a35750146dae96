// The driver work behind each Nova task_state; the reconciler runs it and reports, the control plane decides vm_state.
import type { AssignedServer, ComputeControlPlane } from './control-plane.ts';
import { DriverError, GuestNotFound, type HypervisorDriver, InvalidGuestState } from './hypervisor-driver.ts';

export interface TaskContext {
  driver: HypervisorDriver;
  controlPlane: ComputeControlPlane;
  server: AssignedServer;
  /** Clean-shutdown timeout for powering off, as Nova's shutdown_timeout. */
  shutdownTimeoutMs: number;
}

export type TaskAction = (ctx: TaskContext) => Promise<void>;

/** Defines the guest if needed and powers it on; safe to repeat (one guest per server id). */
async function ensureRunning({ driver, server }: TaskContext): Promise<void> {
  await driver.create(server.guest);
  await driver.start(server.guest.id);
}

/**
 * A build (or unshelve): the server's ports are allocated on this host first, the guest is defined with their
 * NICs, and it runs once Neutron said they are plugged (Nova's spawn with wait_for_instance_event); a guest
 * whose VIFs never came up is destroyed again and the build fails.
 */
async function spawn(ctx: TaskContext): Promise<void> {
  const { driver, server, controlPlane: cp } = ctx;
  if (!cp.allocateNetwork) return ensureRunning(ctx);
  const nics = await cp.allocateNetwork(server.id);
  await driver.create({ ...server.guest, nics });
  const waiting =
    nics.length && cp.waitForVifsPlugged
      ? cp.waitForVifsPlugged(
          server.id,
          nics.map((n) => n.id),
        )
      : undefined;
  // Settled here so a failure while starting does not leave an unhandled rejection behind.
  const outcome = waiting?.then(
    () => undefined,
    (err: unknown) => err,
  );
  await driver.start(server.guest.id);
  const failed = await outcome;
  if (failed !== undefined) {
    await driver.destroy(server.guest.id).catch(() => {});
    throw failed;
  }
}

/** Runs `op`, or when the guest has vanished defines and boots it again, as libvirt's hard reboot regenerates a domain. */
function orRecreate(op: TaskAction): TaskAction {
  return async (ctx) => {
    try {
      await op(ctx);
    } catch (err) {
      if (!(err instanceof GuestNotFound)) throw err;
      await ensureRunning(ctx);
    }
  };
}

/** Runs `op`; a vanished guest already is what the task wants (controller-runtime: NotFound is done). */
function absentIsDone(op: TaskAction): TaskAction {
  return async (ctx) => {
    try {
      await op(ctx);
    } catch (err) {
      if (!(err instanceof GuestNotFound)) throw err;
    }
  };
}

async function collect(bytes: Uint8Array | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  if (bytes instanceof Uint8Array) return bytes;
  const parts: Uint8Array[] = [];
  for await (const part of bytes) parts.push(part);
  return Buffer.concat(parts);
}

async function snapshotAndUpload({ driver, controlPlane, server }: TaskContext): Promise<void> {
  if (!server.snapshotImageId) throw new DriverError('No image to upload the snapshot to.', { code: 400 });
  const snap = await driver.snapshot(server.id);
  await controlPlane.uploadSnapshot(
    server.snapshotImageId,
    await collect(snap.bytes),
    snap.diskFormat,
    snap.containerFormat,
  );
}

const noop: TaskAction = async () => {};
const stop: TaskAction = ({ driver, server, shutdownTimeoutMs }) =>
  driver.stop(server.id, { timeoutMs: shutdownTimeoutMs });
const destroy: TaskAction = ({ driver, server }) => driver.destroy(server.id);
const resize: TaskAction = ({ driver, server }) => driver.resize(server.id, server.guest.flavor);

const softReboot: TaskAction = async ({ driver, server }) => {
  try {
    await driver.reboot(server.id, 'SOFT');
  } catch (err) {
    // A guest that cannot reboot cleanly is hard rebooted, as Nova's libvirt driver falls back.
    if (!(err instanceof InvalidGuestState)) throw err;
    await driver.reboot(server.id, 'HARD');
  }
};
const hardReboot: TaskAction = ({ driver, server }) => driver.reboot(server.id, 'HARD');
const rebuild: TaskAction = ({ driver, server }) => driver.rebuild(server.id, server.guest);

const shelve: TaskAction = async (ctx) => {
  await absentIsDone(stop)(ctx);
  if (ctx.server.snapshotImageId) await snapshotAndUpload(ctx);
};

/** Task states this agent acts on. States absent here (scheduling, networking, …) belong to the control plane. */
const ACTIONS: ReadonlyMap<string, TaskAction> = new Map<string, TaskAction>([
  ['spawning', spawn],
  ['powering-off', absentIsDone(stop)],
  ['powering-on', orRecreate(({ driver, server }) => driver.start(server.id))],
  ['rebooting', softReboot],
  ['reboot_pending', softReboot],
  ['reboot_started', softReboot],
  ['rebooting_hard', orRecreate(hardReboot)],
  ['reboot_pending_hard', orRecreate(hardReboot)],
  ['reboot_started_hard', orRecreate(hardReboot)],
  ['pausing', ({ driver, server }) => driver.pause(server.id)],
  ['unpausing', ({ driver, server }) => driver.unpause(server.id)],
  ['suspending', ({ driver, server }) => driver.suspend(server.id)],
  ['resuming', ({ driver, server }) => driver.resume(server.id)],
  // Resize happens in place on this host: every phase applies the flavor the control plane hands over.
  // A move to another host arrives there with no guest yet: it is defined there with the new flavor.
  ['resize_prep', orRecreate(resize)],
  ['resize_migrating', orRecreate(resize)],
  ['resize_migrated', orRecreate(resize)],
  ['resize_finish', orRecreate(resize)],
  ['resize_reverting', orRecreate(resize)],
  ['resize_confirming', noop],
  ['rebuilding', orRecreate(rebuild)],
  ['rebuild_block_device_mapping', orRecreate(rebuild)],
  ['rebuild_spawning', orRecreate(rebuild)],
  ['image_snapshot', snapshotAndUpload],
  ['image_snapshot_pending', snapshotAndUpload],
  ['image_pending_upload', snapshotAndUpload],
  ['image_uploading', snapshotAndUpload],
  ['image_backup', snapshotAndUpload],
  ['shelving', shelve],
  ['shelving_image_pending_upload', shelve],
  ['shelving_image_uploading', shelve],
  ['shelving_offloading', destroy],
  ['unshelving', spawn],
  ['rescuing', ({ driver, server }) => driver.rescue(server.id, { imageId: server.rescueImageId })],
  ['unrescuing', ({ driver, server }) => driver.unrescue(server.id)],
  ['deleting', destroy],
  ['soft-deleting', absentIsDone(stop)],
  ['restoring', orRecreate(({ driver, server }) => driver.start(server.id))],
  // Live migration within one host is a no-op for the guest; the control plane moves the records.
  ['migrating', noop],
  ['updating_password', noop],
]);

/** The action for a task state, or undefined when the task is not this agent's. */
export function actionFor(taskState: string): TaskAction | undefined {
  return ACTIONS.get(taskState);
}

/** Task states the agent acts on (for docs and tests). */
export function handledTaskStates(): string[] {
  return [...ACTIONS.keys()];
}

/** Whether retrying may help: a transient DriverError, or a dropped connection to a peer. */
export function isTransient(err: unknown): boolean {
  if (err instanceof DriverError) return err.transient;
  if (typeof err !== 'object' || err === null) return false;
  if ((err as { transient?: unknown }).transient === true) return true;
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(code)
  );
}

/** The fault Nova records for an error: its message, its code (500 unless typed) and its stack as details. */
export function faultOf(err: unknown): { message: string; code: number; details?: string } {
  // An expected refusal (4xx) names itself; Nova shows those details to every user, so no stack (and no host
  // paths). Unexpected failures keep the stack, which only admins see (code 500).
  if (err instanceof DriverError)
    return {
      message: err.message,
      code: err.code,
      details: err.code < 500 ? `${err.name}: ${err.message}` : err.stack,
    };
  if (err instanceof Error) return { message: err.message || err.name, code: 500, details: err.stack };
  return { message: String(err), code: 500 };
}
