// The one write path of a service: a transaction whose recorded changes become change-feed events in the same
// transaction, and a generation counter bumped after every write so in-process caches know to refresh.
import type { Kysely, Transaction } from 'kysely';
import type { ChangeEvent, ChangeFeed } from '../watch/feed.ts';

export interface Change {
  kind: string;
  id: string;
  action: 'create' | 'update' | 'delete' | string;
  projectId?: string | null;
  data?: Record<string, unknown>;
}

export interface WriteOptions {
  /**
   * Called synchronously after the commit with `preCommit`, the generation this write set just before committing
   * (it bumps once inside the transaction and once after it). On SQLite, where one connection serialises every
   * transaction, a cache loaded in one transaction and labelled `preCommit - 1` is exactly the state before this
   * write, so it may apply the write's effect instead of reloading.
   */
  afterCommit?: (preCommit: number) => void;
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
    // Writes from other processes (PostgreSQL scale-out) invalidate this process's caches too; on SQLite every
    // writer is in this process and has invalidated already.
    if (feed.multiProcess)
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
  async write<T>(
    fn: (trx: Transaction<DB>, record: (c: Change) => void) => Promise<T>,
    opts: WriteOptions = {},
  ): Promise<T> {
    const changes: Change[] = [];
    const events: ChangeEvent[] = [];
    let committed = false;
    let preCommit = 0;
    try {
      const out = await this.#db.transaction().execute(async (trx) => {
        const result = await fn(trx, (c) => changes.push(c));
        for (const c of changes) {
          const appended = await this.#feed.append(trx, {
            service: this.#service,
            kind: c.kind,
            resourceId: c.id,
            action: c.action,
            projectId: c.projectId,
            data: c.data,
          });
          if (appended) events.push(appended);
        }
        this.#generation++;
        preCommit = this.#generation;
        return result;
      });
      committed = true;
      return out;
    } finally {
      // A rolled-back write changed nothing; a committed one bumps again now that its effect is visible.
      if (committed) {
        if (events.length > 0) this.#feed.committed(events);
        this.invalidate();
        opts.afterCommit?.(preCommit);
      }
      if (changes.length > 0) this.#feed.wake();
    }
  }
}
