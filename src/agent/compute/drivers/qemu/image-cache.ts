// Base images cached once per host under <stateDir>/images: downloaded, verified, probed, shared by every guest.
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type GuestResources, type ImageDownload, ImageUnavailable } from '../../guest-resources.ts';
import { DriverError } from '../../hypervisor-driver.ts';
import { imageInfo } from './qemu-img.ts';

/** What a cached image is used as: a root disk, or the kernel / ramdisk of an AMI-style image. */
export type ImageRole = 'disk' | 'kernel' | 'ramdisk';

export interface CachedImage {
  id: string;
  /** The verified bytes on this host. */
  path: string;
  /** The format QEMU opens it with (probed, and consistent with the declared disk_format). */
  format: 'qcow2' | 'raw';
  diskFormat: string;
  containerFormat: string;
  size: number;
  virtualSize: number;
  minDisk: number;
  minRam: number;
  properties: Record<string, string>;
}

export interface ImageCacheOptions {
  dir: string;
  resources: GuestResources;
  /** Image ids some guest still uses (kernels, ramdisks and rescue images included); prune keeps them. */
  inUse: () => Promise<Set<string>>;
}

/** Disk formats a guest can boot from, and the probed format each must have. */
const DISK_FORMATS: Record<string, 'qcow2' | 'raw'> = { qcow2: 'qcow2', raw: 'raw', ami: 'raw' };
const REFUSED_CONTAINERS = new Set(['docker', 'ova', 'compressed']);
/** Image ids become file names: keep them to Glance-like ids. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function unacceptable(imageId: string, reason: string): DriverError {
  return new DriverError(`Image ${imageId} is unacceptable: ${reason}`, { code: 400 });
}

/**
 * The host's image cache. Concurrent requests for one image share one download; every image is verified against
 * its size and os_hash (or md5 checksum) before it is renamed into place, so a cached file is always whole.
 */
export class ImageCache {
  readonly dir: string;
  readonly #resources: GuestResources;
  readonly #inUse: () => Promise<Set<string>>;
  readonly #inflight = new Map<string, Promise<CachedImage>>();
  readonly #held = new Map<string, number>();

  constructor(opts: ImageCacheOptions) {
    this.dir = opts.dir;
    this.#resources = opts.resources;
    this.#inUse = opts.inUse;
  }

  /** The cached image, downloading it first when absent; refused images throw DriverError (code 400). */
  async fetch(imageId: string, role: ImageRole): Promise<CachedImage> {
    if (!SAFE_ID.test(imageId)) throw unacceptable(imageId, 'the image id is not usable as a file name');
    let image = await this.#readCached(imageId);
    if (!image) {
      let download = this.#inflight.get(imageId);
      if (!download) {
        download = this.#download(imageId, role).finally(() => this.#inflight.delete(imageId));
        this.#inflight.set(imageId, download);
      }
      image = await download;
    }
    checkRole(image, role);
    return image;
  }

  /** Fetches and holds an image against prune until `release` is called. */
  async acquire(imageId: string, role: ImageRole): Promise<{ image: CachedImage; release: () => void }> {
    this.#held.set(imageId, (this.#held.get(imageId) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (this.#held.get(imageId) ?? 1) - 1;
      if (n <= 0) this.#held.delete(imageId);
      else this.#held.set(imageId, n);
    };
    try {
      return { image: await this.fetch(imageId, role), release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Removes cached images no guest uses (and leftovers of interrupted downloads); returns the removed ids. */
  async prune(): Promise<string[]> {
    const used = await this.#inUse();
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      if (name.startsWith('.part-')) {
        const owner = name.slice('.part-'.length).replace(/-[0-9a-f]{12}$/, '');
        if (!this.#inflight.has(owner)) await rm(join(this.dir, name), { force: true });
        continue;
      }
      if (name.endsWith('.json') || name.startsWith('.')) continue;
      if (used.has(name) || this.#held.has(name) || this.#inflight.has(name)) continue;
      await rm(join(this.dir, name), { force: true });
      await rm(join(this.dir, `${name}.json`), { force: true });
      removed.push(name);
    }
    return removed;
  }

  async #readCached(imageId: string): Promise<CachedImage | undefined> {
    try {
      const meta = JSON.parse(await readFile(join(this.dir, `${imageId}.json`), 'utf8')) as CachedImage;
      await access(join(this.dir, imageId));
      return { ...meta, path: join(this.dir, imageId) };
    } catch {
      return undefined;
    }
  }

  async #download(imageId: string, role: ImageRole): Promise<CachedImage> {
    let dl: ImageDownload;
    try {
      dl = await this.#resources.openImage(imageId);
    } catch (err) {
      if (err instanceof ImageUnavailable) throw new DriverError(err.message, { code: 400, cause: err });
      throw new DriverError(`Image ${imageId} could not be downloaded: ${(err as Error).message}`, {
        transient: true,
        code: 503,
        cause: err,
      });
    }
    try {
      if (REFUSED_CONTAINERS.has(dl.containerFormat))
        throw unacceptable(
          imageId,
          `container_format ${dl.containerFormat} is not supported by this hypervisor`,
        );
      checkRole({ id: imageId, diskFormat: dl.diskFormat }, role);
    } catch (err) {
      await dl.body[Symbol.asyncIterator]().return?.();
      throw err;
    }
    await mkdir(this.dir, { recursive: true });
    const part = join(this.dir, `.part-${imageId}-${randomBytes(6).toString('hex')}`);
    try {
      const size = await writeVerified(imageId, dl, part);
      const info = await imageInfo(part);
      const image: CachedImage = {
        id: imageId,
        path: join(this.dir, imageId),
        format: info.format === 'qcow2' ? 'qcow2' : 'raw',
        diskFormat: dl.diskFormat,
        containerFormat: dl.containerFormat,
        size,
        virtualSize: info.virtualSize,
        minDisk: dl.minDisk,
        minRam: dl.minRam,
        properties: { ...dl.properties },
      };
      checkProbe(image, info);
      await rename(part, image.path);
      const metaPart = `${part}.json`;
      await writeFile(metaPart, JSON.stringify(image));
      await rename(metaPart, join(this.dir, `${imageId}.json`));
      return image;
    } finally {
      await rm(part, { force: true });
      await rm(`${part}.json`, { force: true });
    }
  }
}

/** Streams the image into `path`, checking its size and hash; returns the size. */
async function writeVerified(imageId: string, dl: ImageDownload, path: string): Promise<number> {
  let hash: ReturnType<typeof createHash> | undefined;
  let expected: string | undefined;
  let algo: string | undefined;
  if (dl.osHashAlgo && dl.osHashValue) {
    algo = dl.osHashAlgo;
    expected = dl.osHashValue.toLowerCase();
    try {
      hash = createHash(algo);
    } catch {
      throw unacceptable(imageId, `os_hash_algo ${algo} is not supported`);
    }
  } else if (dl.checksum) {
    algo = 'md5';
    expected = dl.checksum.toLowerCase();
    hash = createHash('md5');
  }
  const fh = await open(path, 'wx', 0o644);
  let size = 0;
  try {
    for await (const chunk of dl.body) {
      hash?.update(chunk);
      size += chunk.byteLength;
      let off = 0;
      while (off < chunk.byteLength) off += (await fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
    }
    await fh.sync();
  } catch (err) {
    if (err instanceof DriverError) throw err;
    throw new DriverError(`Image ${imageId} could not be downloaded: ${(err as Error).message}`, {
      transient: true,
      code: 503,
      cause: err,
    });
  } finally {
    await fh.close();
  }
  if (dl.size > 0 && size !== dl.size)
    throw unacceptable(imageId, `received ${size} bytes where the image has ${dl.size}`);
  if (hash && expected !== undefined) {
    const got = hash.digest('hex');
    if (got !== expected)
      throw unacceptable(imageId, `${algo} checksum mismatch (expected ${expected}, got ${got})`);
  }
  return size;
}

/** A probed image must match its declared disk_format and stand alone (no backing or external data file). */
function checkProbe(
  image: CachedImage,
  info: { format: string; backingFile?: string; dataFile?: string },
): void {
  const want = DISK_FORMATS[image.diskFormat];
  if (!want) return; // kernels, ramdisks and formats refused when used as disks
  if (info.format !== want)
    throw unacceptable(
      image.id,
      `disk_format ${image.diskFormat} does not match its content (${info.format})`,
    );
  if (info.backingFile) throw unacceptable(image.id, 'a qcow2 image with a backing file cannot be used');
  if (info.dataFile) throw unacceptable(image.id, 'a qcow2 image with an external data file cannot be used');
}

function checkRole(image: Pick<CachedImage, 'id' | 'diskFormat'>, role: ImageRole): void {
  if (role !== 'disk') return;
  if (!DISK_FORMATS[image.diskFormat])
    throw unacceptable(
      image.id,
      `disk_format ${image.diskFormat} is not supported by this hypervisor (supported: qcow2, raw, ami)`,
    );
}
