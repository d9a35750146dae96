// Shared helpers of the QEMU driver tests: temp state dirs, small images, a fake GuestResources, and reaping QEMUs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ConfigDriveFile,
  type GuestResources,
  type ImageDownload,
  ImageUnavailable,
} from '../../../../src/agent/compute/guest-resources.ts';

/** A short temp dir (unix socket paths must stay under 108 bytes). */
export function tempDir(prefix = 'qd-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A blank qcow2 image of `sizeMb` MiB (SeaBIOS finds nothing to boot: enough for QMP, power, disks). */
export function blankQcow2(path: string, sizeMb = 16): string {
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path, `${sizeMb}M`]);
  return path;
}

export function sha512Of(path: string): string {
  return createHash('sha512').update(readFileSync(path)).digest('hex');
}

export function md5Of(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

export interface FakeImage {
  file: string;
  diskFormat?: string;
  containerFormat?: string;
  properties?: Record<string, string>;
  /** Overrides of what the image service claims (to test verification). */
  size?: number;
  checksum?: string;
  osHashValue?: string;
  /** Delay before the body's first chunk, to make downloads overlap. */
  delayMs?: number;
}

/** Serves image files from disk; `fallback` answers any id not registered (the contract's image ids). */
export class FakeResources implements GuestResources {
  readonly images = new Map<string, FakeImage>();
  readonly opens = new Map<string, number>();
  /** Bytes actually read from bodies, per image id. */
  readonly bytesRead = new Map<string, number>();
  fallback: FakeImage | undefined;
  configFiles: ConfigDriveFile[] = [{ path: 'openstack/latest/meta_data.json', contents: '{"uuid":"x"}' }];

  add(id: string, image: FakeImage): this {
    this.images.set(id, image);
    return this;
  }

  async openImage(imageId: string): Promise<ImageDownload> {
    this.opens.set(imageId, (this.opens.get(imageId) ?? 0) + 1);
    const img = this.images.get(imageId) ?? this.fallback;
    if (!img) throw new ImageUnavailable(imageId, 'it does not exist');
    const size = statSync(img.file).size;
    const read = this.bytesRead;
    async function* body(): AsyncGenerator<Uint8Array> {
      if (img?.delayMs) await sleep(img.delayMs);
      for await (const chunk of createReadStream(img?.file ?? '')) {
        read.set(imageId, (read.get(imageId) ?? 0) + (chunk as Buffer).byteLength);
        yield chunk as Buffer;
      }
    }
    return {
      id: imageId,
      diskFormat: img.diskFormat ?? 'qcow2',
      containerFormat: img.containerFormat ?? 'bare',
      size: img.size ?? size,
      checksum: img.checksum ?? md5Of(img.file),
      osHashAlgo: 'sha512',
      osHashValue: img.osHashValue ?? sha512Of(img.file),
      minDisk: 0,
      minRam: 0,
      properties: { ...(img.properties ?? {}) },
      body: body(),
    };
  }

  async configDriveFiles(_serverId: string): Promise<ConfigDriveFile[]> {
    return this.configFiles;
  }
}

/** The pids of every QEMU whose -pidfile lies under `stateDir` (found in /proc, whatever the guest dirs say). */
export function qemuPidsUnder(stateDir: string): number[] {
  const prefix = `${stateDir}/`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const i = args.indexOf('-pidfile');
      if (i >= 0 && (args[i + 1] ?? '').startsWith(prefix)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** The QEMU pids of one guest id (any state dir). */
export function qemuPidsOf(guestId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const i = args.indexOf('-name');
      if (i >= 0 && args[i + 1] === `guest=${guestId},debug-threads=on`) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** SIGKILLs every QEMU the tests started under `stateDir` (by PID), then removes the directory. */
export async function reapStateDir(stateDir: string): Promise<void> {
  for (const pid of qemuPidsUnder(stateDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (let i = 0; i < 100 && qemuPidsUnder(stateDir).length > 0; i++) await sleep(20);
  await rm(stateDir, { recursive: true, force: true });
}

/** Kills one process by PID if it still runs (for QEMUs a test spawned by hand). */
export function killPid(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}
