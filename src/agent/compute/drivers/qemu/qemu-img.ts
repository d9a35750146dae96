// qemu-img as the driver uses it: probe an image's format, make overlays, grow them, flatten a chain into one file.
import { execFile } from 'node:child_process';
import { DriverError } from '../../hypervisor-driver.ts';

export const QEMU_IMG = 'qemu-img';

/** What `qemu-img info` says about an image (the fields the driver relies on). */
export interface ImageInfo {
  format: string;
  virtualSize: number;
  backingFile?: string;
  /** qcow2's external data file, which the driver refuses in base images. */
  dataFile?: string;
}

/** Runs qemu-img; failures become DriverError with its stderr. */
export function qemuImg(args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(QEMU_IMG, args, { maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const detail = String(stderr).trim() || err.message;
        reject(new DriverError(`${what} failed: ${detail}`, { cause: err }));
      } else resolve(String(stdout));
    });
  });
}

/** Probes an image. `shared` (-U) reads one a running QEMU holds locked. */
export async function imageInfo(path: string, opts: { shared?: boolean } = {}): Promise<ImageInfo> {
  const args = ['info', '--output=json'];
  if (opts.shared) args.push('-U');
  args.push(path);
  const raw = JSON.parse(await qemuImg(args, `Probing ${path}`)) as {
    format: string;
    'virtual-size': number;
    'backing-filename'?: string;
    'format-specific'?: { data?: { 'data-file'?: string } };
  };
  return {
    format: raw.format,
    virtualSize: raw['virtual-size'],
    backingFile: raw['backing-filename'],
    dataFile: raw['format-specific']?.data?.['data-file'],
  };
}

/** A qcow2 overlay on `base`; sizeBytes grows its virtual size past the base's (undefined keeps the base's). */
export async function createOverlay(
  base: string,
  baseFormat: string,
  path: string,
  sizeBytes?: number,
): Promise<void> {
  const args = ['create', '-q', '-f', 'qcow2', '-b', base, '-F', baseFormat, path];
  if (sizeBytes !== undefined) args.push(String(sizeBytes));
  await qemuImg(args, 'Creating the disk overlay');
}

/** Grows an image that no QEMU has open to `sizeBytes`. */
export async function growImage(path: string, sizeBytes: number): Promise<void> {
  await qemuImg(['resize', '-q', '-f', 'qcow2', path, String(sizeBytes)], 'Growing the root disk');
}

/** Flattens `source` and its backing chain into a standalone qcow2 at `dest` (readable while a QEMU holds it). */
export async function flattenToQcow2(source: string, dest: string): Promise<void> {
  await qemuImg(['convert', '-U', '-O', 'qcow2', source, dest], 'Capturing the disk');
}
