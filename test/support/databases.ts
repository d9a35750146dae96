// The database dialects every contract suite runs over: SQLite in memory always, PostgreSQL when
// MONOSTACK_TEST_PG_URL names a server (scripts/test.sh starts one); in CI a missing PostgreSQL is a failure.
import { sql } from 'kysely';
import { openDatabase } from '../../src/platform/db/database.ts';

export interface TestDialect {
  name: 'sqlite' | 'postgres';
  /** A URL to a fresh, empty database (a new schema on PostgreSQL). */
  freshUrl(): Promise<string>;
  /** Why this dialect cannot run here, if it cannot. */
  unavailable?: string;
}

const pgUrl = process.env['MONOSTACK_TEST_PG_URL'];
export const inCi = process.env['CI'] === 'true';

export const TEST_DIALECTS: readonly TestDialect[] = [
  { name: 'sqlite', freshUrl: async () => 'sqlite::memory:' },
  {
    name: 'postgres',
    async freshUrl() {
      const admin = await openDatabase(pgUrl!);
      const schema = `t${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      try {
        await sql.raw(`create schema ${schema}`).execute(admin.db);
      } finally {
        await admin.close();
      }
      const url = new URL(pgUrl!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return url.toString();
    },
    unavailable: pgUrl
      ? undefined
      : 'MONOSTACK_TEST_PG_URL is not set (scripts/test.sh starts a PostgreSQL test server)',
  },
];

/** node:test `skip` for a dialect: never in CI, where every dialect must run. */
export function skipFor(d: TestDialect): string | false {
  return !inCi && d.unavailable ? d.unavailable : false;
}
