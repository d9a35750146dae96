// Helpers the compute resource handlers share: Nova's admin check, strict query parameters (2.75), body
// validation per microversion, integer and uuid parameters, and Nova's naive timestamps.
import { ApiError } from '../../../platform/errors.ts';
import { byVersion } from '../../../platform/http/microversion.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import { badQuery } from './common.ts';

const validator = new SchemaValidator();

/** nova.context's is_admin: the caller passes context_is_admin. */
export function isAdmin(ctx: RouteContext): boolean {
  return ctx.can('context_is_admin', {
    project_id: ctx.auth?.projectId ?? null,
    user_id: ctx.auth?.userId ?? null,
  });
}

/** Validates the body against the schema registered at the highest version not above the request's. */
export function validateBody(ctx: RouteContext, table: Record<string, Record<string, unknown>>): void {
  validator.validate(byVersion(ctx.mv!, table), ctx.body);
}

export function validateSchema(schema: Record<string, unknown>, data: unknown): void {
  validator.validate(schema, data);
}

/** From 2.75 Nova refuses query parameters a list API does not know (additionalProperties false). */
export function strictQuery(ctx: RouteContext, allowed: readonly string[], since = '2.75'): void {
  if (!ctx.mv?.atLeast(since)) return;
  for (const k of Object.keys(ctx.query)) {
    if (!allowed.includes(k)) {
      throw new ApiError(
        400,
        'ValidationError',
        `Invalid input for query parameters ${k}. Value: ${queryOne(ctx.query, k)}. Additional properties are not allowed ('${k}' was unexpected)`,
      );
    }
  }
}

/** A non-negative integer query parameter (Nova's non_negative_integer), or undefined when absent. */
export function queryInt(ctx: RouteContext, name: string): number | undefined {
  const raw = queryOne(ctx.query, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw badQuery(name, raw, `'${raw}' does not match '^[0-9]*$'`);
  return Number(raw);
}

/** oslo's bool_from_string(strict=True): a 400 naming the value when it is not a boolean word. `_field` names
 * the parameter for readers of the call (Nova's message names only the value). */
export function strictBool(raw: unknown, _field?: string): boolean {
  if (typeof raw === 'boolean') return raw;
  const s = String(raw).trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  throw new ApiError(
    400,
    'BadRequest',
    `Unrecognized value '${String(raw)}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`,
  );
}

/** Nova's utils.validate_integer on a path id: "id must be an integer" as a 400. */
export function intId(raw: string, name = 'id'): number {
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new ApiError(400, 'InvalidInput', `Invalid input received: ${name} must be an integer`);
  }
  return Number(raw);
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** oslo's is_uuid_like (dashes optional). */
export function isUuidLike(s: string): boolean {
  return UUID_RE.test(s);
}

/** Nova's naive datetimes as JSON renders them ("2026-11-21T07:00:00.000000"). */
export function naive(iso: string | null | undefined): string | null {
  if (!iso) return null;
  // Stored timestamps are already toISOString()'s form (24 characters, milliseconds, Z): no Date round trip.
  if (iso.length === 24 && iso.charCodeAt(23) === 90 && iso.charCodeAt(19) === 46)
    return `${iso.slice(0, 23)}000`;
  return new Date(iso).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}
