// Versioned migrations per service, recorded in monostack_migrations, each applied in its own transaction.
import { type Kysely, sql } from 'kysely';
import type { Database, DialectName } from './database.ts';

export interface Migration {
  version: number;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the raw schema.
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

export interface ServiceMigrations {
  service: string;
  migrations: readonly Migration[];
}

async function ensureTable(database: Database): Promise<void> {
  await database.db.schema
    .createTable('monostack_migrations')
    .ifNotExists()
    .addColumn('service', 'varchar(64)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('applied_at', 'varchar(40)', (c) => c.notNull())
    .addPrimaryKeyConstraint('monostack_migrations_pk', ['service', 'version'])
    .execute();
}

/** Applies every pending migration of each service in order; safe to run concurrently from several processes. */
export async function migrate(database: Database, sets: readonly ServiceMigrations[]): Promise<string[]> {
  await ensureTable(database);
  const applied: string[] = [];
  for (const set of sets) {
    const sorted = [...set.migrations].sort((a, b) => a.version - b.version);
    for (const m of sorted) {
      const done = await database.db.transaction().execute(async (trx) => {
        if (database.dialect === 'postgres') await sql`select pg_advisory_xact_lock(7312001)`.execute(trx);
        const row = await trx
          .selectFrom('monostack_migrations')
          .select('version')
          .where('service', '=', set.service)
          .where('version', '=', m.version)
          .executeTakeFirst();
        if (row) return false;
        await m.up(trx, database.dialect);
        await trx
          .insertInto('monostack_migrations')
          .values({
            service: set.service,
            version: m.version,
            name: m.name,
            applied_at: new Date().toISOString(),
          })
          .execute();
        return true;
      });
      if (done) applied.push(`${set.service} ${String(m.version).padStart(4, '0')}-${m.name}`);
    }
  }
  return applied;
}

/** The migration state per service, for `monostack status`. */
export async function migrationStatus(database: Database): Promise<Record<string, number>> {
  await ensureTable(database);
  const rows = await database.db
    .selectFrom('monostack_migrations')
    .select(['service', (eb) => eb.fn.max('version').as('version')])
    .groupBy('service')
    .execute();
  return Object.fromEntries(rows.map((r) => [String(r.service), Number(r.version)]));
}
