// FileBlobStore: image bytes as files in one directory. A put streams into `.tmp/<key>.<random>` while hashing
// (md5 + sha512) and counting, fsyncs, lets the caller verify, then renames into place and fsyncs the directory,
// so `<dir>/<key>` only ever holds complete, durable data. Memory stays constant whatever the object's size.
//
// Hashing runs on two worker threads, md5 on one and sha512 on the next, beside the event loop that parses HTTP
// and issues the writes: together they cost ~3.6 ms per MiB on one core, more than the disk takes; split, each
// stage needs under 2 ms. A batch is written first, then handed on. When the put may take the chunks (a request
// body, whose buffers Node's HTTP parser allocated for it alone) their memory moves to the workers instead of
// being copied, and is freed as soon as it is hashed, so the event loop's heap sees no garbage and no
// collections; other streams are copied once into pooled slabs. Bytes in flight are bounded, so a slow hasher
// slows the upload instead of buffering it. Background fdatasyncs every 64 MiB keep the disk writing during
// the transfer, so the final fsync has little left.
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  type BlobInfo,
  BlobNotFound,
  type BlobStore,
  BlobTooLarge,
  type PutOptions,
  type PutResult,
} from './blob-store.ts';

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

// One hashing stage. The first (md5) forwards every message to the next (sha512) over a port; the last answers
// the main thread: acks (with pooled slabs, transferred back) and digests. Taken buffers end in the last stage
// and are freed there at once, by transferring them to a port whose peer is closed, instead of lingering as
// garbage until a collection.
/** Written bytes between background fdatasyncs. */
const FLUSH_EVERY = 64 * CHUNK;

const HASH_WORKER = `
const { parentPort, workerData, MessageChannel } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { algo, port, last } = workerData;
const bin = new MessageChannel();
bin.port2.close();
const sessions = new Map();
(last ? port : parentPort).on('message', (m) => {
  if (m.t === 'data') {
    const h = sessions.get(m.id);
    if (h) for (let i = 0; i < m.bufs.length; i++) h.update(new Uint8Array(m.bufs[i], 0, m.lens[i]));
  } else if (m.t === 'open') {
    sessions.set(m.id, createHash(algo));
  } else if (m.t === 'end') {
    const h = sessions.get(m.id);
    sessions.delete(m.id);
    m.digests[algo] = h ? h.digest('hex') : '';
  } else if (m.t === 'drop') {
    sessions.delete(m.id);
  }
  if (!last) {
    port.postMessage(m, m.t === 'data' ? m.bufs : undefined);
  } else if (m.t === 'data') {
    if (m.pooled) {
      parentPort.postMessage({ t: 'ack', id: m.id, n: m.n, bufs: m.bufs }, m.bufs);
    } else {
      bin.port1.postMessage(null, m.bufs);
      parentPort.postMessage({ t: 'ack', id: m.id, n: m.n });
    }
  } else if (m.t === 'end') {
    parentPort.postMessage({ t: 'digest', id: m.id, digests: m.digests });
  }
});
`;

/** Bytes handed to the hash workers and not yet hashed by both, per put, before the writer waits. */
const HASH_INFLIGHT = 8 * CHUNK;

/** Copied batches travel to the workers and back (transferred, never copied twice) in slabs of this size. */
const SLAB = CHUNK;
/** Slabs kept for reuse, so steady streaming of copied data allocates nothing. */
const SLABS_KEPT = HASH_INFLIGHT / SLAB + 4;

type HashMessage =
  | { t: 'ack'; id: number; n: number; bufs?: ArrayBuffer[] }
  | { t: 'digest'; id: number; digests: Record<string, string> };

/** True when each buffer is the whole of its own ArrayBuffer (as Node's HTTP parser allocates body chunks). */
function ownsWholeBuffers(bufs: readonly Buffer[]): boolean {
  const seen = new Set<ArrayBufferLike>();
  for (const b of bufs) {
    const ab = b.buffer;
    if (
      !(ab instanceof ArrayBuffer) ||
      b.byteOffset !== 0 ||
      b.byteLength !== ab.byteLength ||
      seen.has(ab)
    ) {
      return false;
    }
    seen.add(ab);
  }
  return true;
}

/** One md5 + sha512 computation on the shared hash workers. */
class HashSession {
  readonly id: number;
  readonly #pool: HashPool;
  readonly #take: boolean;
  #inflight = 0;
  #waiters: (() => void)[] = [];
  #digest: { resolve(v: { md5: string; sha512: string }): void; reject(e: Error): void } | undefined;
  #error: Error | undefined;

  constructor(pool: HashPool, id: number, take: boolean) {
    this.#pool = pool;
    this.id = id;
    this.#take = take;
  }

  /**
   * Hands bytes to the workers: their memory itself when the put may take the chunks (the buffers are detached
   * here), else one copy into pooled slabs. Waits while too many bytes are in flight.
   */
  async update(chunks: readonly Buffer[]): Promise<void> {
    if (this.#error) throw this.#error;
    const bufs = chunks.filter((b) => b.length > 0);
    let n = 0;
    for (const b of bufs) n += b.length;
    if (n === 0) return;
    this.#inflight += n;
    if (this.#take && ownsWholeBuffers(bufs)) {
      const abs = bufs.map((b) => b.buffer as ArrayBuffer);
      const lens = bufs.map((b) => b.length);
      this.#pool.post({ t: 'data', id: this.id, bufs: abs, lens, n, pooled: false }, abs);
    } else {
      const slabs: ArrayBuffer[] = [];
      const lens: number[] = [];
      let slab: ArrayBuffer | undefined;
      let fill = 0;
      for (const b of bufs) {
        let at = 0;
        while (at < b.length) {
          if (!slab || fill === SLAB) {
            if (slab) lens.push(fill);
            slab = this.#pool.slab();
            slabs.push(slab);
            fill = 0;
          }
          const k = Math.min(b.length - at, SLAB - fill);
          new Uint8Array(slab, fill, k).set(b.subarray(at, at + k));
          fill += k;
          at += k;
        }
      }
      lens.push(fill);
      this.#pool.post({ t: 'data', id: this.id, bufs: slabs, lens, n, pooled: true }, slabs);
    }
    while (this.#inflight > HASH_INFLIGHT && !this.#error) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#error) throw this.#error;
  }

  digest(): Promise<{ md5: string; sha512: string }> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#digest = { resolve, reject };
      this.#pool.post({ t: 'end', id: this.id, digests: {} });
    });
  }

  drop(): void {
    this.#pool.post({ t: 'drop', id: this.id });
    this.#pool.close(this.id);
  }

  onMessage(m: HashMessage): void {
    if (m.t === 'ack') {
      if (m.bufs) for (const b of m.bufs) this.#pool.recycle(b);
      this.#inflight -= m.n;
      if (this.#inflight <= HASH_INFLIGHT) this.#wake();
    } else {
      this.#pool.close(this.id);
      this.#digest?.resolve({ md5: m.digests['md5'] ?? '', sha512: m.digests['sha512'] ?? '' });
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

/**
 * The two hash workers (md5 → sha512), started on first use and kept referenced only while a put is hashing:
 * each stage runs on its own core, so hashing keeps pace with the disk on two cores.
 */
class HashPool {
  #workers: [Worker, Worker] | undefined;
  readonly #sessions = new Map<number, HashSession>();
  readonly #slabs: ArrayBuffer[] = [];
  #next = 1;

  slab(): ArrayBuffer {
    return this.#slabs.pop() ?? new ArrayBuffer(SLAB);
  }

  recycle(buf: ArrayBuffer): void {
    if (buf.byteLength === SLAB && this.#slabs.length < SLABS_KEPT) this.#slabs.push(buf);
  }

  open(take: boolean): HashSession {
    const workers = this.#ensure();
    const s = new HashSession(this, this.#next++, take);
    this.#sessions.set(s.id, s);
    if (this.#sessions.size === 1) for (const w of workers) w.ref();
    workers[0].postMessage({ t: 'open', id: s.id });
    return s;
  }

  /** To the first stage; everything passes through both in order. */
  post(msg: unknown, transfer?: ArrayBuffer[]): void {
    this.#workers?.[0].postMessage(msg, transfer);
  }

  close(id: number): void {
    if (this.#sessions.delete(id) && this.#sessions.size === 0)
      for (const w of this.#workers ?? []) w.unref();
  }

  #ensure(): [Worker, Worker] {
    if (this.#workers) return this.#workers;
    const { port1, port2 } = new MessageChannel();
    const stage = (algo: string, port: MessagePort, last: boolean) => {
      const w = new Worker(HASH_WORKER, {
        eval: true,
        workerData: { algo, port, last },
        transferList: [port],
        // Small heaps: a stage holds a few sessions' hash states and the messages in flight.
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
      });
      w.unref();
      return w;
    };
    const workers: [Worker, Worker] = [stage('md5', port1, false), stage('sha512', port2, true)];
    workers[1].on('message', (m: HashMessage) => {
      const session = this.#sessions.get(m.id);
      if (session) session.onMessage(m);
      else if (m.t === 'ack') for (const b of m.bufs ?? []) this.recycle(b);
    });
    const fail = (err: Error) => {
      if (this.#workers !== workers) return;
      this.#workers = undefined;
      for (const w of workers) void w.terminate();
      const sessions = [...this.#sessions.values()];
      this.#sessions.clear();
      for (const s of sessions) s.fail(err);
    };
    for (const w of workers) {
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`hash worker exited with code ${code}`)));
    }
    this.#workers = workers;
    return workers;
  }
}

const hashPool = new HashPool();

/**
 * A Writable that counts each batch against the size limit, writes it to an open file (writev), then hands it
 * to the hash workers: hashing of one batch overlaps the disk writes of the next ones.
 */
class MeteredFileWriter extends Writable {
  readonly #fh: FileHandle;
  readonly #hash: HashSession;
  readonly #max: number;
  readonly #take: boolean;
  size = 0;

  constructor(fh: FileHandle, hash: HashSession, maxSize: number | undefined, take: boolean) {
    super({ highWaterMark: 2 * CHUNK });
    this.#fh = fh;
    this.#hash = hash;
    this.#max = maxSize ?? Number.POSITIVE_INFINITY;
    this.#take = take;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    // A byte stream delivers no empty chunks: an empty one here was taken while queued (its source reused it).
    if (this.#take && bufs.some((b) => b.length === 0)) {
      cb(
        new Error(
          'a chunk was reused after the store took it (put with take on a stream that reuses buffers)',
        ),
      );
      return;
    }
    for (const b of bufs) this.size += b.length;
    if (this.size > this.#max) {
      cb(new BlobTooLarge(this.#max));
      return;
    }
    // The write goes first: handing the batch on may detach its buffers.
    writeAll(this.#fh, bufs)
      .then(() => {
        this.#flushBehind();
        return this.#hash.update(bufs);
      })
      .then(() => cb(), cb);
  }

  #flushing: Promise<void> | undefined;
  #flushedAt = 0;
  #flushError: Error | undefined;

  /**
   * Every FLUSH_EVERY bytes, starts an fdatasync in the background (one at a time): the disk writes while the
   * transfer goes on, and the final fsync has little left to wait for.
   */
  #flushBehind(): void {
    if (this.#flushing || this.size - this.#flushedAt < FLUSH_EVERY) return;
    this.#flushedAt = this.size;
    this.#flushing = this.#fh.datasync().then(
      () => {
        this.#flushing = undefined;
      },
      (err: Error) => {
        this.#flushing = undefined;
        this.#flushError ??= err;
      },
    );
  }

  /** Waits for a background flush; rethrows its failure. */
  async settled(): Promise<void> {
    await this.#flushing;
    if (this.#flushError) throw this.#flushError;
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

  async put(key: string, data: Readable, opts: PutOptions = {}): Promise<PutResult> {
    assertBlobKey(key);
    await this.#ensureDirs();
    const tmp = join(this.#tmp, `${key}.${randomBytes(8).toString('hex')}`);
    let fh: FileHandle | undefined;
    let hash: HashSession | undefined;
    try {
      fh = await open(tmp, 'wx', 0o640);
      const take = opts.take === true;
      hash = hashPool.open(take);
      const writer = new MeteredFileWriter(fh, hash, opts.maxSize, take);
      await pipeline(data, writer, opts.signal ? { signal: opts.signal } : {});
      await writer.settled();
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
