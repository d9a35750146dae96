// MemoryBlobStore: the BlobStore contract in memory, for tests. Objects are held whole (tests use small ones);
// a put keeps its bytes in a temporary until it commits, exactly like the file store.
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type BlobInfo,
  BlobNotFound,
  type BlobStore,
  type PutOptions,
  type PutResult,
} from './blob-store.ts';
import { assertBlobKey, HashMeter } from './file-store.ts';

export class MemoryBlobStore implements BlobStore {
  readonly id: string;
  readonly #objects = new Map<string, Buffer>();
  readonly #temps = new Map<string, Buffer[]>();

  constructor(id = 'file') {
    this.id = id;
  }

  async put(key: string, data: Readable, opts: PutOptions = {}): Promise<PutResult> {
    assertBlobKey(key);
    const tmp = `${key}.${randomBytes(8).toString('hex')}`;
    const chunks: Buffer[] = [];
    this.#temps.set(tmp, chunks);
    const meter = new HashMeter(opts.maxSize);
    try {
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          try {
            meter.update(chunk);
          } catch (err) {
            cb(err as Error);
            return;
          }
          chunks.push(Buffer.from(chunk));
          cb();
        },
      });
      await pipeline(data, sink, opts.signal ? { signal: opts.signal } : {});
      const result = meter.result();
      if (opts.verify) await opts.verify(result);
      opts.signal?.throwIfAborted();
      this.#objects.set(key, Buffer.concat(chunks));
      return result;
    } catch (err) {
      data.destroy();
      throw err;
    } finally {
      this.#temps.delete(tmp);
    }
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable> {
    assertBlobKey(key);
    const obj = this.#objects.get(key);
    if (!obj) throw new BlobNotFound(key);
    const bytes = range
      ? obj.subarray(range.start, range.end === undefined ? undefined : range.end + 1)
      : obj;
    // Served in slices, as a file would be, so consumers see more than one chunk.
    const slices: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 64 * 1024) slices.push(bytes.subarray(i, i + 64 * 1024));
    return Readable.from(slices, { objectMode: false });
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    const obj = this.#objects.get(key);
    return obj ? { size: obj.length } : undefined;
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    this.#objects.delete(key);
  }

  async list(prefix = ''): Promise<string[]> {
    return [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async recover(): Promise<void> {
    this.#temps.clear();
  }

  /** Temporaries currently present (tests). */
  async temporaries(): Promise<string[]> {
    return [...this.#temps.keys()];
  }

  /** Leaves a temporary behind, as a crash mid-put would (tests of recover()). */
  plantTemporary(key: string): void {
    this.#temps.set(`${key}.crashed`, [Buffer.from('partial')]);
  }
}
