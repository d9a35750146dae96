// The image service's dependencies and its write path.
import type { Kysely, Transaction } from 'kysely';
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { ImageConfig } from '../../platform/config.ts';
import { type Change, ServiceWriter } from '../../platform/db/writer.ts';
import type { Logger } from '../../platform/log.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import type { BlobStore } from './blobs/blob-store.ts';
import { ImportJobs } from './domain/import-jobs.ts';
import type { ImageTables } from './store/tables.ts';

export type ImageDb = Kysely<ImageTables>;
export type ImageTrx = Transaction<ImageTables>;

export interface ImageDeps {
  db: ImageDb;
  feed: ChangeFeed;
  config: ImageConfig;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** Where image data lives. */
  blobs: BlobStore;
  /** Where staged (glance-direct) data lives before import. */
  staging: BlobStore;
}

export class ImageContext {
  readonly db: ImageDb;
  readonly config: ImageConfig;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly log: Logger;
  readonly blobs: BlobStore;
  readonly staging: BlobStore;
  /** Background imports of this process. */
  readonly jobs = new ImportJobs();
  readonly #writer: ServiceWriter<ImageTables>;

  constructor(deps: ImageDeps) {
    this.db = deps.db;
    this.config = deps.config;
    this.clock = deps.clock;
    this.ids = deps.ids;
    this.log = deps.log;
    this.blobs = deps.blobs;
    this.staging = deps.staging;
    this.#writer = new ServiceWriter('image', deps.db, deps.feed);
  }

  get generation(): number {
    return this.#writer.generation;
  }

  /** Glance's timestamps: ISO 8601 to the second with a Z ("2026-11-21T07:00:00Z"). */
  nowIso(): string {
    return new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  write<T>(fn: (trx: ImageTrx, record: (c: Change) => void) => Promise<T>): Promise<T> {
    return this.#writer.write(fn);
  }
}
