// A guest's serial log: tails for console output, readiness (a GUEST-READY line since the current boot), rotation.
import { open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { GuestPaths } from './guest-store.ts';

/** Bytes of the log console output reads at most (Nova's libvirt driver caps it at 100 KiB too). */
export const CONSOLE_TAIL_BYTES = 100 * 1024;
/** A log past this size is cut down to its tail when the guest next starts. */
const ROTATE_AT_BYTES = 1024 * 1024;
const KEEP_ON_ROTATE_BYTES = 128 * 1024;
const READY_PREFIX = 'GUEST-READY';

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  if (to <= from) return Buffer.alloc(0);
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return Buffer.alloc(0);
  try {
    const buf = Buffer.alloc(to - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The last `length` lines of the serial log (all of its last 100 KiB when absent), joined by '\n'. */
export async function consoleTail(path: string, length?: number): Promise<string> {
  if (length !== undefined && length <= 0) return '';
  const size = await sizeOf(path);
  const from = Math.max(0, size - CONSOLE_TAIL_BYTES);
  let text = (await readRange(path, from, size)).toString('utf8');
  if (from > 0) text = text.slice(text.indexOf('\n') + 1); // drop the partial first line
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text === '') return '';
  const lines = text.split('\n');
  return (length === undefined ? lines : lines.slice(-length)).join('\n');
}

/**
 * Called before each QEMU start: cuts an oversized log to its tail (no QEMU writes it now) and records where this
 * boot's output begins, so readiness is judged on the current boot only.
 */
export async function markBoot(paths: GuestPaths): Promise<void> {
  let size = await sizeOf(paths.serialLog);
  if (size > ROTATE_AT_BYTES) {
    const tail = await readRange(paths.serialLog, size - KEEP_ON_ROTATE_BYTES, size);
    const cut = tail.indexOf(0x0a) + 1;
    await writeFile(`${paths.serialLog}.tmp`, tail.subarray(cut));
    await rename(`${paths.serialLog}.tmp`, paths.serialLog);
    size = tail.length - cut;
  }
  await writeFile(
    paths.bootFile,
    JSON.stringify({ consoleOffset: size, startedAt: new Date().toISOString() }),
  );
}

interface ScanState {
  /** Where the current boot's output begins. */
  offset: number;
  /** The start of the first line not scanned yet. */
  scanned: number;
  ready: boolean;
}

/** Remembers how far each guest's log was scanned, so listing many guests reads only new output. */
export class ReadinessScanner {
  readonly #state = new Map<string, ScanState>();

  /** Whether the log shows a line starting with GUEST-READY since the current boot began. */
  async ready(paths: GuestPaths): Promise<boolean> {
    let offset = 0;
    try {
      offset =
        (JSON.parse(await readFile(paths.bootFile, 'utf8')) as { consoleOffset?: number }).consoleOffset ?? 0;
    } catch {
      offset = 0;
    }
    let st = this.#state.get(paths.dir);
    if (!st || st.offset !== offset) {
      st = { offset, scanned: offset, ready: false };
      this.#state.set(paths.dir, st);
    }
    if (st.ready) return true;
    const size = await sizeOf(paths.serialLog);
    if (size < st.scanned) st.scanned = Math.min(st.offset, size); // the log was cut: rescan what is left
    // `scanned` always sits at a line start: read the complete lines after it.
    const chunk = await readRange(paths.serialLog, st.scanned, size);
    const text = chunk.toString('utf8');
    if (text.startsWith(READY_PREFIX) || text.includes(`\n${READY_PREFIX}`)) st.ready = true;
    else st.scanned += chunk.lastIndexOf(0x0a) + 1;
    return st.ready;
  }

  forget(dir: string): void {
    this.#state.delete(dir);
  }
}
