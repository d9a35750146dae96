// The one write path of a service: a transaction whose recorded changes become change-feed events in the same
// transaction, and a generation counter bumped after every write so in-process caches know to refresh.
import type { Kysely, Transaction } from 'kysely';
import type { ChangeFeed } from '../watch/feed.ts';

export interface Change {
  kind: string;
  id: string;
  action: 'create' | 'update' | 'delete' | string;
  projectId?: string | null;
  data?: Record<string, unknown>;
}

export class ServiceWriter<DB> {
  readonly #service: string;
  readonly #db: Kysely<DB>;
  readonly #feed: ChangeFeed;
  #generation = 0;

  constructor(service: string, db: Kysely<DB>, feed: ChangeFeed) {
    this.#service = service;
    this.#db = db;
    this.#feed = feed;
    // Writes from other processes (PostgreSQL scale-out) invalidate this process's caches too.
    feed.subscribe(
      (e) => e.service === service,
      () => this.invalidate(),
    );
  }

  get generation(): number {
    return this.#generation;
  }

  invalidate(): void {
    this.#generation++;
  }

  /** Runs fn in one transaction; its recorded changes are appended to the feed before commit. */
  async write<T>(fn: (trx: Transaction<DB>, record: (c: Change) => void) => Promise<T>): Promise<T> {
    const changes: Change[] = [];
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const result = await fn(trx, (c) => changes.push(c));
        for (const c of changes) {
          await this.#feed.append(trx, {
            service: this.#service,
            kind: c.kind,
            resourceId: c.id,
            action: c.action,
            projectId: c.projectId,
            data: c.data,
          });
        }
        return result;
      });
    } finally {
      this.invalidate();
      if (changes.length > 0) this.#feed.wake();
    }
  }
}
