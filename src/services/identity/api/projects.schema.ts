// Request shapes of the resource API (keystone/resource/schema.py) and the request parsing shared by the
// domain, project and catalog handlers: entity bodies, Keystone's key normalisation, list filters and limits.
import { queryAll, queryOne } from '../../../platform/http/pagination.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import { IdentityErrors } from '../errors.ts';

type Schema = Record<string, unknown>;
type Body = Record<string, unknown>;

const nullable = (s: Schema): Schema => ({ ...s, type: [s['type'], 'null'] });

export const nameSchema: Schema = { type: 'string', minLength: 1, maxLength: 64, pattern: '[\\S]+' };
export const descriptionSchema: Schema = { type: ['string', 'null'] };
export const booleanSchema: Schema = { type: 'boolean', enum: [true, false] };
export const idStringSchema: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-zA-Z0-9-]+$',
};

/** One tag: API-WG tag rules, no '/' or ','. */
export const tagSchema: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^,/]*$' };
/** Uniqueness is checked by checkUniqueTags, for Keystone's message. */
export const tagsSchema: Schema = { type: 'array', items: tagSchema, maxItems: 80 };
export const MAX_TAGS = 80;

/** Resource options: only `immutable` exists; null resets it. */
export const optionsSchema: Schema = {
  type: 'object',
  properties: { immutable: { type: ['boolean', 'null'] } },
  additionalProperties: false,
};

const projectProperties: Schema = {
  description: descriptionSchema,
  domain_id: nullable(idStringSchema),
  enabled: booleanSchema,
  is_domain: booleanSchema,
  parent_id: nullable(idStringSchema),
  name: nameSchema,
  tags: tagsSchema,
  options: optionsSchema,
};

export const projectCreateSchema: Schema = {
  type: 'object',
  properties: projectProperties,
  required: ['name'],
  additionalProperties: true,
};

export const projectUpdateSchema: Schema = {
  type: 'object',
  properties: projectProperties,
  minProperties: 1,
  additionalProperties: true,
};

/** Python's repr() of JSON values, as jsonschema prints them in messages. */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Body)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** jsonschema's uniqueItems failure, with Keystone's field prefix when the list is a field. */
export function checkUniqueTags(tags: string[], field?: string): void {
  if (new Set(tags).size === tags.length) return;
  const msg = `${pyRepr(tags)} has non-unique elements`;
  throw IdentityErrors.validation(field ? `Invalid input for field '${field}': ${msg}` : msg);
}

/** The resource options we accept: none set, or immutable explicitly off. */
export function checkOptions(options: unknown): void {
  if (options === undefined) return;
  const o = options as Body;
  if (o['immutable'] === true) {
    throw IdentityErrors.validation('The immutable resource option is not supported by this cloud.');
  }
}

/**
 * Validates request bodies the way Keystone does: the entity inside the envelope is validated on its own, so
 * field paths read 'name', not 'project/name'.
 */
export class EntityValidator {
  readonly #v = new SchemaValidator();

  /** body[key] validated against schema; `fallback` stands in for a missing key (Keystone's `.get(key, {})`). */
  entity(ctx: RouteContext, key: string, schema: Schema, fallback?: Body): Body {
    const raw = ctx.body as unknown;
    const body = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Body) : {};
    const value = body[key] === undefined ? (fallback ?? null) : body[key];
    this.#v.validate(schema, value);
    return value as Body;
  }

  validate(schema: Schema, value: unknown): void {
    this.#v.validate(schema, value);
  }
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
export function flagTrue(ctx: RouteContext, name: string): boolean {
  const v = queryOne(ctx.query, name);
  return v !== undefined && v !== '0';
}

/** The request's query string, for the collection's self link. */
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
 * Keystone's list filters (build_driver_hints + filter_by_attributes) over already-built bodies: exact filters
 * `attr=value` (booleans with bool_from_string) and inexact `attr__contains` / `__icontains` / `__startswith` /
 * `__istartswith` / `__endswith` / `__iendswith`, for the attributes a collection supports.
 */
export function applyFilters(ctx: RouteContext, items: Body[], attrs: readonly string[]): Body[] {
  let out = items;
  for (const attr of attrs) {
    for (const value of queryAll(ctx.query, attr)) {
      out = out.filter((r) => {
        const v = r[attr];
        if (typeof v === 'boolean') return v === attrBool(value);
        return v === value;
      });
    }
    for (const [suffix, test] of Object.entries(INEXACT)) {
      for (const [key, insensitive] of [
        [`${attr}__${suffix}`, false],
        [`${attr}__i${suffix}`, true],
      ] as const) {
        for (const value of queryAll(ctx.query, key)) {
          out = out.filter((r) => {
            const v = r[attr];
            if (typeof v !== 'string') return false;
            return insensitive ? test(v.toLowerCase(), value.toLowerCase()) : test(v, value);
          });
        }
      }
    }
  }
  return out;
}

/** Keystone's list_limit: at most `limit` items, and `truncated: true` in the body when more matched. */
export function truncate<T>(items: T[], limit: number): { items: T[]; truncated: boolean } {
  if (limit > 0 && items.length > limit) return { items: items.slice(0, limit), truncated: true };
  return { items, truncated: false };
}
