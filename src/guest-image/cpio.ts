// Writes a directory tree as a gzip'd "newc" cpio archive (the initramfs format), owned by root with fixed
// timestamps so the same tree always gives the same bytes.
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** An entry that does not exist in the tree, e.g. a device node (which needs root to create on disk). */
export interface ExtraNode {
  path: string;
  kind: 'char' | 'dir';
  mode: number;
  major?: number;
  minor?: number;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

class NewcWriter {
  readonly chunks: Buffer[] = [];
  #ino = 1;
  #length = 0;

  add(name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]): void {
    const nameBuf = Buffer.from(`${name}\0`, 'utf8');
    const header =
      '070701' +
      hex8(this.#ino++) +
      hex8(mode) +
      hex8(0) + // uid
      hex8(0) + // gid
      hex8((mode & 0o170000) === S_IFDIR ? 2 : 1) +
      hex8(0) + // mtime
      hex8(data.length) +
      hex8(0) +
      hex8(0) +
      hex8(rdev[0]) +
      hex8(rdev[1]) +
      hex8(nameBuf.length) +
      hex8(0);
    this.#push(Buffer.from(header, 'ascii'));
    this.#push(nameBuf);
    this.#pad();
    if (data.length > 0) {
      this.#push(data);
      this.#pad();
    }
  }

  finish(): Buffer {
    this.add('TRAILER!!!', 0, Buffer.alloc(0));
    return Buffer.concat(this.chunks);
  }

  #push(b: Buffer): void {
    this.chunks.push(b);
    this.#length += b.length;
  }

  #pad(): void {
    const rest = this.#length % 4;
    if (rest) this.#push(Buffer.alloc(4 - rest));
  }
}

async function addTree(w: NewcWriter, root: string, rel: string): Promise<void> {
  const names = (await readdir(rel ? join(root, rel) : root)).sort();
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    const abs = join(root, path);
    const st = await lstat(abs);
    const perm = st.mode & 0o7777;
    if (st.isDirectory()) {
      w.add(path, S_IFDIR | perm, Buffer.alloc(0));
      await addTree(w, root, path);
    } else if (st.isSymbolicLink()) {
      w.add(path, S_IFLNK | 0o777, Buffer.from(await readlink(abs), 'utf8'));
    } else if (st.isFile()) {
      w.add(path, S_IFREG | perm, await readFile(abs));
    } else {
      throw new Error(`cpio: unsupported file type at ${path}`);
    }
  }
}

/** The uncompressed newc archive of `root` plus `extra` nodes (added after the tree, e.g. dev/console). */
export async function cpioNewc(root: string, extra: readonly ExtraNode[] = []): Promise<Buffer> {
  const w = new NewcWriter();
  await addTree(w, root, '');
  for (const n of extra) {
    if (n.kind === 'dir') w.add(n.path, S_IFDIR | n.mode, Buffer.alloc(0));
    else w.add(n.path, S_IFCHR | n.mode, Buffer.alloc(0), [n.major ?? 0, n.minor ?? 0]);
  }
  return w.finish();
}

/** `root` as a gzip'd newc cpio archive (gzip level 6, no timestamp in the gzip header). */
export async function initramfsGz(root: string, extra: readonly ExtraNode[] = []): Promise<Buffer> {
  return gzipSync(await cpioNewc(root, extra), { level: 6 });
}
