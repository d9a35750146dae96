// The placement service's dependencies, its write path, and the in-memory snapshot its hot reads use.
import type { Kysely, Transaction } from 'kysely';
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { DialectName } from '../../platform/db/database.ts';
import { type Change, ServiceWriter } from '../../platform/db/writer.ts';
import type { Logger } from '../../platform/log.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import { loadSnapshot, type Snapshot, UsageDelta } from './domain/snapshot.ts';
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

/** The snapshot cache: labelled with the writer generation it reflects; `resolved` once loaded. */
interface CachedSnapshot {
  generation: number;
  value: Promise<Snapshot>;
  resolved?: Snapshot;
}

export class PlacementContext {
  readonly db: PlacementDb;
  readonly dialect: DialectName;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly log: Logger;
  readonly #writer: ServiceWriter<PlacementTables>;
  #snapshot: CachedSnapshot | undefined;

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

  /**
   * A write that only changes allocations: fn fills `delta`; after the commit the cached snapshot is patched with
   * it (SQLite) instead of being reloaded on the next read.
   */
  writeAllocations<T>(
    fn: (trx: PlacementTrx, record: (c: Change) => void, delta: UsageDelta) => Promise<T>,
  ): Promise<T> {
    const delta = new UsageDelta();
    delta.now = this.nowIso();
    return this.#writer.write((trx, record) => fn(trx, record, delta), {
      afterCommit: (preCommit) => this.#patch(delta, preCommit),
    });
  }

  #patch(delta: UsageDelta, preCommit: number): void {
    const cached = this.#snapshot;
    if (this.dialect !== 'sqlite' || !cached?.resolved || cached.generation !== preCommit - 1) return;
    if (!delta.applyTo(cached.resolved)) {
      this.#snapshot = undefined;
      return;
    }
    // Current again unless another write committed since this one (then the next read reloads).
    if (this.#writer.generation === preCommit + 1) cached.generation = this.#writer.generation;
    else cached.generation = preCommit;
  }

  /** Every provider with its inventories, usages, traits and aggregates; reloaded after writes, patched after claims. */
  snapshot(): Promise<Snapshot> {
    const generation = this.#writer.generation;
    if (this.#snapshot?.generation !== generation) {
      const entry: CachedSnapshot = { generation, value: loadSnapshot(this.db, this.dialect === 'sqlite') };
      entry.value.then(
        (snap) => {
          entry.resolved = snap;
        },
        // A failed load is not cached.
        () => {
          if (this.#snapshot === entry) this.#snapshot = undefined;
        },
      );
      this.#snapshot = entry;
    }
    return this.#snapshot.value;
  }
}
