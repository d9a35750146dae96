// Operations that remake a guest's machine or disks: resize, rebuild, rescue and unrescue.
import { rm } from 'node:fs/promises';
import {
  DriverError,
  type FlavorSpec,
  type GuestId,
  type GuestSpec,
  InvalidGuestState,
  type SnapshotData,
} from '../../hypervisor-driver.ts';
import { bootImageOf, captureRootDisk, freshOverlay, HeldImages, rootSizeBytes } from './guest-images.ts';
import { bootGuest, type DriverCore, killGuest, type Observed, powerOffGuest } from './guest-machine.ts';
import type { GuestDefinition, GuestPaths } from './guest-store.ts';
import { qmpFailure } from './monitor-pool.ts';
import { growImage, imageInfo } from './qemu-img.ts';

const GiB = 1024 ** 3;

export interface ResetOptions {
  stopTimeoutMs: number;
  configDrive: (id: GuestId, paths: GuestPaths, wanted: boolean) => Promise<void>;
}

export class ResetOps {
  constructor(
    private readonly core: DriverCore,
    private readonly opts: ResetOptions,
  ) {}

  /** Ends the guest's QEMU: cleanly (with the stop timeout) when it runs, at once otherwise. */
  async #halt(def: GuestDefinition, paths: GuestPaths, o: Observed): Promise<void> {
    if (o.pid === undefined) return;
    if (o.power === 'running')
      await powerOffGuest(this.core.ctx, def.spec.id, paths, o.pid, this.opts.stopTimeoutMs);
    else await killGuest(this.core.ctx, def.spec.id, paths);
  }

  /**
   * New vCPUs/memory take effect at the next QEMU start; a grown root disk is grown in place (never shrunk). A
   * running guest is restarted into the flavor, a paused one restarted and paused again; a stopped one stays off.
   */
  async resize(def: GuestDefinition, paths: GuestPaths, o: Observed, flavor: FlavorSpec): Promise<void> {
    const id = def.spec.id;
    if (o.power === 'suspended') throw new InvalidGuestState(id, o.power, 'resize');
    const current = (await imageInfo(paths.root, { shared: true })).virtualSize;
    const wanted = flavor.rootGb > 0 ? flavor.rootGb * GiB : current;
    if (wanted < current) throw new DriverError('Resize error: Unable to resize disk down.', { code: 400 });
    const back = o.power === 'running' || o.power === 'paused' ? o.power : undefined;
    await this.#halt(def, paths, o);
    if (wanted > current) await growImage(paths.root, wanted);
    const next: GuestDefinition = { ...def, spec: { ...def.spec, flavor: structuredClone(flavor) } };
    await this.core.store.write(next);
    if (!back) return;
    const pid = await bootGuest(this.core.ctx, next, paths);
    if (back === 'paused') await (await this.core.ctx.monitors.get(id, pid, paths.qmpSocket)).execute('stop');
  }

  /**
   * A fresh root disk from spec.imageId (and a fresh config drive), rescue and saved memory dropped; attached
   * disks and NICs stay. A guest that was on (running, paused or suspended) comes back running.
   */
  async rebuild(def: GuestDefinition, paths: GuestPaths, o: Observed, spec: GuestSpec): Promise<void> {
    const held = new HeldImages(this.core.ctx.images);
    try {
      const { boot, base } = await bootImageOf(held, spec.imageId);
      const size = rootSizeBytes(spec.flavor, base);
      const wasOn = o.power === 'running' || o.power === 'paused' || o.power === 'suspended';
      await this.#halt(def, paths, o);
      await rm(paths.stateFile, { force: true });
      await freshOverlay(base, paths.root, size);
      await rm(paths.rescueRoot, { force: true });
      await this.opts.configDrive(spec.id, paths, spec.configDrive);
      const next: GuestDefinition = {
        ...def,
        spec: structuredClone(spec),
        image: boot,
        rescue: undefined,
        configDrive: spec.configDrive,
      };
      await this.core.store.write(next);
      if (wasOn) await bootGuest(this.core.ctx, next, paths);
    } finally {
      held.release();
    }
  }

  /**
   * Boots a fresh overlay of the rescue image (the guest's own image by default) as the first disk, with the
   * guest's own root disk second; rescued is success.
   */
  async rescue(def: GuestDefinition, paths: GuestPaths, o: Observed, imageId?: string): Promise<void> {
    if (def.rescue) return;
    if (o.power === 'paused' || o.power === 'suspended')
      throw new InvalidGuestState(def.spec.id, o.power, 'rescue');
    const held = new HeldImages(this.core.ctx.images);
    try {
      const { boot, base } = await bootImageOf(held, imageId ?? def.image.id);
      await killGuest(this.core.ctx, def.spec.id, paths);
      await freshOverlay(base, paths.rescueRoot);
      const next: GuestDefinition = { ...def, rescue: boot };
      await this.core.store.write(next);
      await bootGuest(this.core.ctx, next, paths);
    } finally {
      held.release();
    }
  }

  /**
   * Captures the guest's own root disk as a standalone qcow2 stream. A running guest is paused for the copy (QEMU
   * flushes its writes when pausing) and continued after; other states are copied as they are.
   */
  async snapshot(def: GuestDefinition, paths: GuestPaths, o: Observed): Promise<SnapshotData> {
    const id = def.spec.id;
    const qmp =
      o.power === 'running' && o.pid !== undefined
        ? await this.core.ctx.monitors.get(id, o.pid, paths.qmpSocket)
        : undefined;
    await qmp?.execute('stop').catch((err) => {
      throw qmpFailure(id, 'pausing for the snapshot', err);
    });
    try {
      return { bytes: await captureRootDisk(paths), diskFormat: 'qcow2', containerFormat: 'bare' };
    } finally {
      await qmp?.execute('cont').catch((err) => {
        throw qmpFailure(id, 'continuing after the snapshot', err);
      });
    }
  }

  /** Boots the guest from its own disk again; not rescued is success. */
  async unrescue(def: GuestDefinition, paths: GuestPaths): Promise<void> {
    if (!def.rescue) return;
    await killGuest(this.core.ctx, def.spec.id, paths);
    const next: GuestDefinition = { ...def, rescue: undefined };
    await this.core.store.write(next);
    await rm(paths.rescueRoot, { force: true });
    await bootGuest(this.core.ctx, next, paths);
  }
}
