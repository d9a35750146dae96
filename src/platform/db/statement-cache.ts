// Reuses better-sqlite3 prepared statements by SQL text: Kysely's SQLite driver prepares on every query.
import type SQLite from 'better-sqlite3';
import { profiling, recordQuery } from './query-profile.ts';

/** A statement whose all/run record their native execution time (MONOSTACK_DB_PROFILE). */
function timed(source: string, st: SQLite.Statement): SQLite.Statement {
  const wrap =
    (fn: (...a: unknown[]) => unknown) =>
    (...a: unknown[]) => {
      const t0 = performance.now();
      try {
        return fn.apply(st, a);
      } finally {
        recordQuery(source, performance.now() - t0);
      }
    };
  return { reader: st.reader, all: wrap(st.all), run: wrap(st.run) } as unknown as SQLite.Statement;
}

/**
 * Wraps a connection so prepare() returns a cached statement for SQL it has seen (at most `max`, least recently
 * used dropped). Safe because Kysely's driver runs each statement to completion synchronously (all/run); the
 * project never streams (Kysely's stream() would iterate a statement, which a cached one must not be).
 */
export function withStatementCache(conn: SQLite.Database, max = 1000): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = conn.prepare.bind(conn);
  const cachedPrepare = (source: string): SQLite.Statement => {
    let st = cache.get(source);
    if (st) {
      cache.delete(source);
    } else {
      st = prepare(source);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, st);
    return profiling ? timed(source, st) : st;
  };
  return new Proxy(conn, {
    get(target, prop) {
      if (prop === 'prepare') return cachedPrepare;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
