// Query-string helpers shared by list APIs: limit/marker pagination, booleans, and next links.
import { ApiError } from '../errors.ts';

export function queryOne(q: Record<string, string | string[]>, key: string): string | undefined {
  const v = q[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function queryAll(q: Record<string, string | string[]>, key: string): string[] {
  const v = q[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** OpenStack's bool_from_string: true/1/yes/on and false/0/no/off (case-insensitive). */
export function parseBool(v: string | undefined, fallback: boolean, name = 'value'): boolean {
  if (v === undefined) return fallback;
  const s = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'y', 'on', 't'].includes(s)) return true;
  if (['false', '0', 'no', 'n', 'off', 'f', ''].includes(s)) return false;
  throw new ApiError(400, 'ValidationError', `Invalid value for ${name}: ${v}`);
}

export function parseLimit(v: string | undefined, max?: number): number | undefined {
  if (v === undefined) return max;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new ApiError(400, 'ValidationError', `limit must be a non-negative integer, not '${v}'`);
  return max !== undefined ? Math.min(n, max) : n;
}

/** A page of items after `marker` (by id), at most `limit` long, and whether more follow. */
export function page<T extends { id: string }>(
  items: readonly T[],
  opts: { marker?: string; limit?: number; notFound?: (marker: string) => Error },
): { items: T[]; more: boolean } {
  let start = 0;
  if (opts.marker !== undefined) {
    const i = items.findIndex((x) => x.id === opts.marker);
    if (i < 0)
      throw (
        opts.notFound?.(opts.marker) ??
        new ApiError(400, 'MarkerNotFound', `Marker ${opts.marker} could not be found.`)
      );
    start = i + 1;
  }
  const end = opts.limit === undefined ? items.length : start + opts.limit;
  return { items: items.slice(start, end), more: end < items.length };
}
