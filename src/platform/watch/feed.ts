// The change feed: ordered events written in the same transaction as the change they describe;
// subscribers in this process are woken after commit (SQLite) or by LISTEN/NOTIFY (PostgreSQL).
import { type Generated, type Kysely, sql, type Transaction } from 'kysely';
import { compiled } from '../db/compiled.ts';
import type { Database } from '../db/database.ts';
import type { Migration } from '../db/migrate.ts';
import type { Logger } from '../log.ts';

export interface ChangeEventInput {
  service: string;
  kind: string;
  resourceId: string;
  action: 'create' | 'update' | 'delete' | string;
  projectId?: string | null;
  data?: Record<string, unknown>;
}

export interface ChangeEvent extends Required<Omit<ChangeEventInput, 'data'>> {
  revision: number;
  data: Record<string, unknown>;
  createdAt: string;
}

export interface FeedTables {
  monostack_events: {
    revision: Generated<number>;
    service: string;
    kind: string;
    resource_id: string;
    action: string;
    project_id: string | null;
    data: string;
    created_at: string;
  };
}

export const feedMigrations: Migration[] = [
  {
    version: 1,
    name: 'events',
    async up(db, dialect) {
      let t = db.schema.createTable('monostack_events');
      t =
        dialect === 'postgres'
          ? t.addColumn('revision', 'bigserial', (c) => c.primaryKey())
          : t.addColumn('revision', 'integer', (c) => c.primaryKey().autoIncrement());
      await t
        .addColumn('service', 'varchar(64)', (c) => c.notNull())
        .addColumn('kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('resource_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('action', 'varchar(32)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .execute();
    },
  },
];

const CHANNEL = 'monostack_events';

export type FeedHandler = (events: readonly ChangeEvent[]) => void | Promise<void>;

// biome-ignore lint/suspicious/noExplicitAny: transactions come from services with their own table types.
type AnyTrx = Transaction<any> | Kysely<any>;

/** The event insert, compiled once per dialect (about four per server created: a hot statement). */
const insertEvent = compiled(
  7,
  (
    db: Kysely<FeedTables>,
    service: string,
    kind: string,
    resourceId: string,
    action: string,
    projectId: string | null,
    data: string,
    createdAt: string,
  ) =>
    db
      .insertInto('monostack_events')
      .values({
        service,
        kind,
        resource_id: resourceId,
        action,
        project_id: projectId,
        data,
        created_at: createdAt,
      })
      .returning('revision'),
);

/** Events read per query while pumping. */
const READ_BATCH = 1000;

export class ChangeFeed {
  readonly #database: Database;
  readonly #db: Kysely<FeedTables>;
  readonly #log: Logger;
  readonly #handlers = new Set<{ filter: (e: ChangeEvent) => boolean; fn: FeedHandler }>();
  readonly #waiters = new Set<() => void>();
  #cursor = 0;
  #pumping: Promise<void> | null = null;
  #again = false;
  #unlisten: (() => Promise<void>) | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Committed events not yet delivered (SQLite), in revision order. */
  readonly #buffer: ChangeEvent[] = [];

  constructor(database: Database, log: Logger) {
    this.#database = database;
    this.#db = database.db as Kysely<FeedTables>;
    this.#log = log;
  }

  /** Starts delivering events written from now on; call after migrations. */
  async start(opts: { pollMs?: number } = {}): Promise<void> {
    this.#cursor = await this.head();
    this.#unlisten = await this.#database.listen(CHANNEL, () => this.wake());
    // A periodic pump makes delivery level-triggered: a lost NOTIFY delays, never strands, a subscriber.
    this.#timer = setInterval(() => this.wake(), opts.pollMs ?? 2000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#unlisten) await this.#unlisten();
    this.#unlisten = null;
    await this.#pumping;
  }

  /** True when other processes may write the same database (PostgreSQL): their events arrive only through here. */
  get multiProcess(): boolean {
    return this.#database.dialect === 'postgres';
  }

  /** Appends an event inside the caller's transaction; it becomes visible when that transaction commits. */
  async append(trx: AnyTrx, ev: ChangeEventInput): Promise<ChangeEvent | undefined> {
    const t = trx as Kysely<FeedTables>;
    if (this.#database.dialect === 'postgres') {
      // Serialise appenders so revisions become visible in order (no gaps a reader could skip past).
      await sql`select pg_advisory_xact_lock(7312002)`.execute(t);
      await sql`select pg_notify(${CHANNEL}, '')`.execute(t);
    }
    const row = {
      service: ev.service,
      kind: ev.kind,
      resource_id: ev.resourceId,
      action: ev.action,
      project_id: ev.projectId ?? null,
      data: JSON.stringify(ev.data ?? {}),
      created_at: new Date().toISOString(),
    };
    const [inserted] = await insertEvent(
      t,
      row.service,
      row.kind,
      row.resource_id,
      row.action,
      row.project_id,
      row.data,
      row.created_at,
    );
    if (this.multiProcess) return undefined;
    return {
      revision: Number(inserted!.revision),
      service: ev.service,
      kind: ev.kind,
      resourceId: ev.resourceId,
      action: ev.action,
      projectId: ev.projectId ?? null,
      // A copy, as a read from the table would give: subscribers never share the writer's object.
      data: JSON.parse(row.data) as Record<string, unknown>,
      createdAt: row.created_at,
    };
  }

  /**
   * Hands the events of a committed transaction (as append returned them) to the pump, which delivers them from
   * memory when they continue its cursor without a gap, and reads the table otherwise. SQLite only: there every
   * writer is in this process and transactions commit one at a time, in revision order.
   */
  committed(events: readonly ChangeEvent[]): void {
    for (const e of events) this.#buffer.push(e);
    if (this.#buffer.length > READ_BATCH * 10) this.#buffer.splice(0, this.#buffer.length - READ_BATCH);
  }

  /** Buffered events continuing the cursor, or undefined when the table must be read. */
  #fromBuffer(): ChangeEvent[] | undefined {
    let i = 0;
    while (i < this.#buffer.length && this.#buffer[i]!.revision <= this.#cursor) i++;
    if (i > 0) this.#buffer.splice(0, i);
    if (this.#buffer.length === 0 || this.#buffer[0]!.revision !== this.#cursor + 1) return undefined;
    let n = 1;
    while (
      n < this.#buffer.length &&
      n < READ_BATCH &&
      this.#buffer[n]!.revision === this.#buffer[n - 1]!.revision + 1
    )
      n++;
    return this.#buffer.splice(0, n);
  }

  /** The highest revision written so far (0 when empty). */
  async head(): Promise<number> {
    const row = await this.#db
      .selectFrom('monostack_events')
      .select((eb) => eb.fn.max('revision').as('rev'))
      .executeTakeFirst();
    return Number(row?.rev ?? 0);
  }

  /** Events after a revision, oldest first. */
  async read(after: number, limit = 1000): Promise<ChangeEvent[]> {
    const rows = await this.#db
      .selectFrom('monostack_events')
      .selectAll()
      .where('revision', '>', after)
      .orderBy('revision')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      revision: Number(r.revision),
      service: r.service,
      kind: r.kind,
      resourceId: r.resource_id,
      action: r.action,
      projectId: r.project_id,
      data: JSON.parse(r.data) as Record<string, unknown>,
      createdAt: r.created_at,
    }));
  }

  /** Calls fn with batches of matching events, in revision order, after they commit. */
  subscribe(filter: (e: ChangeEvent) => boolean, fn: FeedHandler): () => void {
    const h = { filter, fn };
    this.#handlers.add(h);
    return () => this.#handlers.delete(h);
  }

  /** Resolves once events past `after` exist or the timeout passes (long-poll for agents). */
  async waitFor(after: number, timeoutMs: number): Promise<ChangeEvent[]> {
    const first = await this.read(after);
    if (first.length > 0 || timeoutMs <= 0) return first;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
    return this.read(after);
  }

  /** Wakes the pump; writers call this after their transaction commits. */
  wake(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = null;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  /** Resolves when every event committed so far has been delivered to subscribers. */
  async settle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      this.wake();
      await this.#pumping;
      if ((await this.head()) <= this.#cursor && !this.#pumping) return;
    }
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const events = this.#fromBuffer() ?? (await this.read(this.#cursor, READ_BATCH));
        if (events.length === 0) break;
        this.#cursor = events[events.length - 1]!.revision;
        for (const h of this.#handlers) {
          const mine = events.filter(h.filter);
          if (mine.length === 0) continue;
          try {
            await h.fn(mine);
          } catch (err) {
            this.#log.error({ err }, 'change feed subscriber failed');
          }
        }
        for (const w of [...this.#waiters]) w();
        // A short batch means the log was drained; commits since then have called wake() and re-pump.
        if (events.length < READ_BATCH) break;
      }
    } catch (err) {
      this.#log.error({ err }, 'change feed read failed');
    }
  }
}
