// The database seam: one Kysely instance over SQLite (embedded default) or PostgreSQL (scale-out).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { directSqlite } from './compiled.ts';
import { queryProfile } from './query-profile.ts';
import { withStatementCache } from './statement-cache.ts';
import { startWalCheckpointer, WRITER_AUTOCHECKPOINT_PAGES } from './wal-checkpointer.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  readonly dialect: DialectName;
  // biome-ignore lint/suspicious/noExplicitAny: each service narrows this to its own table types.
  readonly db: Kysely<any>;
  /** A redacted description for status output. */
  readonly description: string;
  /** Subscribes to a PostgreSQL NOTIFY channel (no-op on SQLite, where all writers are in-process). */
  listen(channel: string, fn: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Opens a database from a URL: `sqlite:<file>`, `sqlite::memory:`, or `postgres://user:pass@host:port/db`.
 */
export async function openDatabase(url: string): Promise<Database> {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url);
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  throw new Error(`unsupported database URL "${url.replace(/\/\/[^@]*@/, '//***@')}"`);
}

function openSqlite(file: string): Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const conn = new SQLite(file);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('busy_timeout = 5000');
  conn.pragma('foreign_keys = ON');
  // A file database checkpoints from a worker thread; the writer's own checkpoint only if that falls far behind.
  const checkpointer = file === ':memory:' ? undefined : startWalCheckpointer(file);
  if (checkpointer) conn.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
  const cached = withStatementCache(conn);
  const db = new Kysely({ dialect: new SqliteDialect({ database: cached }), ...queryProfile() });
  directSqlite(db, cached);
  return {
    dialect: 'sqlite',
    db,
    description: `sqlite ${file}`,
    listen: async () => async () => {},
    async close() {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

function openPostgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = new Kysely({ dialect: new PostgresDialect({ pool }), ...queryProfile() });
  return {
    dialect: 'postgres',
    db,
    description: `postgresql ${url.replace(/\/\/[^@]*@/, '//***@')}`,
    async listen(channel, fn) {
      const client = await pool.connect();
      client.on('notification', (msg) => {
        if (msg.channel === channel) fn();
      });
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return async () => {
        await client.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
        client.release();
      };
    },
    close: () => db.destroy(),
  };
}

/** Current time as an ISO string, the portable timestamp column format. */
export function nowIso(ms: number): string {
  return new Date(ms).toISOString();
}

export { sql };
