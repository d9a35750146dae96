// MONOSTACK_DB_PROFILE=<file>: sums time per SQL text and writes the heaviest statements to that file at exit (profiling aid).
import { writeFileSync } from 'node:fs';
import type { LogEvent } from 'kysely';

const stats = new Map<string, { count: number; ms: number }>();
let installed = false;

function report(): void {
  const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30);
  let out = 'total ms, count, avg ms, sql\n';
  for (const [sql, s] of rows) {
    out += `${s.ms.toFixed(0).padStart(8)} ${String(s.count).padStart(7)} ${(s.ms / s.count).toFixed(3).padStart(8)}  ${sql.slice(0, 220)}\n`;
  }
  writeFileSync(process.env['MONOSTACK_DB_PROFILE']!, out);
}

/** Adds one statement's execution time (the SQLite driver measures native time per statement). */
export function recordQuery(sqlText: string, ms: number): void {
  install();
  const s = stats.get(sqlText) ?? { count: 0, ms: 0 };
  s.count++;
  s.ms += ms;
  stats.set(sqlText, s);
}

export const profiling = Boolean(process.env['MONOSTACK_DB_PROFILE']);

function install(): void {
  if (!installed) {
    installed = true;
    process.once('exit', report);
  }
}

/**
 * Kysely options adding the profiler when MONOSTACK_DB_PROFILE names a file; none otherwise. Its durations include
 * waiting for the connection, so SQLite (single connection) is measured in the statement cache instead.
 */
export function queryProfile(): { log?: (e: LogEvent) => void } {
  if (!profiling) return {};
  return { log: (e: LogEvent) => recordQuery(e.query.sql, e.queryDurationMillis) };
}
