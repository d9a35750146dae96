// The disks a guest is made of: the root overlay on a cached base, the rescue overlay, the config drive, snapshots.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigDriveFile, GuestResources } from '../../guest-resources.ts';
import { DriverError, type FlavorSpec, type GuestId } from '../../hypervisor-driver.ts';
import type { BootImage, GuestPaths } from './guest-store.ts';
import type { CachedImage, ImageCache } from './image-cache.ts';
import { createOverlay, flattenToQcow2 } from './qemu-img.ts';

export type BuildConfigDrive = (files: ConfigDriveFile[], isoPath: string) => Promise<void>;

const GiB = 1024 ** 3;

/** Images held against pruning while a guest is being (re)made; release them all at the end. */
export class HeldImages {
  readonly #releases: (() => void)[] = [];
  constructor(readonly images: ImageCache) {}

  async get(imageId: string, role: 'disk' | 'kernel' | 'ramdisk'): Promise<CachedImage> {
    const { image, release } = await this.images.acquire(imageId, role);
    this.#releases.push(release);
    return image;
  }

  release(): void {
    for (const r of this.#releases.splice(0)) r();
  }
}

/** Fetches a bootable image and, for an AMI-style one, its kernel and ramdisk; returns the boot facts. */
export async function bootImageOf(
  held: HeldImages,
  imageId: string,
): Promise<{ boot: BootImage; base: CachedImage }> {
  const base = await held.get(imageId, 'disk');
  const kernelId = base.properties.kernel_id || undefined;
  const ramdiskId = base.properties.ramdisk_id || undefined;
  if (kernelId) await held.get(kernelId, 'kernel');
  if (ramdiskId) await held.get(ramdiskId, 'ramdisk');
  const boot: BootImage = { id: imageId, format: base.format };
  if (kernelId) boot.kernelId = kernelId;
  if (ramdiskId) boot.ramdiskId = ramdiskId;
  if (kernelId && base.properties.os_command_line) boot.cmdline = base.properties.os_command_line;
  return { boot, base };
}

/**
 * The root disk's virtual size for a flavor: rootGb GiB, or the image's own size when rootGb is 0. A flavor disk
 * smaller than the image is refused with Nova's FlavorDiskSmallerThanImage wording.
 */
export function rootSizeBytes(flavor: FlavorSpec, base: CachedImage): number | undefined {
  if (flavor.rootGb <= 0) return undefined;
  const bytes = flavor.rootGb * GiB;
  if (bytes < base.virtualSize)
    throw new DriverError(
      `Flavor's disk is too small for requested image. Flavor disk is ${bytes} bytes, image is ${base.virtualSize} bytes.`,
      { code: 400 },
    );
  return bytes;
}

/** Makes `dest` a fresh qcow2 overlay of `base` (written beside it, then renamed over it). */
export async function freshOverlay(base: CachedImage, dest: string, sizeBytes?: number): Promise<void> {
  const tmp = `${dest}.${randomBytes(4).toString('hex')}.new`;
  try {
    await createOverlay(base.path, base.format, tmp, sizeBytes);
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** (Re)writes the guest's config drive from the control plane's files, or removes it when not wanted. */
export async function writeConfigDrive(
  resources: GuestResources,
  build: BuildConfigDrive,
  id: GuestId,
  paths: GuestPaths,
  wanted: boolean,
): Promise<void> {
  if (!wanted) {
    await rm(paths.configIso, { force: true });
    return;
  }
  let files: ConfigDriveFile[];
  try {
    files = await resources.configDriveFiles(id);
  } catch (err) {
    throw new DriverError(`Config drive files of ${id} are unavailable: ${(err as Error).message}`, {
      transient: true,
      code: 503,
      cause: err,
    });
  }
  const tmp = `${paths.configIso}.${randomBytes(4).toString('hex')}.new`;
  try {
    await build(files, tmp);
    await rename(tmp, paths.configIso);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Chunks of a captured image; the file was unlinked already, so the open handle is all that keeps it. */
async function* chunksOf(fh: Awaited<ReturnType<typeof open>>): AsyncGenerator<Uint8Array> {
  try {
    const buf = Buffer.alloc(1024 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      yield new Uint8Array(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}

/** Flattens the guest's own root disk (overlay + base) into a standalone qcow2 and streams it. */
export async function captureRootDisk(paths: GuestPaths): Promise<AsyncIterable<Uint8Array>> {
  const tmp = join(paths.dir, `snapshot-${randomBytes(6).toString('hex')}.qcow2`);
  try {
    await flattenToQcow2(paths.root, tmp);
    const fh = await open(tmp, 'r');
    return chunksOf(fh);
  } finally {
    await rm(tmp, { force: true });
  }
}
