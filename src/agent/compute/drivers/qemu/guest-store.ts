// Per-guest state on disk: <stateDir>/guests/<id>/ with definition.json, the root overlay, sockets, logs, pidfile.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GuestSpec } from '../../hypervisor-driver.ts';
import type { DiskBackend } from './qemu-command.ts';

/** The image facts a guest boots from (its own image, or the rescue image). */
export interface BootImage {
  id: string;
  format: 'qcow2' | 'raw';
  /** AMI-style direct kernel boot: the kernel and ramdisk image ids and the command line. */
  kernelId?: string;
  ramdiskId?: string;
  cmdline?: string;
}

export interface AttachedDisk {
  id: string;
  /** The guest device name recorded for the API ('/dev/vdb'); the guest names disks by probe order. */
  device: string;
  source: string;
  backend: DiskBackend;
  readOnly: boolean;
  slot: number;
}

export interface AttachedNic {
  id: string;
  macAddress: string;
  /** The host tap QEMU opens; a NIC without one has no host backend. */
  device?: string;
  mtu?: number;
  /** The Neutron network the VIF plugger wires the tap into. */
  networkId?: string;
  slot: number;
}

/** Everything needed to rebuild the guest's QEMU command line, kept across agent restarts. */
export interface GuestDefinition {
  version: 1;
  /** The spec as last created or rebuilt; spec.flavor is the current flavor (resize updates it). */
  spec: GuestSpec;
  image: BootImage;
  /** Set while the guest runs from a rescue disk (rescue.qcow2) with its own disk second. */
  rescue?: BootImage;
  disks: AttachedDisk[];
  nics: AttachedNic[];
  configDrive: boolean;
  createdAt: string;
}

export interface GuestPaths {
  dir: string;
  definition: string;
  root: string;
  rescueRoot: string;
  configIso: string;
  pidFile: string;
  qmpSocket: string;
  serialSocket: string;
  serialLog: string;
  vncSocket: string;
  /** Where QEMU sends a suspending guest's memory (read by the driver into stateFile). */
  migrateSocket: string;
  /** The saved memory of a suspended guest. */
  stateFile: string;
  /** Facts about the current boot (where its console output starts). */
  bootFile: string;
}

/** Guest ids become directory names and QEMU -name values: no separators, commas or leading dots. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** sun_path holds 108 bytes with the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

export function isValidGuestId(id: string): boolean {
  return SAFE_ID.test(id);
}

/** The files of a guest in `dir`; its unix sockets in `socketDir` (the same directory seen through a short alias). */
export function pathsIn(dir: string, socketDir = dir): GuestPaths {
  return {
    dir,
    definition: join(dir, 'definition.json'),
    root: join(dir, 'root.qcow2'),
    rescueRoot: join(dir, 'rescue.qcow2'),
    configIso: join(dir, 'config.iso'),
    pidFile: join(dir, 'pid'),
    qmpSocket: join(socketDir, 'qmp.sock'),
    serialSocket: join(socketDir, 'serial.sock'),
    serialLog: join(dir, 'serial.log'),
    vncSocket: join(socketDir, 'vnc.sock'),
    migrateSocket: join(socketDir, 'migrate.sock'),
    stateFile: join(dir, 'suspend.state'),
    bootFile: join(dir, 'boot.json'),
  };
}

/**
 * The directory guests' sockets are addressed through: the guests directory itself when its socket paths fit in
 * sun_path, else a short symlink to it (under /run/monostack-qemu, or the temp dir when /run is not writable),
 * named by a hash of the guests directory so every driver over it finds the same one.
 */
export function socketRootFor(guestsDir: string): string {
  const fits = (root: string) =>
    Buffer.byteLength(join(root, '00000000-0000-0000-0000-000000000000', 'serial.sock')) <= MAX_SOCKET_PATH;
  if (fits(guestsDir)) return guestsDir;
  const target = resolve(guestsDir);
  const name = createHash('sha256').update(target).digest('hex').slice(0, 16);
  for (const base of [join('/run', 'monostack-qemu'), join(tmpdir(), 'monostack-qemu')]) {
    const link = join(base, name);
    try {
      mkdirSync(base, { recursive: true, mode: 0o700 });
      let current: string | undefined;
      try {
        current = readlinkSync(link);
      } catch {}
      if (current !== target) {
        rmSync(link, { force: true });
        symlinkSync(target, link);
      }
      if (fits(link)) return link;
    } catch {}
  }
  throw new Error(`No short enough directory for the unix sockets of guests in ${guestsDir}`);
}

/** A guest directory being created: invisible to listings until commit() renames it into place. */
export interface StagedGuest {
  paths: GuestPaths;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export class GuestStore {
  readonly root: string;
  /** Where the guests' sockets are addressed (root, or a short alias of it). */
  readonly socketRoot: string;

  constructor(root: string, socketRoot = root) {
    this.root = root;
    this.socketRoot = socketRoot;
  }

  paths(id: string): GuestPaths {
    return pathsIn(join(this.root, id), join(this.socketRoot, id));
  }

  /** The definition, or undefined when the guest does not exist (or the id is not one we could have made). */
  async read(id: string): Promise<GuestDefinition | undefined> {
    if (!isValidGuestId(id)) return undefined;
    try {
      return JSON.parse(await readFile(this.paths(id).definition, 'utf8')) as GuestDefinition;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  /** Replaces the definition atomically. */
  async write(def: GuestDefinition, paths = this.paths(def.spec.id)): Promise<void> {
    const tmp = `${paths.definition}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, `${JSON.stringify(def, null, 2)}\n`);
    await rename(tmp, paths.definition);
  }

  /** Ids of every guest with a directory (staging directories excluded). */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    return names.filter((n) => isValidGuestId(n));
  }

  /** A fresh staging directory for a guest; commit() makes it the guest's directory. */
  async stage(id: string): Promise<StagedGuest> {
    await mkdir(this.root, { recursive: true });
    const dir = join(this.root, `.creating-${id}-${randomBytes(4).toString('hex')}`);
    await mkdir(dir);
    const target = join(this.root, id);
    return {
      paths: pathsIn(dir),
      commit: async () => {
        await rm(target, { recursive: true, force: true });
        await rename(dir, target);
      },
      abort: () => rm(dir, { recursive: true, force: true }),
    };
  }

  async remove(id: string): Promise<void> {
    if (!isValidGuestId(id)) return;
    await rm(join(this.root, id), { recursive: true, force: true });
  }
}
