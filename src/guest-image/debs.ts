// Finds, downloads (into a cache, once) and unpacks the Debian packages the test image is made of; nothing is
// installed on the host.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.ts';

/** The kernel metapackage; the image uses the versioned package it depends on. */
export const KERNEL_METAPACKAGE = 'linux-image-cloud-amd64';
export const BUSYBOX_PACKAGE = 'busybox-static';
export const SSH_PACKAGE = 'dropbear-bin';

export type PackageRole = 'kernel' | 'busybox' | 'ssh';

export interface DebPackage {
  name: string;
  version: string;
  arch: string;
  role: PackageRole;
  /** File name inside the cache directory. */
  file: string;
}

const LOCK_FILE = 'packages.json';

/** The file name `apt-get download` gives a package (the epoch's ':' becomes '%3a'). */
export function debFileName(name: string, version: string, arch: string): string {
  return `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
}

/** Top-level package names in `apt-cache depends` output (virtual packages in <> are skipped). */
export function parseDependsTree(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith(' ') && !l.startsWith('<'))
    .map((l) => l.trim());
}

/** Direct `Depends:` of the first package in `apt-cache depends` output. */
export function parseDirectDepends(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    if (!line.startsWith(' ')) break;
    const m = /^\s+\|?Depends:\s+(\S+)/.exec(line);
    if (m?.[1] && !m[1].startsWith('<')) out.push(m[1]);
  }
  return out;
}

/** Package → {version, arch} from `apt-cache show --no-all-versions` output. */
export function parseShow(text: string): Map<string, { version: string; arch: string }> {
  const out = new Map<string, { version: string; arch: string }>();
  for (const block of text.split(/\n\s*\n/)) {
    const field = (k: string) => new RegExp(`^${k}: (.+)$`, 'm').exec(block)?.[1]?.trim();
    const name = field('Package');
    const version = field('Version');
    const arch = field('Architecture');
    if (name && version && arch && !out.has(name)) out.set(name, { version, arch });
  }
  return out;
}

/**
 * Resolves the package set from the host's apt metadata (no network): the kernel, busybox, dropbear + libs.
 * apt-cache keeps its binary cache in cacheDir: hosts that disable apt's own (containers do) would otherwise
 * pay about a second per call to parse the package lists.
 */
async function resolveWithApt(cacheDir: string): Promise<DebPackage[]> {
  await mkdir(cacheDir, { recursive: true });
  const aptCache = (args: string[]) =>
    run('apt-cache', ['-o', `Dir::Cache::pkgcache=${join(cacheDir, 'apt-pkgcache.bin')}`, ...args]);
  const kernelDeps = parseDirectDepends(await aptCache(['depends', KERNEL_METAPACKAGE]));
  const kernel = kernelDeps.find((d) => /^linux-image-\d.*-cloud-amd64$/.test(d));
  if (!kernel) throw new Error(`${KERNEL_METAPACKAGE} does not depend on a versioned kernel package`);
  const sshTree = parseDependsTree(
    await aptCache([
      'depends',
      '--recurse',
      '--no-recommends',
      '--no-suggests',
      '--no-conflicts',
      '--no-breaks',
      '--no-replaces',
      '--no-enhances',
      SSH_PACKAGE,
    ]),
  );
  const roles = new Map<string, PackageRole>([
    [kernel, 'kernel'],
    [BUSYBOX_PACKAGE, 'busybox'],
  ]);
  for (const p of sshTree) if (!roles.has(p)) roles.set(p, 'ssh');
  const shown = parseShow(await aptCache(['show', '--no-all-versions', ...roles.keys()]));
  return [...roles].map(([name, role]) => {
    const s = shown.get(name);
    if (!s) throw new Error(`apt has no candidate for ${name}`);
    return { name, version: s.version, arch: s.arch, role, file: debFileName(name, s.version, s.arch) };
  });
}

/**
 * The package set: from apt when it can tell, else the set recorded in the cache by the last resolution (so a
 * populated cache builds offline).
 */
export async function resolvePackages(cacheDir: string, log: (line: string) => void): Promise<DebPackage[]> {
  const lock = join(cacheDir, LOCK_FILE);
  try {
    const pkgs = await resolveWithApt(cacheDir);
    const text = `${JSON.stringify(pkgs, null, 2)}\n`;
    const old = existsSync(lock) ? await readFile(lock, 'utf8') : '';
    if (old !== text) {
      await writeFile(`${lock}.tmp-${process.pid}`, text);
      await rename(`${lock}.tmp-${process.pid}`, lock);
    }
    return pkgs;
  } catch (err) {
    if (!existsSync(lock)) throw err;
    log(`apt could not resolve the packages (${(err as Error).message.split('\n')[0]}); using ${LOCK_FILE}`);
    return JSON.parse(await readFile(lock, 'utf8')) as DebPackage[];
  }
}

/** Downloads the packages missing from cacheDir with `apt-get download` (one call); returns their paths. */
export async function fetchDebs(
  cacheDir: string,
  pkgs: readonly DebPackage[],
  log: (line: string) => void,
): Promise<string[]> {
  await mkdir(cacheDir, { recursive: true });
  const missing = pkgs.filter((p) => !existsSync(join(cacheDir, p.file)));
  if (missing.length > 0) {
    log(`downloading ${missing.map((p) => `${p.name}=${p.version}`).join(' ')}`);
    // As root apt would drop to _apt, which may not write the cache directory.
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    await run('apt-get', [...sandbox, 'download', ...missing.map((p) => `${p.name}=${p.version}`)], {
      cwd: cacheDir,
    });
    for (const p of missing) {
      if (!existsSync(join(cacheDir, p.file))) throw new Error(`apt-get download did not produce ${p.file}`);
    }
  }
  return pkgs.map((p) => join(cacheDir, p.file));
}

/** Unpacks each .deb into `dir` with `dpkg-deb -x` (two at a time). */
export async function unpackDebs(paths: readonly string[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const queue = [...paths];
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) await run('dpkg-deb', ['-x', p, dir]);
  };
  await Promise.all([worker(), worker()]);
}
