// Neutron's list semantics for every collection: attribute filters (validated, converted, any-of), tag filters,
// fields, sort_key/sort_dir, limit/marker/page_reverse with next/previous links.
import { ApiError } from '../../../platform/errors.ts';
import type { RouteContext, RouteResult } from '../../../platform/http/types.ts';
import { badRequest } from '../errors.ts';
import { ConvertError, fieldsOf, type ResourceSpec, view } from './resource.ts';

/** Query parameters that are not attribute filters. */
const CONTROL = new Set([
  'fields',
  'sort_key',
  'sort_dir',
  'limit',
  'marker',
  'page_reverse',
  'tags',
  'tags-any',
  'not-tags',
  'not-tags-any',
]);

/** A filter the resource evaluates itself (fixed_ips=ip_address=…, router_id on ports, …). */
export type CustomFilter = (item: Record<string, unknown>, values: string[]) => boolean;

export interface ListOptions {
  /** Filters beyond plain attribute equality, by query key. */
  custom?: Record<string, CustomFilter>;
  /** Query keys accepted and ignored (e.g. `shared` filters handled in the query). */
  ignore?: readonly string[];
}

export interface ListQuery {
  filters: Map<string, unknown[]>;
  custom: Map<string, string[]>;
  tags: { all: string[]; any: string[]; notAll: string[]; notAny: string[] };
  fields: string[] | undefined;
  sorts: { key: string; dir: 'asc' | 'desc' }[];
  limit: number | undefined;
  marker: string | undefined;
  pageReverse: boolean;
}

function all(ctx: RouteContext, key: string): string[] {
  const v = ctx.query[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function splitTags(ctx: RouteContext, key: string): string[] {
  return all(ctx, key)
    .flatMap((v) => v.split(','))
    .filter((t) => t !== '');
}

/** Reads and validates a list request's query (unknown filter → 400, as Neutron's filter validation). */
export function parseListQuery(ctx: RouteContext, spec: ResourceSpec, opts: ListOptions = {}): ListQuery {
  const filters = new Map<string, unknown[]>();
  const custom = new Map<string, string[]>();
  const invalid: string[] = [];
  for (const key of Object.keys(ctx.query)) {
    if (CONTROL.has(key) || opts.ignore?.includes(key)) continue;
    const values = all(ctx, key);
    if (opts.custom?.[key]) {
      custom.set(key, values);
      continue;
    }
    const a = spec.attrs[key];
    if (!a || a.visible === false || a.filter === false) {
      invalid.push(key);
      continue;
    }
    const converted = values.map((v) => {
      if (!a.convert) return v;
      try {
        return a.convert(v);
      } catch (e) {
        if (e instanceof ConvertError)
          throw new ApiError(400, 'InvalidInput', `Invalid input for operation: ${e.message}.`);
        throw e;
      }
    });
    filters.set(key === 'tenant_id' ? 'project_id' : key, converted);
  }
  if (invalid.length > 0)
    throw badRequest(`[${invalid.map((k) => `'${k}'`).join(', ')}] is invalid attribute for filtering`);

  const keys = all(ctx, 'sort_key');
  const dirs = all(ctx, 'sort_dir');
  if (dirs.length > 0 && keys.length !== dirs.length)
    throw badRequest('The number of sort_keys and sort_dirs must be same');
  const badKeys = keys.filter((k) => {
    const a = spec.attrs[k];
    return !a || a.visible === false || a.sort === false;
  });
  if (badKeys.length > 0)
    throw badRequest(`[${badKeys.map((k) => `'${k}'`).join(', ')}] is invalid attribute for sort_keys`);
  const badDirs = dirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (badDirs.length > 0)
    throw badRequest(
      `[${badDirs.map((d) => `'${d}'`).join(', ')}] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`,
    );
  const sorts = keys.map((key, i) => ({ key, dir: (dirs[i] ?? 'asc') as 'asc' | 'desc' }));

  let limit: number | undefined;
  const rawLimit = all(ctx, 'limit')[0];
  if (rawLimit !== undefined) {
    const n = /^\d+$/.test(rawLimit) ? Number.parseInt(rawLimit, 10) : Number.NaN;
    if (Number.isNaN(n)) throw badRequest(`Limit must be an integer 0 or greater and not '${rawLimit}'`);
    limit = n === 0 ? undefined : n;
  }
  const pr = all(ctx, 'page_reverse')[0];
  return {
    filters,
    custom,
    tags: {
      all: splitTags(ctx, 'tags'),
      any: splitTags(ctx, 'tags-any'),
      notAll: splitTags(ctx, 'not-tags'),
      notAny: splitTags(ctx, 'not-tags-any'),
    },
    fields: fieldsOf(ctx),
    sorts,
    limit,
    marker: all(ctx, 'marker')[0],
    pageReverse: pr !== undefined && pr.toLowerCase() === 'true',
  };
}

function equal(have: unknown, want: unknown): boolean {
  if (Array.isArray(have)) return have.some((h) => equal(h, want));
  if (have === want) return true;
  if (have === null || have === undefined) return want === '' || want === null;
  if (typeof have === 'object') return false;
  return String(have) === String(want);
}

/** Whether one item passes the query's filters. */
export function matches(item: Record<string, unknown>, q: ListQuery, opts: ListOptions = {}): boolean {
  for (const [key, values] of q.filters) {
    const have = item[key];
    if (!values.some((v) => equal(have, v))) return false;
  }
  for (const [key, values] of q.custom) {
    if (!opts.custom![key]!(item, values)) return false;
  }
  const { tags } = q;
  if (tags.all.length + tags.any.length + tags.notAll.length + tags.notAny.length > 0) {
    const have = new Set((item['tags'] as string[] | undefined) ?? []);
    if (tags.all.length > 0 && !tags.all.every((t) => have.has(t))) return false;
    if (tags.any.length > 0 && !tags.any.some((t) => have.has(t))) return false;
    if (tags.notAll.length > 0 && tags.notAll.every((t) => have.has(t))) return false;
    if (tags.notAny.length > 0 && tags.notAny.some((t) => have.has(t))) return false;
  }
  return true;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function linkHref(ctx: RouteContext, marker: string | undefined, reverse: boolean): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(ctx.query)) {
    if (k === 'marker' || k === 'page_reverse') continue;
    for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
  }
  if (marker !== undefined) params.set('marker', marker);
  if (reverse) params.set('page_reverse', 'True');
  const path = ctx.request.url.split('?')[0];
  return `${ctx.baseUrl()}${path}?${params.toString()}`;
}

/**
 * Filters, sorts, pages and renders a collection. `items` are full wire dicts (with `id` and `tags`) the caller is
 * allowed to see. The default order is the store's (creation) order.
 */
export function listBody(
  ctx: RouteContext,
  spec: ResourceSpec,
  items: Record<string, unknown>[],
  q: ListQuery,
  opts: ListOptions = {},
): RouteResult {
  let rows = items.filter((i) => matches(i, q, opts));
  if (q.sorts.length > 0) {
    const sorts = [...q.sorts];
    if (!sorts.some((s) => s.key === 'id')) sorts.push({ key: 'id', dir: sorts[0]!.dir });
    rows = [...rows].sort((x, y) => {
      for (const s of sorts) {
        const c = compare(x[s.key], y[s.key]);
        if (c !== 0) return s.dir === 'asc' ? c : -c;
      }
      return 0;
    });
  } else if (q.limit !== undefined) {
    rows = [...rows].sort((x, y) => compare(x['id'], y['id']));
  }
  const body: Record<string, unknown> = {};
  if (q.limit !== undefined) {
    const links: { rel: string; href: string }[] = [];
    if (q.pageReverse) rows.reverse();
    let start = 0;
    if (q.marker !== undefined) {
      const at = rows.findIndex((r) => r['id'] === q.marker);
      start = at >= 0 ? at + 1 : 0;
    }
    const more = rows.length - start > q.limit;
    let page = rows.slice(start, start + q.limit);
    if (q.pageReverse) page = page.reverse();
    const first = page[0]?.['id'] as string | undefined;
    const last = page[page.length - 1]?.['id'] as string | undefined;
    if (!q.pageReverse) {
      if (more) links.push({ rel: 'next', href: linkHref(ctx, last, false) });
      if (q.marker !== undefined) links.push({ rel: 'previous', href: linkHref(ctx, first, true) });
    } else {
      if (more) links.push({ rel: 'previous', href: linkHref(ctx, first, true) });
      if (q.marker !== undefined) links.push({ rel: 'next', href: linkHref(ctx, last, false) });
    }
    rows = page;
    if (links.length > 0) body[`${spec.collection}_links`] = links;
  }
  body[spec.collection] = rows.map((r) => view(ctx, spec, r, q.fields));
  // Neutron puts the links after the collection; order of keys does not matter to clients.
  return { body };
}
