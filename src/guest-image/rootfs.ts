// Assembles the guest's root filesystem tree (the same tree becomes the initramfs and the ext4 disk) from the
// unpacked packages: busybox and its applet links, dropbear with the libraries it links, the kernel modules,
// and the guest files.
import { chmod, copyFile, lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { readDynamic } from './elf.ts';
import { run } from './exec.ts';
import { GUEST_DIRS, GUEST_LINKS, type GuestFile } from './guest-files.ts';
import type { ModulePlan } from './modules.ts';

const LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'lib', 'usr/lib'];
const GUEST_LIB_DIR = 'lib/x86_64-linux-gnu';
const DROPBEAR_BINARIES = ['usr/sbin/dropbear', 'usr/bin/dropbearkey', 'usr/bin/dbclient'];

/** Follows symlinks of `rel` inside `root` (absolute targets are taken relative to root); undefined if absent. */
async function resolveInside(root: string, rel: string): Promise<string | undefined> {
  let cur = rel;
  for (let hops = 0; hops < 16; hops++) {
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(join(root, cur));
    } catch {
      return undefined;
    }
    if (!st.isSymbolicLink()) return st.isFile() ? cur : undefined;
    const target = await readlink(join(root, cur));
    cur = target.startsWith('/') ? target.slice(1) : posix.join(posix.dirname(cur), target);
  }
  throw new Error(`too many symlinks at ${rel}`);
}

async function findLibrary(root: string, soname: string): Promise<string> {
  for (const dir of LIB_DIRS) {
    const found = await resolveInside(root, `${dir}/${soname}`);
    if (found) return found;
  }
  throw new Error(`library ${soname} is not in the unpacked packages`);
}

async function put(rootfs: string, path: string, data: Buffer | string, mode: number): Promise<void> {
  const dest = join(rootfs, path);
  await mkdir(dirname(dest), { recursive: true });
  await writeFile(dest, data);
  await chmod(dest, mode);
}

async function copyInto(from: string, rootfs: string, path: string): Promise<void> {
  const dest = join(rootfs, path);
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(from, dest);
}

async function link(rootfs: string, path: string, target: string): Promise<void> {
  await mkdir(dirname(join(rootfs, path)), { recursive: true });
  await symlink(target, join(rootfs, path));
}

/** busybox and a symlink per applet at the path busybox itself lists (`--list-full`). */
async function installBusybox(unpacked: string, rootfs: string): Promise<number> {
  await copyInto(join(unpacked, 'bin/busybox'), rootfs, 'bin/busybox');
  const applets = (await run(join(unpacked, 'bin/busybox'), ['--list-full'])).split('\n').filter(Boolean);
  let count = 0;
  for (const path of applets) {
    if (path === 'bin/busybox' || path === 'linuxrc' || !path.includes('/')) continue;
    await link(rootfs, path, posix.relative(posix.dirname(path), 'bin/busybox'));
    count++;
  }
  return count;
}

/** dropbear's binaries plus the closure of their DT_NEEDED libraries and the dynamic loader. */
async function installDropbear(unpacked: string, rootfs: string): Promise<string[]> {
  const libs = new Map<string, string>(); // soname → path in unpacked
  const queue: string[] = [];
  let interpreter: string | undefined;
  for (const bin of DROPBEAR_BINARIES) {
    const data = await readFile(join(unpacked, bin));
    await put(rootfs, bin, data, 0o755);
    const dyn = readDynamic(data);
    interpreter ??= dyn.interpreter;
    queue.push(...dyn.needed);
  }
  for (let soname = queue.shift(); soname; soname = queue.shift()) {
    if (libs.has(soname)) continue;
    const path = await findLibrary(unpacked, soname);
    libs.set(soname, path);
    queue.push(...readDynamic(await readFile(join(unpacked, path))).needed);
  }
  if (!interpreter) throw new Error('dropbear has no program interpreter');
  const interpName = posix.basename(interpreter);
  libs.set(interpName, await findLibrary(unpacked, interpName));
  for (const [soname, path] of libs) {
    await copyInto(join(unpacked, path), rootfs, `${GUEST_LIB_DIR}/${soname}`);
    await chmod(join(rootfs, GUEST_LIB_DIR, soname), 0o755);
  }
  const interpPath = interpreter.replace(/^\/+/, '');
  if (interpPath !== `${GUEST_LIB_DIR}/${interpName}`) {
    await link(
      rootfs,
      interpPath,
      posix.relative(posix.dirname(interpPath), `${GUEST_LIB_DIR}/${interpName}`),
    );
  }
  return [...libs.keys()].sort();
}

/** The modules at their usual paths, a modules.dep for modprobe, and the load order in /etc/guest/modules{,.late}. */
async function installModules(unpacked: string, rootfs: string, plan: ModulePlan): Promise<void> {
  const base = `lib/modules/${plan.release}`;
  const byName = new Map(plan.modules.map((m) => [m.name, m]));
  const dep: string[] = [];
  for (const m of plan.modules) {
    await copyInto(join(unpacked, m.path), rootfs, m.path);
    const rel = (p: string) => relative(base, p);
    dep.push(`${rel(m.path)}: ${m.depends.map((d) => rel(byName.get(d)!.path)).join(' ')}`.trimEnd());
  }
  await put(rootfs, `${base}/modules.dep`, `${dep.join('\n')}\n`, 0o644);
  const list = (late: boolean) =>
    plan.modules
      .filter((m) => m.late === late)
      .map((m) => `${m.name} /${m.path}\n`)
      .join('');
  await put(rootfs, 'etc/guest/modules', list(false), 0o644);
  await put(rootfs, 'etc/guest/modules.late', list(true), 0o644);
}

export interface RootfsSummary {
  applets: number;
  libraries: string[];
}

/** Builds the root filesystem tree in `rootfs` (an empty directory) from the packages unpacked in `unpacked`. */
export async function assembleRootfs(
  unpacked: string,
  rootfs: string,
  plan: ModulePlan,
  files: ReadonlyArray<GuestFile & { data: Buffer }>,
  version: string,
): Promise<RootfsSummary> {
  for (const [dir, mode] of GUEST_DIRS) {
    await mkdir(join(rootfs, dir), { recursive: true });
    await chmod(join(rootfs, dir), mode);
  }
  const applets = await installBusybox(unpacked, rootfs);
  const libraries = await installDropbear(unpacked, rootfs);
  await installModules(unpacked, rootfs, plan);
  for (const f of files) await put(rootfs, f.path, f.data, f.mode);
  for (const [path, target] of GUEST_LINKS) await link(rootfs, path, target);
  await put(rootfs, 'etc/guest/image-version', `${version}\n`, 0o644);
  return { applets, libraries };
}
