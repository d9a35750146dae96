// Builds the CirrOS-like test guest image from Debian packages: vmlinuz, initrd.gz (newc cpio) and disk.qcow2
// (ext4 made by mke2fs -d, no loop mounts), plus manifest.json; skipped when outDir already holds this version.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initramfsGz } from './cpio.ts';
import { type DebPackage, fetchDebs, resolvePackages, unpackDebs } from './debs.ts';
import { run } from './exec.ts';
import { guestFilesHash, loadGuestFiles } from './guest-files.ts';
import { planModules } from './modules.ts';
import { assembleRootfs } from './rootfs.ts';

/** The kernel command line the disk image's os_command_line carries: the initramfs switch_roots to /dev/vda. */
export const DEFAULT_OS_COMMAND_LINE = 'console=ttyS0 root=/dev/vda rw quiet';
export const DISK_SIZE_MIB = 64;
export const IMAGE_FILES = ['vmlinuz', 'initrd.gz', 'disk.qcow2'] as const;
export type ImageFileName = (typeof IMAGE_FILES)[number];

export interface ImageFileInfo {
  size: number;
  sha256: string;
}

export interface GuestImageManifest {
  format: 1;
  /** Derived from the package versions and a hash of the guest files; equal versions mean equal images. */
  version: string;
  kernelRelease: string;
  packages: Array<Pick<DebPackage, 'name' | 'version' | 'arch' | 'role'>>;
  /** Shipped modules in load order (those needed to boot). */
  modules: string[];
  /** Modules loaded after GUEST-READY. */
  lateModules: string[];
  /** The CONFIG_ options the guest relies on that are built into the kernel. */
  builtIn: string[];
  libraries: string[];
  osCommandLine: string;
  diskVirtualSize: number;
  /** sha256 of the guest files (init scripts …) that went into the version. */
  guestFilesSha256: string;
  files: Record<ImageFileName, ImageFileInfo>;
  builtAt: string;
  buildSeconds: number;
}

export interface BuiltGuestImage {
  dir: string;
  version: string;
  /** Absolute paths of the three files. */
  kernel: string;
  initrd: string;
  disk: string;
  manifest: GuestImageManifest;
  /** False when an existing build of the same version was returned. */
  rebuilt: boolean;
}

export interface BuildOptions {
  outDir: string;
  /** Where downloaded .debs are kept (and reused). */
  cacheDir: string;
  log?: (line: string) => void;
}

/** Where the cloud keeps the test image and its package cache under its data directory. */
export function testImageLocation(dataDir: string): { outDir: string; cacheDir: string } {
  const outDir = join(dataDir, 'guest-image', 'test');
  return { outDir, cacheDir: join(outDir, 'debs') };
}

function toBuilt(dir: string, manifest: GuestImageManifest, rebuilt: boolean): BuiltGuestImage {
  return {
    dir,
    version: manifest.version,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.gz'),
    disk: join(dir, 'disk.qcow2'),
    manifest,
    rebuilt,
  };
}

/** The image already built in `dir` (manifest present and every file of the recorded size), else undefined. */
export async function readBuiltImage(dir: string): Promise<BuiltGuestImage | undefined> {
  let manifest: GuestImageManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as GuestImageManifest;
  } catch {
    return undefined;
  }
  for (const name of IMAGE_FILES) {
    const info = manifest.files?.[name];
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (!info || !st || st.size !== info.size) return undefined;
  }
  return toBuilt(dir, manifest, false);
}

function stripEpoch(v: string): string {
  return v.replace(/^\d+:/, '');
}

/** The image version: the main packages' versions and a hash over every package version and guest file. */
export function imageVersion(pkgs: readonly DebPackage[], filesHash: string): string {
  const h = createHash('sha256');
  for (const p of [...pkgs].sort((a, b) => a.name.localeCompare(b.name)))
    h.update(`${p.name}=${p.version}\n`);
  h.update(filesHash);
  const of = (role: DebPackage['role']) => stripEpoch(pkgs.find((p) => p.role === role)?.version ?? 'none');
  const sshMain = pkgs.find((p) => p.name === 'dropbear-bin')?.version ?? of('ssh');
  return `k${of('kernel')}-bb${of('busybox')}-db${stripEpoch(sshMain)}-${h.digest('hex').slice(0, 12)}`;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function kernelRelease(unpacked: string): Promise<string> {
  const kernels = (await readdir(join(unpacked, 'boot'))).filter((f) => f.startsWith('vmlinuz-'));
  if (kernels.length !== 1)
    throw new Error(`expected one kernel in the package, found ${kernels.join(', ') || 'none'}`);
  return kernels[0]!.slice('vmlinuz-'.length);
}

/** Builds the image into opts.outDir (or returns the one there when it has the same version). */
export async function buildTestImage(opts: BuildOptions): Promise<BuiltGuestImage> {
  const started = performance.now();
  const say = opts.log ?? (() => {});
  const log = (line: string) => say(`${((performance.now() - started) / 1000).toFixed(1)}s ${line}`);
  const pkgs = await resolvePackages(opts.cacheDir, log);
  const files = await loadGuestFiles();
  const filesHash = guestFilesHash(files);
  const version = imageVersion(pkgs, filesHash);
  const existing = await readBuiltImage(opts.outDir);
  if (existing?.version === version) {
    log(`test image ${version} is already built in ${opts.outDir}`);
    return existing;
  }
  log(`building test image ${version}`);
  const debs = await fetchDebs(opts.cacheDir, pkgs, log);
  await mkdir(opts.outDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'monostack-guest-image-'));
  const staging = join(opts.outDir, `.staging-${process.pid}-${Date.now()}`);
  try {
    const unpacked = join(work, 'unpacked');
    const rootfs = join(work, 'rootfs');
    await unpackDebs(debs, unpacked);
    log(`unpacked ${debs.length} packages`);
    const release = await kernelRelease(unpacked);
    const plan = await planModules(unpacked, release);
    log(`kernel ${release}: modules ${plan.modules.map((m) => m.name).join(' ')}`);
    await mkdir(rootfs);
    const summary = await assembleRootfs(unpacked, rootfs, plan, files, version);
    log(
      `root filesystem assembled (${summary.applets} busybox applets, ${summary.libraries.length} libraries)`,
    );
    await mkdir(staging);
    await copyFile(join(unpacked, 'boot', `vmlinuz-${release}`), join(staging, 'vmlinuz'));
    await writeFile(
      join(staging, 'initrd.gz'),
      await initramfsGz(rootfs, [{ path: 'dev/console', kind: 'char', mode: 0o600, major: 5, minor: 1 }]),
    );
    log('initrd.gz written');
    const raw = join(work, 'disk.raw');
    await run('mke2fs', [
      '-q',
      '-F',
      '-t',
      'ext4',
      '-L',
      'monostack-root',
      '-m',
      '0',
      '-E',
      'root_owner=0:0',
      '-d',
      rootfs,
      raw,
      `${DISK_SIZE_MIB}M`,
    ]);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, join(staging, 'disk.qcow2')]);
    log('disk.qcow2 written');
    const infos = {} as Record<ImageFileName, ImageFileInfo>;
    for (const name of IMAGE_FILES) {
      const path = join(staging, name);
      infos[name] = { size: (await stat(path)).size, sha256: await sha256File(path) };
    }
    const manifest: GuestImageManifest = {
      format: 1,
      version,
      kernelRelease: release,
      packages: pkgs.map(({ name, version: v, arch, role }) => ({ name, version: v, arch, role })),
      modules: plan.modules.filter((m) => !m.late).map((m) => m.name),
      lateModules: plan.modules.filter((m) => m.late).map((m) => m.name),
      builtIn: plan.builtIn,
      libraries: summary.libraries,
      osCommandLine: DEFAULT_OS_COMMAND_LINE,
      diskVirtualSize: DISK_SIZE_MIB * 1024 * 1024,
      guestFilesSha256: filesHash,
      files: infos,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
    // The manifest goes last: a directory with a manifest is complete.
    await rm(join(opts.outDir, 'manifest.json'), { force: true });
    for (const name of IMAGE_FILES) await rename(join(staging, name), join(opts.outDir, name));
    await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(join(staging, 'manifest.json'), join(opts.outDir, 'manifest.json'));
    log(`built test image ${version} in ${manifest.buildSeconds} s`);
    return toBuilt(opts.outDir, manifest, true);
  } finally {
    await rm(work, { recursive: true, force: true });
    if (existsSync(staging)) await rm(staging, { recursive: true, force: true });
  }
}
