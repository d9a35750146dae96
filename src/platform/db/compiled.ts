// Statements of hot paths compiled to SQL once per dialect: kysely otherwise builds and compiles the same text on
// every call. Only for fixed shapes: no lists whose length varies per call.
//
// On SQLite they also skip kysely's executor where that is safe (`directSqlite`): a statement run through it costs
// ~15 µs of promises and connection hand-offs around a ~3 µs native call.
import type SQLite from 'better-sqlite3';
import { type Compilable, CompiledQuery, type Kysely, type Updateable } from 'kysely';

/** The one better-sqlite3 connection behind each SQLite Kysely instance, by its adapter (shared by transactions). */
const sqliteByAdapter = new WeakMap<object, SQLite.Database>();

/** Lets compiled statements on `db` (and its transactions) run on `conn`, the connection its dialect uses. */
// biome-ignore lint/suspicious/noExplicitAny: any Kysely instance over that connection.
export function directSqlite(db: Kysely<any>, conn: SQLite.Database): void {
  sqliteByAdapter.set(db.getExecutor().adapter, conn);
}

/**
 * The connection a statement may run on directly, synchronously: inside one of kysely's transactions (which holds
 * the single connection until it ends), or a read while no transaction is open at all (a read then sees exactly the
 * committed state, as it would through kysely). Anything else (a write outside a transaction, a read while another
 * caller's transaction is open on the connection) queues through kysely for the connection.
 */
// biome-ignore lint/suspicious/noExplicitAny: any Kysely instance.
function directConnection(db: Kysely<any>, read: boolean): SQLite.Database | undefined {
  const conn = sqliteByAdapter.get(db.getExecutor().adapter);
  if (!conn) return undefined;
  if (db.isTransaction) return conn;
  return read && !conn.inTransaction ? conn : undefined;
}

/** Stands for the index-th argument while a statement is built. */
class Arg {
  constructor(readonly index: number) {}
}

/**
 * A statement built by `build` with placeholder arguments (each must be used as a value: compared, inserted,
 * set), compiled on first use with each dialect; every call runs that SQL with its arguments in their places.
 */
export function compiled<DB, A extends unknown[], R>(
  arity: A['length'],
  build: (db: Kysely<DB>, ...args: A) => Compilable<R>,
): (db: Kysely<DB>, ...args: A) => Promise<R[]> {
  const byDialect = new Map<unknown, CompiledQuery<R>>();
  return async (db, ...args) => {
    const dialect = db.getExecutor().adapter.constructor;
    let query = byDialect.get(dialect);
    if (!query) {
      const placeholders = Array.from({ length: arity }, (_, i) => new Arg(i)) as unknown as A;
      query = build(db, ...placeholders).compile();
      byDialect.set(dialect, query);
    }
    const parameters = query.parameters.map((p) => (p instanceof Arg ? args[p.index] : p));
    const conn = directConnection(db, query.query.kind === 'SelectQueryNode');
    if (conn) {
      const st = conn.prepare(query.sql);
      if (st.reader) return st.all(parameters) as R[];
      st.run(parameters);
      return [];
    }
    return (await db.executeQuery(CompiledQuery.raw(query.sql, parameters) as CompiledQuery<R>)).rows;
  };
}

/** A one-row insert of the row's defined columns, compiled as above once per set of columns. */
export function compiledInsert<DB, T extends keyof DB & string>(
  table: T,
): (db: Kysely<DB>, row: DB[T]) => Promise<unknown[]> {
  const byColumns = new Map<string, (db: Kysely<DB>, ...args: unknown[]) => Promise<unknown[]>>();
  return (db, row) => {
    const values = row as unknown as Record<string, unknown>;
    const columns = Object.keys(values).filter((c) => values[c] !== undefined);
    const key = columns.join(',');
    let run = byColumns.get(key);
    if (!run) {
      run = compiled<DB, unknown[], unknown>(columns.length, (d, ...args: unknown[]) =>
        d.insertInto(table).values(Object.fromEntries(columns.map((c, i) => [c, args[i]])) as never),
      );
      byColumns.set(key, run);
    }
    return run(db, ...columns.map((c) => values[c]));
  };
}

/**
 * An update of `table` setting the defined columns of `set` where each of the `where` columns equals the value in
 * its place; resolves to the number of rows changed. Compiled once per set of columns (a caller's few shapes).
 */
export function compiledUpdate<DB, T extends keyof DB & string>(
  table: T,
  where: readonly (keyof DB[T] & string)[],
): (db: Kysely<DB>, set: Updateable<DB[T]>, ...keys: unknown[]) => Promise<number> {
  const byColumns = new Map<string, (db: Kysely<DB>, ...args: unknown[]) => Promise<unknown[]>>();
  return async (db, set, ...keys) => {
    const values = set as Record<string, unknown>;
    const columns = Object.keys(values).filter((c) => values[c] !== undefined);
    const key = columns.join(',');
    let run = byColumns.get(key);
    if (!run) {
      run = compiled<DB, unknown[], unknown>(columns.length + where.length, (d, ...args: unknown[]) => {
        // Typed loosely: the columns are only known at run time.
        // biome-ignore lint/suspicious/noExplicitAny: a dynamic update over one of the caller's tables.
        let q: any = (d as Kysely<any>)
          .updateTable(table)
          .set(Object.fromEntries(columns.map((c, i) => [c, args[i]])) as never);
        where.forEach((w, i) => {
          q = q.where(w, '=', args[columns.length + i]);
        });
        return q.returning(where[0]!) as Compilable<unknown>;
      });
      byColumns.set(key, run);
    }
    return (await run(db, ...columns.map((c) => values[c]), ...keys)).length;
  };
}
