// Neutron's attribute machinery (RESOURCE_ATTRIBUTE_MAP semantics) for every resource: request bodies with defaults,
// allow_post/allow_put, unknown attributes, conversion and validation, bulk; and responses with fields selection.
import { ApiError } from '../../../platform/errors.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import { badRequest } from '../errors.ts';
import { networkPolicies } from '../policy.ts';

/** Thrown by an attribute's `convert`: Neutron answers InvalidInput "Invalid input for operation: <message>.". */
export class ConvertError extends Error {}

export interface AttrSpec {
  /** May be given on create (allow_post) / update (allow_put). */
  post: boolean;
  put: boolean;
  /** Create's default (a function computes one per request). Absent while `post`: the attribute is required. */
  default?: unknown;
  /** Normalises a given value (booleans from strings, …); throws ConvertError. Also converts filter values. */
  convert?: (v: unknown) => unknown;
  /** Checks a converted value; returns the reason it is invalid. */
  validate?: (v: any) => string | undefined;
  /** Shown in responses (is_visible; default true). */
  visible?: boolean;
  /** May be used as a list filter / sort key (default: visible). */
  filter?: boolean;
  sort?: boolean;
  /** Setting it (create/update, when explicitly set) or seeing it needs `<action>_<member>:<attr>` (enforce_policy). */
  policy?: boolean;
}

export interface ResourceSpec {
  member: string;
  collection: string;
  attrs: Record<string, AttrSpec>;
  /** POST with {"<collection>": [...]} creates several at once. */
  bulk?: boolean;
}

/** What the caller is, for defaults and privilege checks. */
export interface Caller {
  projectId: string | undefined;
  isAdmin: boolean;
}

export interface ParsedItem {
  /** Every allow_post attribute (given or defaulted, converted) on create; the given ones on update. */
  values: Record<string, any>;
  /** The attributes the request named explicitly. */
  explicit: Set<string>;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The standard attributes of Neutron resources (project, name/description, timestamps, revision, tags). */
export function standardAttrs(
  opts: { name?: boolean; description?: boolean } = {},
): Record<string, AttrSpec> {
  const a: Record<string, AttrSpec> = {
    id: { post: false, put: false },
    tenant_id: { post: true, put: false, validate: maxLen(255) },
    project_id: { post: true, put: false, validate: maxLen(255) },
    created_at: { post: false, put: false },
    updated_at: { post: false, put: false },
    revision_number: { post: false, put: false, convert: toInt },
    tags: { post: false, put: false, filter: false, sort: false },
  };
  if (opts.name !== false) a['name'] = { post: true, put: true, default: '', validate: maxLen(255) };
  if (opts.description !== false)
    a['description'] = { post: true, put: true, default: '', validate: maxLen(255) };
  return a;
}

// ---- converters and validators (neutron_lib.api.converters / validators, in our words) ----

export function toBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
  }
  throw new ConvertError(`'${str(v)}' cannot be converted to boolean`);
}

export function toInt(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
  throw new ConvertError(`'${str(v)}' is not an integer`);
}

export function maxLen(n: number): (v: unknown) => string | undefined {
  return (v) => {
    if (typeof v !== 'string') return `'${str(v)}' is not a valid string`;
    if (v.length > n) return `'${v}' exceeds maximum length of ${n}`;
    return undefined;
  };
}

export function nullableMaxLen(n: number): (v: unknown) => string | undefined {
  const check = maxLen(n);
  return (v) => (v === null ? undefined : check(v));
}

export function isUuid(v: unknown): string | undefined {
  if (typeof v === 'string' && /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v))
    return undefined;
  return `'${str(v)}' is not a valid UUID`;
}

export function oneOf(values: readonly unknown[]): (v: unknown) => string | undefined {
  return (v) =>
    values.includes(v)
      ? undefined
      : `'${str(v)}' is not in [${values.map((x) => `'${String(x)}'`).join(', ')}]`;
}

// ---- request bodies ----

function callerCheckProject(caller: Caller, res: Record<string, unknown>, isCreate: boolean): void {
  const p = res['project_id'];
  const t = res['tenant_id'];
  if (p !== undefined && t !== undefined && p !== t)
    throw badRequest("'project_id' and 'tenant_id' do not match");
  const given = p ?? t;
  if (given !== undefined) {
    res['project_id'] = given;
    res['tenant_id'] = given;
    if (!caller.isAdmin && given !== caller.projectId)
      throw badRequest(
        "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges",
      );
  } else if (isCreate && caller.projectId) {
    res['project_id'] = caller.projectId;
    res['tenant_id'] = caller.projectId;
  }
}

function convertValues(spec: ResourceSpec, res: Record<string, any>, only: Iterable<string>): void {
  for (const attr of only) {
    const a = spec.attrs[attr];
    if (!a || res[attr] === undefined) continue;
    if (a.convert) {
      try {
        res[attr] = a.convert(res[attr]);
      } catch (e) {
        if (e instanceof ConvertError)
          throw new ApiError(400, 'InvalidInput', `Invalid input for operation: ${e.message}.`);
        throw e;
      }
    }
    const reason = a.validate?.(res[attr]);
    if (reason !== undefined) throw badRequest(`Invalid input for ${attr}. Reason: ${reason}.`);
  }
}

function prepareOne(spec: ResourceSpec, caller: Caller, raw: unknown, isCreate: boolean): ParsedItem {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw badRequest(`Object '${spec.member}' contains invalid data`);
  const res: Record<string, any> = { ...(raw as Record<string, unknown>) };
  const explicit = new Set(Object.keys(res));
  callerCheckProject(caller, res, isCreate);
  const extra = Object.keys(res).filter((k) => !(k in spec.attrs));
  if (extra.length > 0) throw badRequest(`Unrecognized attribute(s) '${extra.join(', ')}'`);
  if (isCreate) {
    for (const [attr, a] of Object.entries(spec.attrs)) {
      if (a.post) {
        if (res[attr] === undefined) {
          if (!('default' in a))
            throw badRequest(`Failed to parse request. Required attribute '${attr}' not specified`);
          const d = a.default;
          // Only objects need a copy of their own (primitives are immutable; structuredClone is not free).
          res[attr] =
            typeof d === 'function'
              ? (d as () => unknown)()
              : typeof d === 'object' && d !== null
                ? structuredClone(d)
                : d;
        }
      } else if (attr in res) {
        throw badRequest(`Attribute '${attr}' not allowed in POST`);
      }
    }
    convertValues(spec, res, explicit);
  } else {
    for (const attr of Object.keys(res)) {
      if (!spec.attrs[attr]?.put) throw badRequest(`Cannot update read-only attribute ${attr}`);
    }
    convertValues(spec, res, Object.keys(res));
  }
  return { values: res, explicit };
}

/** A create body: {"<member>": {...}} or, for bulk resources, {"<collection>": [...]}. */
export function parseCreate(
  spec: ResourceSpec,
  caller: Caller,
  body: unknown,
): { items: ParsedItem[]; bulk: boolean } {
  if (body === null || body === undefined || typeof body !== 'object' || Object.keys(body).length === 0)
    throw badRequest('Resource body required');
  const b = body as Record<string, unknown>;
  if (spec.collection in b) {
    if (!spec.bulk) throw badRequest('Bulk operation not supported');
    const list = b[spec.collection];
    if (!Array.isArray(list)) throw badRequest('Body contains invalid data');
    if (list.length === 0) throw badRequest('Resources required');
    const items = list.map((item) => {
      const inner =
        item !== null && typeof item === 'object' && spec.member in (item as object)
          ? (item as Record<string, unknown>)[spec.member]
          : item;
      return prepareOne(spec, caller, inner, true);
    });
    return { items, bulk: true };
  }
  const res = b[spec.member];
  if (res === undefined || res === null) throw badRequest(`Unable to find '${spec.member}' in request body`);
  return { items: [prepareOne(spec, caller, res, true)], bulk: false };
}

/** An update body: {"<member>": {...}} with only allow_put attributes. */
export function parseUpdate(spec: ResourceSpec, caller: Caller, body: unknown): ParsedItem {
  if (body === null || body === undefined || typeof body !== 'object' || Object.keys(body).length === 0)
    throw badRequest('Resource body required');
  const res = (body as Record<string, unknown>)[spec.member];
  if (res === undefined || res === null) throw badRequest(`Unable to find '${spec.member}' in request body`);
  return prepareOne(spec, caller, res, false);
}

/**
 * Attribute-level policy (enforce_policy): each such attribute the request set explicitly (on create: to other than
 * its default) needs `<action>_<member>:<attr>`.
 */
export function enforceAttrPolicies(
  ctx: RouteContext,
  spec: ResourceSpec,
  action: 'create' | 'update',
  item: ParsedItem,
  target: Record<string, unknown>,
): void {
  for (const [attr, a] of Object.entries(spec.attrs)) {
    if (!a.policy || !item.explicit.has(attr)) continue;
    if (action === 'create' && 'default' in a && typeof a.default !== 'function') {
      if (JSON.stringify(item.values[attr]) === JSON.stringify(a.default)) continue;
    }
    ctx.authorize(`${action}_${spec.member}:${attr}`, target);
  }
}

// ---- responses ----

/** The rules Neutron registers: a read rule that is not among them allows (Neutron checks with might_not_exist). */
const REGISTERED = new Set(networkPolicies.map((r) => r.name));

function mayRead(ctx: RouteContext, rule: string, item: Record<string, unknown>): boolean {
  return !REGISTERED.has(rule) || ctx.can(rule, { ...item, tenant_id: item['project_id'] });
}

/** One resource as the caller may see it: invisible and policy-hidden attributes dropped, `fields` applied. */
export function view(
  ctx: RouteContext,
  spec: ResourceSpec,
  item: Record<string, unknown>,
  fields?: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    const a = spec.attrs[k];
    if (a && a.visible === false) continue;
    if (fields && fields.length > 0 && !fields.includes(k)) continue;
    if (a?.policy && !mayRead(ctx, `get_${spec.member}:${k}`, item)) continue;
    out[k] = v;
  }
  return out;
}

/** The `fields` query parameters (repeatable; comma-separated values are not split, as Neutron). */
export function fieldsOf(ctx: RouteContext): string[] | undefined {
  const f = ctx.query['fields'];
  if (f === undefined) return undefined;
  const list = (Array.isArray(f) ? f : [f]).filter((x) => x !== '');
  return list.length > 0 ? list : undefined;
}

/** GET /<collection>/<id> response. */
export function showBody(
  ctx: RouteContext,
  spec: ResourceSpec,
  item: Record<string, unknown>,
): { body: unknown } {
  return { body: { [spec.member]: view(ctx, spec, item, fieldsOf(ctx)) } };
}
