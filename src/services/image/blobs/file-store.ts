// FileBlobStore: image bytes as files in one directory. A put streams into `.tmp/<key>.<random>` while hashing
// (md5 + sha512) and counting, fsyncs, lets the caller verify, then renames into place and fsyncs the directory,
// so `<dir>/<key>` only ever holds complete, durable data. Memory stays constant whatever the object's size.
//
// Hashing runs on a worker thread, beside the event loop that parses HTTP and issues the writes: md5 + sha512
// cost ~3 ms per MiB on one core, which would otherwise halve upload throughput. Bytes in flight to the
// worker are bounded, so a slow hasher slows the upload instead of buffering it.
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { type BlobInfo, BlobNotFound, type BlobStore, BlobTooLarge, type PutResult } from './blob-store.ts';

const TMP = '.tmp';
/** Read/write buffer size: large enough for few syscalls, small enough to keep memory flat. */
const CHUNK = 1 << 20;
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function assertBlobKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
}

/** Counts and hashes the bytes that pass, failing with BlobTooLarge past maxSize. */
export class HashMeter {
  readonly #md5: Hash = createHash('md5');
  readonly #sha512: Hash = createHash('sha512');
  readonly #max: number;
  size = 0;

  constructor(maxSize: number | undefined) {
    this.#max = maxSize ?? Number.POSITIVE_INFINITY;
  }

  /** Accounts for a chunk; throws BlobTooLarge when the total passes the limit. */
  update(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.#max) throw new BlobTooLarge(this.#max);
    this.#md5.update(chunk);
    this.#sha512.update(chunk);
  }

  result(): PutResult {
    return { size: this.size, md5: this.#md5.digest('hex'), sha512: this.#sha512.digest('hex') };
  }
}

const HASH_WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sessions = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'open') {
    sessions.set(m.id, [createHash('md5'), createHash('sha512')]);
  } else if (m.t === 'data') {
    const s = sessions.get(m.id);
    if (s) {
      const u = new Uint8Array(m.buf, 0, m.n);
      s[0].update(u);
      s[1].update(u);
    }
    parentPort.postMessage({ t: 'ack', id: m.id, n: m.n, buf: m.buf }, [m.buf]);
  } else if (m.t === 'end') {
    const s = sessions.get(m.id);
    sessions.delete(m.id);
    parentPort.postMessage({ t: 'digest', id: m.id, md5: s ? s[0].digest('hex') : '', sha512: s ? s[1].digest('hex') : '' });
  } else if (m.t === 'drop') {
    sessions.delete(m.id);
  }
});
`;

/** Bytes handed to the hash worker and not yet hashed, per put, before the writer waits. */
const HASH_INFLIGHT = 8 * CHUNK;

/** Buffers travel to the worker and back (transferred, never copied twice) in slabs of this size. */
const SLAB = CHUNK;
/** Slabs kept for reuse, so steady streaming allocates nothing. */
const SLABS_KEPT = 2 * (HASH_INFLIGHT / SLAB) + 2;

type HashMessage =
  | { t: 'ack'; id: number; n: number; buf: ArrayBuffer }
  | { t: 'digest'; id: number; md5: string; sha512: string };

/** One md5 + sha512 computation on the shared hash worker. */
class HashSession {
  readonly id: number;
  readonly #pool: HashPool;
  #inflight = 0;
  #waiters: (() => void)[] = [];
  #digest: { resolve(v: { md5: string; sha512: string }): void; reject(e: Error): void } | undefined;
  #error: Error | undefined;

  constructor(pool: HashPool, id: number) {
    this.#pool = pool;
    this.id = id;
  }

  /** Hands bytes to the worker (one copy into pooled, transferred slabs); waits while too many are in flight. */
  async update(bufs: readonly Buffer[]): Promise<void> {
    if (this.#error) throw this.#error;
    let slab: ArrayBuffer | undefined;
    let fill = 0;
    const send = () => {
      if (!slab || fill === 0) return;
      this.#inflight += fill;
      this.#pool.post({ t: 'data', id: this.id, buf: slab, n: fill }, [slab]);
      slab = undefined;
      fill = 0;
    };
    for (const b of bufs) {
      let at = 0;
      while (at < b.length) {
        slab ??= this.#pool.slab();
        const n = Math.min(b.length - at, SLAB - fill);
        new Uint8Array(slab, fill, n).set(b.subarray(at, at + n));
        fill += n;
        at += n;
        if (fill === SLAB) send();
      }
    }
    send();
    while (this.#inflight > HASH_INFLIGHT && !this.#error) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#error) throw this.#error;
  }

  digest(): Promise<{ md5: string; sha512: string }> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#digest = { resolve, reject };
      this.#pool.post({ t: 'end', id: this.id });
    });
  }

  drop(): void {
    this.#pool.post({ t: 'drop', id: this.id });
    this.#pool.close(this.id);
  }

  onMessage(m: HashMessage): void {
    if (m.t === 'ack') {
      this.#pool.recycle(m.buf);
      this.#inflight -= m.n;
      if (this.#inflight <= HASH_INFLIGHT) this.#wake();
    } else {
      this.#pool.close(this.id);
      this.#digest?.resolve({ md5: m.md5, sha512: m.sha512 });
    }
  }

  fail(err: Error): void {
    this.#error = err;
    this.#wake();
    this.#digest?.reject(err);
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}

/** The hash worker, started on first use and kept referenced only while a put is hashing. */
class HashPool {
  #worker: Worker | undefined;
  readonly #sessions = new Map<number, HashSession>();
  readonly #slabs: ArrayBuffer[] = [];
  #next = 1;

  slab(): ArrayBuffer {
    return this.#slabs.pop() ?? new ArrayBuffer(SLAB);
  }

  recycle(buf: ArrayBuffer): void {
    if (buf.byteLength === SLAB && this.#slabs.length < SLABS_KEPT) this.#slabs.push(buf);
  }

  open(): HashSession {
    const w = this.#ensure();
    const s = new HashSession(this, this.#next++);
    this.#sessions.set(s.id, s);
    if (this.#sessions.size === 1) w.ref();
    w.postMessage({ t: 'open', id: s.id });
    return s;
  }

  post(msg: unknown, transfer?: ArrayBuffer[]): void {
    this.#worker?.postMessage(msg, transfer);
  }

  close(id: number): void {
    if (this.#sessions.delete(id) && this.#sessions.size === 0) this.#worker?.unref();
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(HASH_WORKER, { eval: true });
    w.unref();
    w.on('message', (m: HashMessage) => {
      const session = this.#sessions.get(m.id);
      if (session) session.onMessage(m);
      else if (m.t === 'ack') this.recycle(m.buf);
    });
    const fail = (err: Error) => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      const sessions = [...this.#sessions.values()];
      this.#sessions.clear();
      for (const s of sessions) s.fail(err);
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`hash worker exited with code ${code}`)));
    this.#worker = w;
    return w;
  }
}

const hashPool = new HashPool();

/**
 * A Writable that counts each batch against the size limit, hands it to the hash worker and writes it to an
 * open file (writev): hashing of one batch overlaps the disk write of the same batch.
 */
class MeteredFileWriter extends Writable {
  readonly #fh: FileHandle;
  readonly #hash: HashSession;
  readonly #max: number;
  size = 0;

  constructor(fh: FileHandle, hash: HashSession, maxSize: number | undefined) {
    super({ highWaterMark: CHUNK });
    this.#fh = fh;
    this.#hash = hash;
    this.#max = maxSize ?? Number.POSITIVE_INFINITY;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    for (const b of bufs) this.size += b.length;
    if (this.size > this.#max) {
      cb(new BlobTooLarge(this.#max));
      return;
    }
    Promise.all([this.#hash.update(bufs), writeAll(this.#fh, bufs)]).then(() => cb(), cb);
  }
}

async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let pending = bufs;
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending);
    let n = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (n >= b.length) n -= b.length;
      else {
        rest.push(n > 0 ? b.subarray(n) : b);
        n = 0;
      }
    }
    pending = rest;
  }
}

const isNotFound = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

export class FileBlobStore implements BlobStore {
  readonly id = 'file';
  readonly dir: string;
  readonly #tmp: string;
  #ready: Promise<void> | undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.#tmp = join(dir, TMP);
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= mkdir(this.#tmp, { recursive: true, mode: 0o750 }).then(
      () => undefined,
      (err) => {
        this.#ready = undefined;
        throw err;
      },
    );
    return this.#ready;
  }

  async #syncDir(): Promise<void> {
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  async put(
    key: string,
    data: Readable,
    opts: { maxSize?: number; verify?: (r: PutResult) => void | Promise<void>; signal?: AbortSignal } = {},
  ): Promise<PutResult> {
    assertBlobKey(key);
    await this.#ensureDirs();
    const tmp = join(this.#tmp, `${key}.${randomBytes(8).toString('hex')}`);
    let fh: FileHandle | undefined;
    let hash: HashSession | undefined;
    try {
      fh = await open(tmp, 'wx', 0o640);
      hash = hashPool.open();
      const writer = new MeteredFileWriter(fh, hash, opts.maxSize);
      await pipeline(data, writer, opts.signal ? { signal: opts.signal } : {});
      const [digests] = await Promise.all([hash.digest(), fh.sync()]);
      hash = undefined;
      await fh.close();
      fh = undefined;
      const result: PutResult = { size: writer.size, ...digests };
      if (opts.verify) await opts.verify(result);
      opts.signal?.throwIfAborted();
      await rename(tmp, join(this.dir, key));
      await this.#syncDir();
      return result;
    } catch (err) {
      data.destroy();
      hash?.drop();
      if (fh) await fh.close().catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    assertBlobKey(key);
    let fh: FileHandle;
    try {
      fh = await open(join(this.dir, key), 'r');
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFound(key);
      throw err;
    }
    const opts: { start?: number; end?: number; highWaterMark: number; autoClose: boolean } = {
      highWaterMark: CHUNK,
      autoClose: true,
    };
    if (range) {
      opts.start = range.start;
      if (range.end !== undefined) opts.end = range.end;
    }
    return fh.createReadStream(opts);
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    try {
      const s = await stat(join(this.dir, key));
      return s.isFile() ? { size: s.size } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    await rm(join(this.dir, key), { force: true });
  }

  async list(prefix = ''): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    return names.filter((n) => !n.startsWith('.') && n.startsWith(prefix) && KEY.test(n)).sort();
  }

  async recover(): Promise<void> {
    await rm(this.#tmp, { recursive: true, force: true });
    this.#ready = undefined;
    await this.#ensureDirs();
  }

  /** Temporaries currently present (tests and diagnostics). */
  async temporaries(): Promise<string[]> {
    try {
      return await readdir(this.#tmp);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }
}
