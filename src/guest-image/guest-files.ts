// The guest's own files (init scripts, awk helpers, /etc): where each asset goes in the root filesystem, and the
// hash of all of them that goes into the image version.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Bump when the layout the build produces changes without any asset changing. */
export const LAYOUT_REVISION = 1;

export interface GuestFile {
  /** Path inside the guest, without the leading '/'. */
  path: string;
  mode: number;
  /** Asset file name under assets/, or literal contents. */
  asset?: string;
  text?: string;
}

export const GUEST_FILES: readonly GuestFile[] = [
  { path: 'init', mode: 0o755, asset: 'init.sh' },
  { path: 'etc/inittab', mode: 0o644, asset: 'inittab' },
  { path: 'etc/init.d/rcS', mode: 0o755, asset: 'rcS.sh' },
  { path: 'etc/init.d/rcK', mode: 0o755, asset: 'rcK.sh' },
  { path: 'etc/acpi/PWRF/00000080', mode: 0o755, asset: 'power-button.sh' },
  { path: 'usr/share/udhcpc/default.script', mode: 0o755, asset: 'udhcpc.sh' },
  { path: 'usr/lib/guest/functions.sh', mode: 0o644, asset: 'functions.sh' },
  { path: 'usr/lib/guest/json-flat.awk', mode: 0o644, asset: 'json-flat.awk' },
  { path: 'usr/lib/guest/net-plan.awk', mode: 0o644, asset: 'net-plan.awk' },
  { path: 'usr/lib/guest/disk-watch', mode: 0o755, asset: 'disk-watch.sh' },
  // No shadow file: dropbear refuses accounts whose password starts with '!', and root logs in by key only.
  { path: 'etc/passwd', mode: 0o644, text: 'root:*:0:0:root:/root:/bin/sh\n' },
  { path: 'etc/group', mode: 0o644, text: 'root:x:0:\ntty:x:5:\n' },
  { path: 'etc/shells', mode: 0o644, text: '/bin/sh\n/bin/ash\n' },
  {
    path: 'etc/nsswitch.conf',
    mode: 0o644,
    text: 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n',
  },
  { path: 'etc/hosts', mode: 0o644, text: '127.0.0.1 localhost\n' },
  { path: 'etc/hostname', mode: 0o644, text: 'guest\n' },
  {
    path: 'etc/profile',
    mode: 0o644,
    text: "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1='\\h:\\w\\$ '\n",
  },
];

/** Directories created empty (mode), and symlinks (path → target). */
export const GUEST_DIRS: ReadonlyArray<[string, number]> = [
  ['proc', 0o555],
  ['sys', 0o555],
  ['dev', 0o755],
  ['run', 0o755],
  ['tmp', 0o1777],
  ['root', 0o700],
  ['mnt', 0o755],
  ['newroot', 0o755],
  ['home', 0o755],
  ['etc/dropbear', 0o700],
  ['etc/guest', 0o755],
  ['var/lib/guest', 0o755],
  ['var/log', 0o755],
];

export const GUEST_LINKS: ReadonlyArray<[string, string]> = [
  ['var/run', '../run'],
  ['etc/resolv.conf', '../run/resolv.conf'],
];

/** The assets directory: next to this module in the sources; from dist/ the sources' copy. */
export function assetsDir(): string {
  const here = new URL('./assets/', import.meta.url);
  if (existsSync(here)) return fileURLToPath(here);
  return fileURLToPath(new URL('../../../src/guest-image/assets/', import.meta.url));
}

/** Each guest file's contents. */
export async function loadGuestFiles(): Promise<Array<GuestFile & { data: Buffer }>> {
  const dir = assetsDir();
  return Promise.all(
    GUEST_FILES.map(async (f) => ({
      ...f,
      data: f.asset ? await readFile(`${dir}${f.asset}`) : Buffer.from(f.text ?? '', 'utf8'),
    })),
  );
}

/** sha256 over every guest file (path, mode, contents), the directory/link layout and LAYOUT_REVISION. */
export function guestFilesHash(files: ReadonlyArray<GuestFile & { data: Buffer }>): string {
  const h = createHash('sha256');
  h.update(`layout ${LAYOUT_REVISION}\n${JSON.stringify([GUEST_DIRS, GUEST_LINKS])}\n`);
  for (const f of files) {
    h.update(`${f.path} ${f.mode.toString(8)} ${f.data.length}\n`);
    h.update(f.data);
  }
  return h.digest('hex');
}
