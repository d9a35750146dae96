// Nova's audit periods (utils.last_completed_audit_period with the default unit, "month") and the naive
// timestamps the instance usage audit log API reads and prints.

/** A naive UTC time as Python's str(datetime) prints it: "2026-11-01 00:00:00". */
export function pythonDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The most recently completed monthly period before `before` (ms since the epoch): from the 1st of a month at
 * midnight UTC to the 1st of the next; a `before` exactly on a boundary belongs to the period it starts.
 */
export function lastCompletedMonth(before: number): { begin: number; end: number } {
  const d = new Date(before);
  let end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  if (end >= before) end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
  const e = new Date(end);
  return { begin: Date.UTC(e.getUTCFullYear(), e.getUTCMonth() - 1, 1), end };
}

const STAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/;

/**
 * strptime with "%Y-%m-%d %H:%M:%S" (or "... %S.%f" when the text has a dot), taken as UTC; undefined when
 * the text does not parse or names no real time.
 */
export function parseAuditTimestamp(text: string): number | undefined {
  const m = STAMP.exec(text);
  if (!m) return undefined;
  if (text.includes('.') !== (m[7] !== undefined)) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(ms).getUTCDate() !== d) return undefined;
  const micros = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  return ms + Math.floor(micros / 1000);
}
