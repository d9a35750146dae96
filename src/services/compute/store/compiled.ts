// The platform's once-compiled statements (platform/db/compiled.ts), typed to the compute tables.
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

/** An update by key columns, compiled once per set of columns it sets (platform's compiledUpdate). */
export function compiledUpdate<T extends keyof ComputeTables & string>(
  table: T,
  where: readonly (keyof ComputeTables[T] & string)[],
): (db: Db, set: Updateable<ComputeTables[T]>, ...keys: unknown[]) => Promise<number> {
  return platform.compiledUpdate<ComputeTables, T>(table, where);
}
