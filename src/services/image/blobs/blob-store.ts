// The image data seam: where image bytes live. The file store is the first implementation; object storage
// and S3 plug in behind the same interface later.
import type { Readable } from 'node:stream';

export interface BlobInfo {
  size: number;
}

export interface PutResult {
  size: number;
  /** md5 hex of the bytes (Glance's `checksum`). */
  md5: string;
  /** sha512 hex of the bytes (Glance's `os_hash_value`). */
  sha512: string;
}

export interface PutOptions {
  /** Refuse to store more bytes than this (BlobTooLarge). */
  maxSize?: number;
  /** Called with the result before the object becomes visible; a throw abandons the put. */
  verify?: (r: PutResult) => void | Promise<void>;
  signal?: AbortSignal;
  /**
   * The stream's chunks are the store's once read: buffers nobody else holds or reuses, as Node's HTTP parser
   * allocates for a request body. The store may then move their memory to other threads (detaching them)
   * instead of copying it. Never set it for a stream whose buffers are shared or reused.
   */
  take?: boolean;
}

export interface BlobStore {
  /** Store name as /v2/info/stores reports it ("file"). */
  readonly id: string;
  /**
   * Streams `data` into the store under `key`. Bytes land in a temporary object that becomes `key` only when
   * the stream ended, `verify` (if given) accepted the result, and the data is durable; any failure leaves
   * nothing under `key` and no temporary behind. Refuses to write past `maxSize` (throws BlobTooLarge).
   * Idempotent per key: a second put replaces the first atomically.
   */
  put(key: string, data: Readable, opts?: PutOptions): Promise<PutResult>;
  /** A stream of the bytes [start, end] inclusive (whole object without range); throws BlobNotFound. */
  get(key: string, range?: { start: number; end?: number }): Promise<Readable>;
  /** Size of the object, or undefined when absent. */
  head(key: string): Promise<BlobInfo | undefined>;
  /** Removes the object; absent is fine. */
  delete(key: string): Promise<void>;
  /** Keys under a prefix (for recovery and garbage collection). */
  list(prefix?: string): Promise<string[]>;
  /** Removes temporaries left by a crash mid-write; called once at start. */
  recover(): Promise<void>;
}

export class BlobNotFound extends Error {
  constructor(key: string) {
    super(`no blob ${key}`);
    this.name = 'BlobNotFound';
  }
}

export class BlobTooLarge extends Error {
  constructor(max: number) {
    super(`larger than ${max} bytes`);
    this.name = 'BlobTooLarge';
  }
}
