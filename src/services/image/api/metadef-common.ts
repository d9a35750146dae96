// What the metadefs handlers share: the typed database, namespace lookup with Glance's visibility rule, the policy
// check of MetadefAPIPolicy, request-body checks, and row → wire views (glance/api/v2/metadef_*.py, model/*.py).
import type { Change } from '../../../platform/db/writer.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import type {
  MetadefDb,
  MetadefNamespaceRow,
  MetadefObjectRow,
  MetadefTagRow,
  MetadefTrx,
} from '../store/metadef-tables.ts';
import { type Caller, callerOf, policyForbidden, resourceNotFound } from './images.ts';
import { pyRepr } from './schemas.ts';

type Json = Record<string, unknown>;

export type { Caller };
export { callerOf };

export const NS_PATH = '/image/v2/metadefs/namespaces';

export function mdDb(ix: ImageContext): MetadefDb {
  return ix.db as unknown as MetadefDb;
}

/** ix.write() over the metadef tables. */
export function mdWrite<T>(
  ix: ImageContext,
  fn: (trx: MetadefTrx, record: (c: Change) => void) => Promise<T>,
): Promise<T> {
  return ix.write((trx, record) => fn(trx as unknown as MetadefTrx, record));
}

// --- namespaces: lookup and policy ----------------------------------------------------------------------------

/** _is_namespace_visible (db/sqlalchemy/metadef_api/namespace.py): admin, no owner, public, or the owner. */
export function isVisible(caller: Caller, ns: MetadefNamespaceRow): boolean {
  return (
    caller.isAdmin ||
    ns.owner === null ||
    ns.visibility === 'public' ||
    (caller.projectId !== undefined && ns.owner === caller.projectId)
  );
}

/** The namespace named `name`, 'missing' when none has that name, 'hidden' when the caller may not see it. */
export async function lookupNamespace(
  db: MetadefDb | MetadefTrx,
  name: string,
  caller: Caller,
): Promise<MetadefNamespaceRow | 'missing' | 'hidden'> {
  const ns = await db
    .selectFrom('image_metadef_namespaces')
    .selectAll()
    .where('namespace', '=', name)
    .executeTakeFirst();
  if (!ns) return 'missing';
  return isVisible(caller, ns) ? ns : 'hidden';
}

export const namespaceMissing = (name: string) =>
  ImageErrors.notFound(`Metadata definition namespace=${name} was not found.`);

/**
 * The namespace a sub-resource handler works in. Glance answers "Namespace X not found" for one the caller may
 * not see, and for one that does not exist too — except the objects API, which names the missing namespace.
 */
export async function requireNamespace(
  db: MetadefDb | MetadefTrx,
  ctx: RouteContext,
  name: string,
  missingText: 'generic' | 'named' = 'generic',
): Promise<MetadefNamespaceRow> {
  const found = await lookupNamespace(db, name, callerOf(ctx));
  if (typeof found === 'object') return found;
  if (found === 'missing' && missingText === 'named') throw namespaceMissing(name);
  throw ImageErrors.notFound(`Namespace ${name} not found`);
}

/** MetadefAPIPolicy's target: the namespace's owner and visibility, or the caller's project without one. */
export function metadefTarget(ctx: RouteContext, ns?: MetadefNamespaceRow): Json {
  if (!ns) return { project_id: ctx.auth?.projectId ?? null };
  return { project_id: ns.owner, visibility: ns.visibility };
}

/**
 * MetadefAPIPolicy._enforce: a refused rule is 404 when the caller may not even see the namespace
 * (get_metadef_namespace), and 403 "You are not authorized to complete <rule> action." otherwise.
 */
export function enforceMetadef(ctx: RouteContext, rule: string, ns?: MetadefNamespaceRow): void {
  const target = metadefTarget(ctx, ns);
  if (ctx.can(rule, target)) return;
  if (rule === 'get_metadef_namespace' || !ctx.can('get_metadef_namespace', target)) throw resourceNotFound();
  throw policyForbidden(rule);
}

/** MetadefAPIPolicy.check: the soft form. */
export function checkMetadef(ctx: RouteContext, rule: string, ns?: MetadefNamespaceRow): boolean {
  return ctx.can(rule, metadefTarget(ctx, ns));
}

/** The protected-namespace refusal of the domain objects' delete() (glance/domain/__init__.py). */
export function refuseIfProtected(ns: MetadefNamespaceRow, what: string, name: string): void {
  if (ns.protected === 1) {
    throw ImageErrors.forbidden(`Metadata definition ${what} ${name} is protected and cannot be deleted.`);
  }
}

// --- request bodies and queries -------------------------------------------------------------------------------

/** RequestDeserializer._get_request_body and _check_allowed: a body, without read-only attributes. */
export function requestBody(ctx: RouteContext, readOnly: readonly string[]): unknown {
  const body: unknown = ctx.body;
  if (body === undefined) throw ImageErrors.badRequest('Body expected in request.');
  if (typeof body === 'object' && body !== null) {
    for (const key of readOnly) {
      if (Array.isArray(body) ? body.includes(key) : key in body) {
        throw ImageErrors.forbidden(`Attribute '${key}' is read-only.`);
      }
    }
  }
  return body;
}

export const READ_ONLY_WITH_LINKS = ['self', 'schema', 'created_at', 'updated_at'] as const;
export const READ_ONLY_STAMPS = ['created_at', 'updated_at'] as const;

export function sortDir(ctx: RouteContext): 'asc' | 'desc' {
  const dir = queryOne(ctx.query, 'sort_dir') ?? 'desc';
  if (dir !== 'asc' && dir !== 'desc') throw ImageErrors.badRequest(`Invalid sort direction: ${dir}`);
  return dir;
}

/** _get_filters: the visibility filter's values (namespaces allow public and private; the others shared too). */
export function visibilityFilter(ctx: RouteContext, allowed: readonly string[]): string | undefined {
  const v = queryOne(ctx.query, 'visibility');
  if (v && !allowed.includes(v)) throw ImageErrors.badRequest(`Invalid visibility value: ${v}`);
  return v || undefined;
}

/** _validate_limit: an integer, not negative (or, where Glance says so, positive). */
export function parseMetadefLimit(v: string, positive = false): number {
  const n = /^\s*[-+]?\d+\s*$/.test(v) ? Number.parseInt(v, 10) : Number.NaN;
  if (!Number.isInteger(n)) throw ImageErrors.badRequest('limit param must be an integer');
  if (positive ? n <= 0 : n < 0) throw ImageErrors.badRequest('limit param must be positive');
  return n;
}

/** oslo's bool_from_string (strict=False): anything but a true word is false. */
export function truthy(v: string | string[] | undefined): boolean {
  const s = (Array.isArray(v) ? v[v.length - 1] : v)?.trim().toLowerCase();
  return s !== undefined && ['1', 't', 'true', 'on', 'y', 'yes'].includes(s);
}

/** Compares two rows by `key` then created_at then id, as oslo.db's paginate_query orders. */
export function compareBy<T extends { created_at: string; id: string }>(
  key: keyof T,
  dir: 'asc' | 'desc',
): (a: T, b: T) => number {
  const keys: (keyof T)[] = [key, 'created_at', 'id'].filter(
    (k, i, all) => all.indexOf(k) === i,
  ) as (keyof T)[];
  const sign = dir === 'asc' ? 1 : -1;
  return (a, b) => {
    for (const k of keys) {
      const x = a[k] as unknown;
      const y = b[k] as unknown;
      if (x === y) continue;
      if (x === null || x === undefined) return -sign;
      if (y === null || y === undefined) return sign;
      return (x < y ? -1 : 1) * sign;
    }
    return 0;
  };
}

// --- views ----------------------------------------------------------------------------------------------------

/** The attributes of Glance's PropertyType, in its order; others are dropped on the way in and out. */
const PROPERTY_TYPE = [
  'name',
  'type',
  'title',
  'description',
  'operators',
  'default',
  'readonly',
  'minimum',
  'maximum',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'confidential',
  'items',
  'uniqueItems',
  'minItems',
  'maxItems',
  'additionalItems',
] as const;
const INTEGERS = new Set(['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems']);

/** Python's str() of a JSON value: PropertyType keeps `default` as text. */
function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** json.fromjson(PropertyType, …) then tojson: the known attributes, typed as wsme types them. */
export function propertyType(def: unknown): Json {
  const src = def && typeof def === 'object' && !Array.isArray(def) ? (def as Json) : {};
  const out: Json = {};
  for (const key of PROPERTY_TYPE) {
    const v = src[key];
    if (v === undefined) continue;
    if (key === 'default') out[key] = v === null ? null : pyStr(v);
    else if (INTEGERS.has(key) && typeof v === 'number') out[key] = Math.trunc(v);
    else if (key === 'items' && v && typeof v === 'object' && !Array.isArray(v)) {
      const items = v as Json;
      out[key] = {
        ...(items['type'] !== undefined ? { type: items['type'] } : {}),
        ...(items['enum'] !== undefined ? { enum: items['enum'] } : {}),
      };
    } else out[key] = v;
  }
  return out;
}

/** A dict of property definitions (Namespace.properties, MetadefObject.properties). */
export function propertyTypes(defs: unknown): Json {
  const out: Json = {};
  if (defs && typeof defs === 'object' && !Array.isArray(defs)) {
    for (const [name, def] of Object.entries(defs as Json)) out[name] = propertyType(def);
  }
  return out;
}

export function parseJson(text: string | null, fallback: unknown): unknown {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}

const enc = encodeURIComponent;
export const namespaceHref = (name: string) => `/v2/metadefs/namespaces/${name}`;
export const objectHref = (ns: string, name: string) => `/v2/metadefs/namespaces/${ns}/objects/${name}`;
/** The Location of a created namespace, absolute as webob makes it. */
export const namespaceLocation = (ctx: RouteContext, name: string) =>
  `${ctx.baseUrl()}${NS_PATH}/${enc(name)}`;

/** Namespace.to_wsme_model: the attributes that are set (None is left out), then self and schema. */
export function namespaceView(ns: MetadefNamespaceRow): Json {
  const out: Json = { namespace: ns.namespace };
  if (ns.display_name !== null) out['display_name'] = ns.display_name;
  if (ns.description !== null) out['description'] = ns.description;
  out['visibility'] = ns.visibility;
  out['protected'] = ns.protected === 1;
  if (ns.owner !== null) out['owner'] = ns.owner;
  out['created_at'] = ns.created_at;
  out['updated_at'] = ns.updated_at;
  out['self'] = namespaceHref(ns.namespace);
  out['schema'] = '/v2/schemas/metadefs/namespace';
  return out;
}

/** MetadefObject.to_wsme_model of a stored object: required and properties always present. */
export function objectView(nsName: string, o: MetadefObjectRow): Json {
  const out: Json = { name: o.name };
  if (o.description !== null) out['description'] = o.description;
  out['required'] = parseJson(o.required, []) ?? [];
  out['properties'] = propertyTypes(parseJson(o.properties, {}));
  out['created_at'] = o.created_at;
  out['updated_at'] = o.updated_at;
  out['self'] = objectHref(nsName, o.name);
  out['schema'] = '/v2/schemas/metadefs/object';
  return out;
}

export function tagView(t: MetadefTagRow): Json {
  return { name: t.name, created_at: t.created_at, updated_at: t.updated_at };
}

/** ResourceTypeAssociation: name, prefix and target when set, timestamps. */
export function associationView(a: {
  name: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: string;
  updated_at: string;
}): Json {
  const out: Json = { name: a.name };
  if (a.prefix !== null) out['prefix'] = a.prefix;
  if (a.properties_target !== null) out['properties_target'] = a.properties_target;
  out['created_at'] = a.created_at;
  out['updated_at'] = a.updated_at;
  return out;
}

/** The associations of some namespaces, by namespace id, with their resource types' names. */
export async function associationsOf(
  db: MetadefDb | MetadefTrx,
  namespaceIds: readonly string[],
): Promise<Map<string, Json[]>> {
  const out = new Map<string, Json[]>();
  if (namespaceIds.length === 0) return out;
  const rows = await db
    .selectFrom('image_metadef_associations as a')
    .innerJoin('image_metadef_resource_types as t', 't.id', 'a.resource_type_id')
    .select(['a.namespace_id', 't.name', 'a.prefix', 'a.properties_target', 'a.created_at', 'a.updated_at'])
    .where('a.namespace_id', 'in', namespaceIds)
    .orderBy('a.created_at')
    .orderBy('t.name')
    .execute();
  for (const r of rows) {
    const list = out.get(r.namespace_id);
    const view = associationView(r);
    if (list) list.push(view);
    else out.set(r.namespace_id, [view]);
  }
  return out;
}
