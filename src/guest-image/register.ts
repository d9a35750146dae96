// Registers a built test image in the image service the AMI way: a kernel (aki), a ramdisk (ari) and the root
// disk (qcow2) whose kernel_id/ramdisk_id/os_command_line point at them; reuses what a previous run uploaded.
import { readFile } from 'node:fs/promises';
import type { ImageBody, ImageClient } from '../clients/image.ts';
import type { BuiltGuestImage } from './build.ts';

/** The image property that records which build an image came from. */
export const IMAGE_VERSION_PROPERTY = 'monostack_image_version';

export interface RegisteredTestImage {
  imageId: string;
  kernelId: string;
  ramdiskId: string;
}

export interface RegisterOptions {
  name: string;
  /** Glance visibility (public needs an admin token); the image service's default when absent. */
  visibility?: string;
}

interface Part {
  name: string;
  format: 'aki' | 'ari' | 'qcow2';
  container: 'aki' | 'ari' | 'bare';
  file: string;
  extra: Record<string, unknown>;
}

function isOurs(img: ImageBody, name: string, version: string): boolean {
  return img.name === name && img[IMAGE_VERSION_PROPERTY] === version;
}

/** An active image of this name and version, uploading one when there is none (stale half-made ones go). */
async function ensure(
  client: ImageClient,
  token: string,
  part: Part,
  version: string,
  visibility: string | undefined,
): Promise<string> {
  const same = (await client.list(token, { name: part.name })).filter((i) => isOurs(i, part.name, version));
  const active = same.find((i) => i.status === 'active');
  if (active) return active.id;
  for (const leftover of same.filter((i) => i.status === 'queued' || i.status === 'saving')) {
    await client.delete(token, leftover.id);
  }
  const created = await client.create(token, {
    name: part.name,
    disk_format: part.format,
    container_format: part.container,
    ...(visibility ? { visibility } : {}),
    [IMAGE_VERSION_PROPERTY]: version,
    ...part.extra,
  });
  try {
    await client.upload(token, created.id, await readFile(part.file));
  } catch (err) {
    await client.delete(token, created.id).catch(() => {});
    throw err;
  }
  return created.id;
}

/**
 * Makes sure the image service holds `built` under opts.name (disk), `<name>-kernel` and `<name>-ramdisk`;
 * idempotent: active images of the same name and monostack_image_version are reused.
 */
export async function registerTestImage(
  client: ImageClient,
  token: string,
  built: BuiltGuestImage,
  opts: RegisterOptions,
): Promise<RegisteredTestImage> {
  const version = built.version;
  const existing = (await client.list(token, { name: opts.name })).find(
    (i) => i.status === 'active' && isOurs(i, opts.name, version),
  );
  if (existing && typeof existing.kernel_id === 'string' && typeof existing.ramdisk_id === 'string') {
    const [kernel, ramdisk] = await Promise.all([
      client.find(token, existing.kernel_id),
      client.find(token, existing.ramdisk_id),
    ]);
    if (kernel?.status === 'active' && ramdisk?.status === 'active') {
      return { imageId: existing.id, kernelId: kernel.id, ramdiskId: ramdisk.id };
    }
  }
  const kernelId = await ensure(
    client,
    token,
    { name: `${opts.name}-kernel`, format: 'aki', container: 'aki', file: built.kernel, extra: {} },
    version,
    opts.visibility,
  );
  const ramdiskId = await ensure(
    client,
    token,
    { name: `${opts.name}-ramdisk`, format: 'ari', container: 'ari', file: built.initrd, extra: {} },
    version,
    opts.visibility,
  );
  if (existing) await client.delete(token, existing.id); // its kernel or ramdisk is gone: make it anew
  const imageId = await ensure(
    client,
    token,
    {
      name: opts.name,
      format: 'qcow2',
      container: 'bare',
      file: built.disk,
      extra: {
        kernel_id: kernelId,
        ramdisk_id: ramdiskId,
        os_command_line: built.manifest.osCommandLine,
        min_disk: 1,
      },
    },
    version,
    opts.visibility,
  );
  return { imageId, kernelId, ramdiskId };
}
