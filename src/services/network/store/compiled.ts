// The platform's once-compiled statements (platform/db/compiled.ts), typed to the network tables.
import type { Compilable, Kysely } from 'kysely';
import * as platform from '../../../platform/db/compiled.ts';
import type { NetworkTables } from './tables.ts';

type Db = Kysely<NetworkTables>;

export function compiled<A extends unknown[], R>(
  arity: A['length'],
  build: (db: Db, ...args: A) => Compilable<R>,
): (db: Db, ...args: A) => Promise<R[]> {
  return platform.compiled<NetworkTables, A, R>(arity, build);
}

export function compiledInsert<T extends keyof NetworkTables & string>(
  table: T,
): (db: Db, row: NetworkTables[T]) => Promise<unknown[]> {
  return platform.compiledInsert<NetworkTables, T>(table);
}
