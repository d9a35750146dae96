// The platform's once-compiled statements (platform/db/compiled.ts), typed to the compute tables, and a
// compiled update keyed by the columns it sets.
import type { Compilable, Kysely, Updateable } from 'kysely';
import * as platform from '../../../platform/db/compiled.ts';
import type { ComputeTables } from './tables.ts';

type Db = Kysely<ComputeTables>;

export function compiled<A extends unknown[], R>(
  arity: A['length'],
  build: (db: Db, ...args: A) => Compilable<R>,
): (db: Db, ...args: A) => Promise<R[]> {
  return platform.compiled<ComputeTables, A, R>(arity, build);
}

export function compiledInsert<T extends keyof ComputeTables & string>(
  table: T,
): (db: Db, row: ComputeTables[T]) => Promise<unknown[]> {
  return platform.compiledInsert<ComputeTables, T>(table);
}

/**
 * An update of `table` setting the defined columns of `set` where each of the `where` columns equals the value in
 * its place; resolves to the number of rows changed. Compiled once per set of columns (a caller's few shapes).
 */
export function compiledUpdate<T extends keyof ComputeTables & string>(
  table: T,
  where: readonly (keyof ComputeTables[T] & string)[],
): (db: Db, set: Updateable<ComputeTables[T]>, ...keys: unknown[]) => Promise<number> {
  const byColumns = new Map<string, (db: Db, ...args: unknown[]) => Promise<unknown[]>>();
  return async (db, set, ...keys) => {
    const values = set as Record<string, unknown>;
    const columns = Object.keys(values).filter((c) => values[c] !== undefined);
    const key = columns.join(',');
    let run = byColumns.get(key);
    if (!run) {
      run = compiled<unknown[], unknown>(columns.length + where.length, (d, ...args: unknown[]) => {
        // Typed loosely: the columns are only known at run time.
        // biome-ignore lint/suspicious/noExplicitAny: a dynamic update over one of the compute tables.
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
