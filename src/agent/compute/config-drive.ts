// Builds a config drive image: the files in a temporary tree, then an ISO 9660 (Rock Ridge + Joliet, volume label
// config-2) made by genisoimage with Nova's flags, written to a temporary name and renamed into place.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ConfigDriveFile } from './guest-resources.ts';

const run = promisify(execFile);

/** The volume label cloud-init and cloudbase-init look for. */
export const CONFIG_DRIVE_LABEL = 'config-2';

export interface ConfigDriveIsoOptions {
  /** The ISO tool (Nova's mkisofs_cmd); default "genisoimage". */
  mkisofs?: string;
  /** The ISO's publisher field; default "Monostack". */
  publisher?: string;
}

/** A drive-relative path, checked: no leading "/", no empty, "." or ".." segments. */
function safeRelative(path: string): string {
  if (path.split('/').some((p) => p === '' || p === '..' || p === '.')) {
    throw new Error(`config drive file path "${path}" is not a relative path inside the drive`);
  }
  return path;
}

/** Writes the files into `dir`. */
async function writeTree(dir: string, files: ConfigDriveFile[]): Promise<void> {
  for (const f of files) {
    const target = join(dir, ...safeRelative(f.path).split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.contents);
  }
}

/**
 * Makes the config drive ISO at `isoPath` (replacing any previous one atomically). The temporary tree is removed
 * whatever happens; a failed build leaves no partial ISO behind.
 */
export async function buildConfigDriveIso(
  files: ConfigDriveFile[],
  isoPath: string,
  opts: ConfigDriveIsoOptions = {},
): Promise<void> {
  const tree = await mkdtemp(join(tmpdir(), 'monostack-configdrive-'));
  const partial = `${isoPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeTree(tree, files);
    await mkdir(dirname(isoPath), { recursive: true });
    // biome-ignore format: one flag per line reads as Nova's list.
    const args = [
      '-o', partial,
      '-ldots',
      '-allow-lowercase',
      '-allow-multidot',
      '-l',
      '-publisher', opts.publisher ?? 'Monostack',
      '-quiet',
      '-J',
      '-r',
      '-V', CONFIG_DRIVE_LABEL,
      tree,
    ];
    try {
      await run(opts.mkisofs ?? 'genisoimage', args, { maxBuffer: 4 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`building the config drive failed: ${(e.stderr || e.message).trim()}`);
    }
    await rename(partial, isoPath);
  } finally {
    await rm(partial, { force: true });
    await rm(tree, { recursive: true, force: true });
  }
}
