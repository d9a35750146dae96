// The placement service's dependencies, its write path, and the in-memory snapshot its hot reads use.
import type { Kysely, Transaction } from 'kysely';
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { DialectName } from '../../platform/db/database.ts';
import { type Change, ServiceWriter } from '../../platform/db/writer.ts';
import type { Logger } from '../../platform/log.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import { loadSnapshot, type Snapshot } from './domain/snapshot.ts';
import type { PlacementTables } from './store/tables.ts';

export type PlacementDb = Kysely<PlacementTables>;
export type PlacementTrx = Transaction<PlacementTables>;

export interface PlacementDeps {
  db: PlacementDb;
  dialect: DialectName;
  feed: ChangeFeed;
  clock: Clock;
  ids: IdSource;
  log: Logger;
}

export class PlacementContext {
  readonly db: PlacementDb;
  readonly dialect: DialectName;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly log: Logger;
  readonly #writer: ServiceWriter<PlacementTables>;
  #snapshot: { generation: number; value: Promise<Snapshot> } | undefined;

  constructor(deps: PlacementDeps) {
    this.db = deps.db;
    this.dialect = deps.dialect;
    this.clock = deps.clock;
    this.ids = deps.ids;
    this.log = deps.log;
    this.#writer = new ServiceWriter('placement', deps.db, deps.feed);
  }

  get generation(): number {
    return this.#writer.generation;
  }

  /** ISO 8601 with milliseconds, the stored timestamp format. */
  nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  write<T>(fn: (trx: PlacementTrx, record: (c: Change) => void) => Promise<T>): Promise<T> {
    return this.#writer.write(fn);
  }

  /** Every provider with its inventories, usages, traits and aggregates, reloaded after any write. */
  snapshot(): Promise<Snapshot> {
    const generation = this.#writer.generation;
    if (this.#snapshot?.generation !== generation) {
      const value = loadSnapshot(this.db);
      // A failed load is not cached.
      value.catch(() => {
        if (this.#snapshot?.value === value) this.#snapshot = undefined;
      });
      this.#snapshot = { generation, value };
    }
    return this.#snapshot.value;
  }
}
