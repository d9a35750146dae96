// Request helpers shared by the identity handlers: Keystone's body unwrapping, key normalisation, list
// filters (driver hints), list_limit truncation and collection envelopes.
import { queryAll, queryOne } from '../../../platform/http/pagination.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import type { IdentityContext } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import { listBody } from './views.ts';

type Body = Record<string, unknown>;

const validator = new SchemaValidator();

/** Keystone's lazy_validate: the inner resource is validated after policy, so field paths omit the wrapper. */
export function validateResource(schema: Record<string, unknown>, value: unknown): void {
  validator.validate(schema, value);
}

export function isObject(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The resource inside a request body (`{"group": {...}}`), or {} as Keystone's `.get(key, {})`. */
export function memberOf(body: unknown, key: string): unknown {
  if (!isObject(body)) return {};
  return body[key] ?? {};
}

/** Keystone's _normalize_dict: ':' and '-' in attribute names become '_'. */
export function normalizeKeys(d: Body): Body {
  const out: Body = {};
  for (const [k, v] of Object.entries(d)) out[k.replaceAll(':', '_').replaceAll('-', '_')] = v;
  return out;
}

/** The attributes of d that are not columns: Keystone keeps them in `extra` and returns them flattened. */
export function extraOf(d: Body, columns: readonly string[]): Body {
  const out: Body = {};
  for (const [k, v] of Object.entries(d)) if (!columns.includes(k) && k !== 'links') out[k] = v;
  return out;
}

/** ResourceBase._require_matching_id: an `id` in a PATCH body must be the one in the URL. */
export function requireMatchingId(entity: Body, id: string): void {
  if (entity['id'] !== undefined && entity['id'] !== null && entity['id'] !== id) {
    throw IdentityErrors.validation('Cannot change ID');
  }
}

/** oslo's bool_from_string(v, default=True): only the false spellings are false. */
export function attrBool(v: string): boolean {
  return !['f', 'false', 'n', 'no', 'off', '0'].includes(v.trim().toLowerCase());
}

/** ResourceBase.query_filter_is_true: a present parameter is true unless it is '0'. */
export function queryFlag(q: Record<string, string | string[]>, name: string): boolean {
  const v = queryOne(q, name);
  return v !== undefined && v !== '0';
}

export function flagTrue(ctx: RouteContext, name: string): boolean {
  return queryFlag(ctx.query, name);
}

/** The first value of a query parameter (Flask's args.get). */
export function queryFirst(q: Record<string, string | string[]>, name: string): string | undefined {
  return queryAll(q, name)[0];
}

/** The request's query string (without '?'), for a collection's self link. */
export function rawQuery(ctx: RouteContext): string {
  const url = ctx.request.url;
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}

const INEXACT: Record<string, (target: string, value: string) => boolean> = {
  contains: (t, v) => t.includes(v),
  startswith: (t, v) => t.startsWith(v),
  endswith: (t, v) => t.endsWith(v),
};

/**
 * Keystone's list filters (build_driver_hints + filter_by_attributes) over the wire attributes of each item:
 * exact `attr=value` (booleans with bool_from_string) and inexact `attr__contains` / `__icontains` /
 * `__startswith` / `__istartswith` / `__endswith` / `__iendswith`, for the attributes a collection supports.
 */
export function filterBy<T>(
  items: T[],
  q: Record<string, string | string[]>,
  supported: readonly string[],
  attrs: (item: T) => Body,
): T[] {
  const tests: ((a: Body) => boolean)[] = [];
  for (const attr of supported) {
    for (const value of queryAll(q, attr)) {
      tests.push((a) => {
        const v = a[attr];
        return typeof v === 'boolean' ? v === attrBool(value) : v === value;
      });
    }
    for (const [suffix, test] of Object.entries(INEXACT)) {
      for (const [key, insensitive] of [
        [`${attr}__${suffix}`, false],
        [`${attr}__i${suffix}`, true],
      ] as const) {
        for (const value of queryAll(q, key)) {
          tests.push((a) => {
            const v = a[attr];
            if (typeof v !== 'string') return false;
            return insensitive ? test(v.toLowerCase(), value.toLowerCase()) : test(v, value);
          });
        }
      }
    }
  }
  if (tests.length === 0) return items;
  return items.filter((it) => {
    const a = attrs(it);
    return tests.every((t) => t(a));
  });
}

/** filterBy over items that are wire bodies already. */
export function applyFilters(ctx: RouteContext, items: Body[], attrs: readonly string[]): Body[] {
  return filterBy(items, ctx.query, attrs, (x) => x);
}

/** Keystone's list_limit: at most `limit` items, and `truncated: true` in the body when more matched. */
export function truncate<T>(items: T[], limit: number): { items: T[]; truncated: boolean } {
  if (limit > 0 && items.length > limit) return { items: items.slice(0, limit), truncated: true };
  return { items, truncated: false };
}

/** A collection body with Keystone's links (self carries the query string) and `truncated` past list_limit. */
export function collection(
  ix: IdentityContext,
  ctx: RouteContext,
  key: string,
  items: unknown[],
  path: string,
): Body {
  const t = truncate(items, ix.config.list_limit);
  const body = listBody(key, t.items, ctx.baseUrl(), path, rawQuery(ctx));
  if (t.truncated) body['truncated'] = true;
  return body;
}
