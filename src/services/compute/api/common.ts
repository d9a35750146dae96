// Request helpers shared by the compute handlers: URLs and links, Nova's limit/marker pagination, query
// parameters, the project a request acts for, and JSON columns.
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { RouteContext } from '../../../platform/http/types.ts';

/** The compute endpoint root the client used, e.g. http://host:5000/compute. */
export function computeRoot(ctx: RouteContext): string {
  return `${ctx.baseUrl()}/compute`;
}

/** Nova's self and bookmark links for a resource: {root}/v2.1/{path} and {root}/{path}. */
export function resourceLinks(ctx: RouteContext, path: string): { rel: string; href: string }[] {
  const root = computeRoot(ctx);
  return [
    { rel: 'self', href: `${root}/v2.1/${path}` },
    { rel: 'bookmark', href: `${root}/${path}` },
  ];
}

/** Nova's query-parameter error (a 400 naming the parameter). */
export function badQuery(name: string, value: string, why: string): ApiError {
  return new ApiError(
    400,
    'ValidationError',
    `Invalid input for query parameters ${name}. Value: ${value}. ${why}`,
  );
}

/** limit (non-negative integer, capped at max_limit) and marker, as Nova's common.get_limit_and_marker. */
export function limitAndMarker(ctx: RouteContext, maxLimit: number): { limit: number; marker?: string } {
  const raw = queryOne(ctx.query, 'limit');
  let limit = maxLimit;
  if (raw !== undefined) {
    if (!/^-?\d+$/.test(raw.trim())) throw badQuery('limit', raw, `'${raw}' is not a 'positive_integer'`);
    const n = Number(raw);
    if (n < 0) throw badQuery('limit', raw, `'${raw}' is not a 'positive_integer'`);
    limit = Math.min(n, maxLimit);
  }
  const marker = queryOne(ctx.query, 'marker');
  return marker === undefined ? { limit } : { limit, marker };
}

/** The `<collection>_links` next link when a page is full: same query with marker set to the last id. */
export function nextLinks(
  ctx: RouteContext,
  collectionPath: string,
  items: readonly { id: string | number }[],
  limit: number,
  markerOf: (item: { id: string | number }) => string = (i) => String(i.id),
): { rel: string; href: string }[] | undefined {
  if (items.length === 0 || items.length < limit) return undefined;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(ctx.query)) {
    if (k === 'marker') continue;
    for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
  }
  params.set('marker', markerOf(items[items.length - 1]!));
  return [{ rel: 'next', href: `${computeRoot(ctx)}/v2.1/${collectionPath}?${params.toString()}` }];
}

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
