// Helpers every Placement handler shares: policy with Placement's 403, microversion gates, JSON body and
// query-string validation with Placement's messages, cache headers (1.15), and provider lookups.
import { isApiError } from '../../../platform/errors.ts';
import type { Microversion } from '../../../platform/http/microversion.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import type { PlacementDb, PlacementTrx } from '../context.ts';
import { PlacementErrors } from '../errors.ts';
import type { ProviderRow } from '../store/tables.ts';

export const PREFIX = '/placement';
const validator = new SchemaValidator();

export function mvOf(ctx: RouteContext): Microversion {
  return ctx.mv!;
}

/** Placement's context.can(): the default target is the caller's own project and user. */
export function authorize(ctx: RouteContext, rule: string, target?: Record<string, unknown>): void {
  const auth = ctx.requireAuth();
  const t = target ?? { project_id: auth.projectId ?? null, user_id: auth.userId };
  ctx.authorize(rule, t);
}

/** A handler that exists only from `min` on answers 404 (or `status`) below it, as version_handler. */
export function requireVersion(ctx: RouteContext, min: string, status: 404 | 405 = 404): void {
  if (mvOf(ctx).atLeast(min)) return;
  if (status === 405) throw PlacementErrors.methodNotAllowed();
  throw PlacementErrors.notFound();
}

/** require_content('application/json'). */
export function requireJson(ctx: RouteContext): void {
  const ct = String(ctx.headers['content-type'] ?? '')
    .split(';', 1)[0]!
    .trim()
    .toLowerCase();
  if (ct !== 'application/json') throw PlacementErrors.unsupportedMediaType(ct === '' ? 'None' : ct);
}

/** extract_json(): the body must validate against `schema` ("JSON does not validate: …"). */
// biome-ignore lint/suspicious/noExplicitAny: callers read the validated shape.
export function extractJson(ctx: RouteContext, schema: Record<string, unknown>): any {
  return validateJson(ctx.body, schema);
}

/** extract_json() on a body already parsed (the local path hands objects, not bytes). */
// biome-ignore lint/suspicious/noExplicitAny: callers read the validated shape.
export function validateJson(body: unknown, schema: Record<string, unknown>): any {
  if (body === undefined)
    throw PlacementErrors.badRequest('Malformed JSON: Expecting value: line 1 column 1 (char 0)');
  try {
    validator.validate(schema, body);
  } catch (err) {
    if (isApiError(err)) throw PlacementErrors.badRequest(`JSON does not validate: ${err.message}`);
    throw err;
  }
  return body;
}

/** What the query helpers read: a route's context, or a query map built in-process (the local path). */
export type QuerySource = Pick<RouteContext, 'query'>;

/** The last value of a query parameter, as webob's req.GET[key]. */
export function q(ctx: QuerySource, key: string): string | undefined {
  const v = ctx.query[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** Every value of a query parameter, in order. */
export function qAll(ctx: QuerySource, key: string): string[] {
  const v = ctx.query[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** validate_query_params() for the common case: only known keys (or keys matching `patterns`). */
export function checkQueryKeys(
  ctx: QuerySource,
  keys: readonly string[],
  patterns: readonly RegExp[] = [],
): void {
  for (const k of Object.keys(ctx.query)) {
    if (keys.includes(k) || patterns.some((p) => p.test(k))) continue;
    throw PlacementErrors.badRequest(
      `Invalid query string parameters: Additional properties are not allowed ('${k}' was unexpected)`,
    );
  }
}

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/** oslo's is_uuid_like: 32 hex digits with or without dashes. */
export function isUuidLike(s: string): boolean {
  return UUID_RE.test(s.trim().replace(/^\{|\}$/g, ''));
}

/** The canonical dashed lower-case form of a UUID-like string. */
export function normalizeUuid(s: string): string {
  const hex = s.replace(/[{}-]/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Last-Modified and Cache-Control: no-cache on GET responses from 1.15 on. */
export function cacheHeaders(ctx: RouteContext, lastModified?: string | null): Record<string, string> {
  if (!mvOf(ctx).atLeast('1.15')) return {};
  const when = lastModified ? new Date(lastModified) : new Date();
  return { 'cache-control': 'no-cache', 'last-modified': when.toUTCString() };
}

/** The latest of some timestamps (pick_last_modified). */
export function latest(stamps: Iterable<string | null | undefined>): string | undefined {
  let best: string | undefined;
  for (const s of stamps) if (s && (!best || s > best)) best = s;
  return best;
}

export function providerUrl(uuid: string): string {
  return `${PREFIX}/resource_providers/${uuid}`;
}

export async function findProvider(
  db: PlacementDb | PlacementTrx,
  uuid: string,
): Promise<ProviderRow | undefined> {
  const row = await db
    .selectFrom('placement_resource_providers')
    .selectAll()
    .where('uuid', '=', uuid)
    .executeTakeFirst();
  return row ? { ...row, generation: Number(row.generation) } : undefined;
}

/** The provider, or the 404 the containing application gives for a NotFound. */
export async function getProvider(
  db: PlacementDb | PlacementTrx,
  uuid: string,
  message?: string,
): Promise<ProviderRow> {
  const row = await findProvider(db, uuid);
  if (!row) throw PlacementErrors.notFound(message ?? `No resource provider with uuid ${uuid} found`);
  return row;
}

/** Bumps a provider's generation if it is still `expected`; false when another writer got there first. */
export async function casGeneration(
  trx: PlacementTrx,
  uuid: string,
  expected: number,
  now: string,
): Promise<boolean> {
  const res = await trx
    .updateTable('placement_resource_providers')
    .set({ generation: expected + 1, updated_at: now })
    .where('uuid', '=', uuid)
    .where('generation', '=', expected)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
