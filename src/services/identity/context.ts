// The identity service's dependencies and its one write path (transaction + change events + cache generation).
import type { Kysely, Transaction } from 'kysely';
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { IdentityConfig } from '../../platform/config.ts';
import type { DialectName } from '../../platform/db/database.ts';
import { type Change, ServiceWriter } from '../../platform/db/writer.ts';
import type { Logger } from '../../platform/log.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import type { PasswordHasher } from './passwords.ts';
import type { IdentityTables } from './store/tables.ts';

export type IdentityDb = Kysely<IdentityTables>;
export type IdentityTrx = Transaction<IdentityTables>;

export type IdentityChange = Change;

export interface IdentityDeps {
  db: IdentityDb;
  dialect: DialectName;
  feed: ChangeFeed;
  config: IdentityConfig;
  clock: Clock;
  ids: IdSource;
  passwords: PasswordHasher;
  log: Logger;
}

/** Shared by every identity handler; holds no request state. */
export class IdentityContext {
  readonly db: IdentityDb;
  readonly dialect: DialectName;
  readonly feed: ChangeFeed;
  readonly config: IdentityConfig;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly passwords: PasswordHasher;
  readonly log: Logger;
  readonly #writer: ServiceWriter<IdentityTables>;

  constructor(deps: IdentityDeps) {
    this.db = deps.db;
    this.dialect = deps.dialect;
    this.feed = deps.feed;
    this.config = deps.config;
    this.clock = deps.clock;
    this.ids = deps.ids;
    this.passwords = deps.passwords;
    this.log = deps.log;
    this.#writer = new ServiceWriter('identity', deps.db, deps.feed);
  }

  /** Bumped after every committed identity write here, and on identity events from other processes. */
  get generation(): number {
    return this.#writer.generation;
  }

  /** Invalidates everything cached from identity data (token validations, catalog). */
  invalidate(): void {
    this.#writer.invalidate();
  }

  now(): number {
    return this.clock.now();
  }

  nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Runs fn in one transaction; the changes it records become change-feed events in the same transaction. */
  write<T>(fn: (trx: IdentityTrx, record: (c: IdentityChange) => void) => Promise<T>): Promise<T> {
    return this.#writer.write(fn);
  }
}

/** JSON columns. */
export function parseJson(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Keystone ids are uuid4().hex; also accept any id an admin gave explicitly. */
export function isHexId(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s);
}

/** Memoises computed values per key until the next identity write (bounded; cleared when full). */
export class GenerationCache<T> {
  readonly #ix: IdentityContext;
  readonly #max: number;
  readonly #map = new Map<string, { gen: number; value: T }>();

  constructor(ix: IdentityContext, max = 20_000) {
    this.#ix = ix;
    this.#max = max;
  }

  async get(key: string, compute: () => Promise<T>): Promise<T> {
    const gen = this.#ix.generation;
    const hit = this.#map.get(key);
    if (hit && hit.gen === gen) return hit.value;
    const value = await compute();
    if (this.#map.size >= this.#max) this.#map.clear();
    // Only remember it if no write happened while computing.
    if (this.#ix.generation === gen) this.#map.set(key, { gen, value });
    return value;
  }
}
