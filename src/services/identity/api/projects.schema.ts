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
