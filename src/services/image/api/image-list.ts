// GET /v2/images: Glance's query parameters (filters with operators, tags, member_status, both sort syntaxes,
// limit/marker) and its visibility rules (api/v2/images.py index, db/sqlalchemy/api.py image_get_all).
// One SQL query reads the page: visibility and filters as conditions, the sort keys (NULL as '' or 0, strings in
// byte order) with id last, and the marker as a keyset bound on them, LIMIT `limit`. On migration 0003's indexes
// an admin's page reads about `limit` rows; a project's reads only the images it may see (public, its own,
// shared with it), found through the owner, visibility and member indexes.
import { PostgresAdapter, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import { imageTarget } from '../policy.ts';
import type { ImageRow } from '../store/tables.ts';
import { type Caller, callerOf, findImage, policyForbidden, resourceNotFound, tagsOf } from './images.ts';
import { imageView } from './views.ts';

type Dir = 'asc' | 'desc';

const SORT_KEYS = [
  'name',
  'status',
  'container_format',
  'disk_format',
  'size',
  'id',
  'created_at',
  'updated_at',
];
const MEMBER_STATUSES = ['pending', 'accepted', 'rejected', 'all'];
const VISIBILITY_FILTERS = ['community', 'public', 'private', 'shared', 'all'];
/** Columns compared for equality when named as a filter; anything else is a custom property. */
const EQ_COLUMNS = [
  'owner',
  'size',
  'virtual_size',
  'min_disk',
  'min_ram',
  'os_hash_algo',
  'checksum',
  'os_hash_value',
];
const NUMERIC = new Set(['size', 'virtual_size', 'min_disk', 'min_ram']);
const OP_COLUMNS = ['name', 'id', 'status', 'container_format', 'disk_format'];
const RANGE_COLUMNS = ['size', 'virtual_size', 'min_disk', 'min_ram'];

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** oslo's parse_isotime + normalize_time: milliseconds since the epoch (no zone means UTC), or undefined. */
export function parseIsoTime(s: string): number | undefined {
  const m = ISO.exec(s.trim());
  if (!m) return undefined;
  let zone = m[8] ?? 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const text = `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ?? ''}${zone.toUpperCase()}`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** utils.split_filter_op: "op:value", or equality; a whole ISO timestamp is a value, colons and all. */
export function splitFilterOp(expression: string): [string, string] {
  const i = expression.indexOf(':');
  if (i < 0) return ['eq', expression];
  if (parseIsoTime(expression) !== undefined) return ['eq', expression];
  return [expression.slice(0, i), expression.slice(i + 1)];
}

/** utils.validate_quotes + split_filter_value_for_quotes: the values of an "in:" list (api-wg quoting). */
export function splitFilterValues(value: string): string[] {
  let open = true;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '"') continue;
    if (i > 0 && value[i - 1] === '\\') continue;
    if (open) {
      if (i > 0 && value[i - 1] !== ',') {
        throw ImageErrors.badRequest(
          `Invalid filter value ${value}. There is no comma before opening quotation mark.`,
        );
      }
    } else if (i + 1 !== value.length && value[i + 1] !== ',') {
      throw ImageErrors.badRequest(
        `Invalid filter value ${value}. There is no comma after closing quotation mark.`,
      );
    }
    open = !open;
  }
  if (!open) throw ImageErrors.badRequest(`Invalid filter value ${value}. The quote is not closed.`);
  const out: string[] = [];
  for (const m of value.matchAll(/"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,/g)) out.push(m[1] || m[2] || '');
  return out;
}

/** Which SQL the list query speaks: PostgreSQL needs explicit parameter types and byte-order ("C") collation. */
interface Dialect {
  pg: boolean;
}

type Cond = RawBuilder<SqlBool>;

const NEVER: Cond = sql<SqlBool>`1 = 0`;
const col = (key: string) => sql.ref(`image_images.${key}`);

/** A bound integer parameter (PostgreSQL reads untyped parameters as the column's type, int4 overflows). */
function intParam(d: Dialect, n: number): RawBuilder<unknown> {
  return d.pg ? sql`cast(${n} as bigint)` : sql`${n}`;
}

function textParam(d: Dialect, s: string): RawBuilder<unknown> {
  return d.pg ? sql`cast(${s} as text)` : sql`${s}`;
}

/** An integer query value as JS compares it, clamped to what both dialects bind (sizes never reach 2^53). */
function clampInt(n: number): number {
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
}

/** Timestamps are stored as "YYYY-MM-DDTHH:MM:SSZ" (ImageContext.nowIso): strings that sort as the times do. */
const MAX_TIME = Date.parse('9999-12-31T23:59:59Z');
function storedTime(ms: number): string {
  if (ms > MAX_TIME) return '9999-12-31T23:59:60Z'; // above every stored value
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `stored <op> threshold` for whole-second stored times and a threshold in milliseconds, as a comparison of the
 * stored strings with whole-second bounds (so the column's index applies).
 */
function timeCondition(d: Dialect, key: string, op: string, threshold: number): Cond {
  const c = col(key);
  const floor = Math.floor(threshold / 1000) * 1000;
  const whole = floor === threshold;
  const ceil = whole ? threshold : floor + 1000;
  const at = (ms: number) => textParam(d, storedTime(ms));
  switch (op) {
    case 'gt':
      return sql<SqlBool>`${c} >= ${at(floor + 1000)}`;
    case 'gte':
      return sql<SqlBool>`${c} >= ${at(ceil)}`;
    case 'lt':
      return sql<SqlBool>`${c} < ${at(ceil)}`;
    case 'lte':
      return sql<SqlBool>`${c} < ${at(floor + 1000)}`;
    case 'eq':
      return whole ? sql<SqlBool>`${c} = ${at(threshold)}` : NEVER;
    case 'neq':
      return whole ? sql<SqlBool>`${c} <> ${at(threshold)}` : sql<SqlBool>`1 = 1`;
    default:
      throw ImageErrors.badRequest('Unable to filter on a unknown operator.');
  }
}

/** A custom property equal to the string `value` (properties are a JSON object in text). */
function propertyCondition(d: Dialect, key: string, value: string): Cond {
  if (d.pg) {
    return sql<SqlBool>`cast(${col('properties')} as jsonb) -> ${textParam(d, key)} = to_jsonb(${textParam(d, value)})`;
  }
  return sql<SqlBool>`exists (select 1 from json_each(${col('properties')}) as p where p.key = ${key} and p.type = 'text' and p.value = ${value})`;
}

/** The SQL conditions of the remaining query parameters (_make_conditions_from_filters). */
function buildFilters(d: Dialect, filters: Map<string, string>): Cond[] {
  const conds: Cond[] = [];
  const osHidden = (filters.get('os_hidden') ?? 'false').toLowerCase();
  if (osHidden !== 'true' && osHidden !== 'false') {
    throw ImageErrors.badRequest(
      `Invalid value '${osHidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`,
    );
  }
  conds.push(osHidden === 'true' ? sql`${col('os_hidden')} = 1` : sql`${col('os_hidden')} <> 1`);
  const prot = filters.get('protected');
  if (prot !== undefined) {
    if (prot !== 'true' && prot !== 'false') {
      throw ImageErrors.badRequest(
        `Invalid value '${prot}' for 'protected' filter. Valid values are 'true' or 'false'.`,
      );
    }
    conds.push(prot === 'true' ? sql`${col('protected')} = 1` : sql`${col('protected')} <> 1`);
  }
  for (const [key, value] of filters) {
    if (key === 'os_hidden' || key === 'protected' || key === 'deleted') continue;
    const rangeKey = key.slice(0, -4);
    if ((key.endsWith('_min') || key.endsWith('_max')) && RANGE_COLUMNS.includes(rangeKey)) {
      if (!/^\s*[+-]?\d+\s*$/.test(value)) {
        throw ImageErrors.badRequest('Unable to filter on a range with a non-numeric value.');
      }
      const n = intParam(d, clampInt(Number(value)));
      conds.push(key.endsWith('_min') ? sql`${col(rangeKey)} >= ${n}` : sql`${col(rangeKey)} <= ${n}`);
    } else if (key === 'created_at' || key === 'updated_at') {
      const [op, iso] = splitFilterOp(value);
      const threshold = parseIsoTime(iso);
      if (threshold === undefined) {
        throw ImageErrors.badRequest(`Bad "${key}" query filter format. Use ISO 8601 DateTime notation.`);
      }
      conds.push(timeCondition(d, key, op, threshold));
    } else if (OP_COLUMNS.includes(key)) {
      const [op, list] = splitFilterOp(value);
      if (op === 'in') {
        const wanted = [...new Set(splitFilterValues(list))];
        conds.push(
          wanted.length === 0 ? NEVER : sql`${col(key)} in (${sql.join(wanted.map((w) => textParam(d, w)))})`,
        );
      } else if (op === 'eq') {
        conds.push(sql`${col(key)} = ${textParam(d, list)}`);
      } else {
        throw ImageErrors.badRequest(`Unable to filter by unknown operator '${op}'.`);
      }
    } else if (EQ_COLUMNS.includes(key)) {
      if (NUMERIC.has(key)) {
        // JS semantics: Number(value) of a non-blank value, compared exactly (so "0x10" is 16, "1.5" matches nothing).
        const n = Number(value);
        conds.push(
          value.trim() !== '' && Number.isSafeInteger(n) ? sql`${col(key)} = ${intParam(d, n)}` : NEVER,
        );
      } else {
        conds.push(sql`${col(key)} = ${textParam(d, value)}`);
      }
    } else {
      conds.push(propertyCondition(d, key, value));
    }
  }
  return conds;
}
interface Sort {
  keys: string[];
  dirs: Dir[];
}

function sortKey(key: string): string {
  if (!SORT_KEYS.includes(key)) {
    throw ImageErrors.badRequest(
      `Invalid sort key: ${key}. It must be one of the following: ${SORT_KEYS.join(', ')}.`,
    );
  }
  return key;
}

function sortDir(dir: string): Dir {
  if (dir !== 'asc' && dir !== 'desc') throw ImageErrors.badRequest(`Invalid sort direction: ${dir}`);
  return dir;
}

/** _get_sorting_params, then image_get_all's tie-breakers (created_at and id in the default direction). */
function parseSort(params: [string, string][]): Sort {
  const keys: string[] = [];
  let dirs: Dir[] = [];
  const sort = params.filter(([k]) => k === 'sort');
  const classicKeys = params.filter(([k]) => k === 'sort_key').map(([, v]) => v);
  const classicDirs = params.filter(([k]) => k === 'sort_dir').map(([, v]) => v);
  if (sort.length > 0) {
    if (classicKeys.length > 0 || classicDirs.length > 0) {
      throw ImageErrors.badRequest('Old and new sorting syntax cannot be combined');
    }
    for (const part of (sort[0]?.[1] ?? '').trim().split(',')) {
      const i = part.indexOf(':');
      const key = i < 0 ? part : part.slice(0, i);
      const dir = i < 0 || part.slice(i + 1) === '' ? 'desc' : part.slice(i + 1);
      keys.push(sortKey(key.trim()));
      dirs.push(sortDir(dir.trim()));
    }
  } else {
    for (const k of classicKeys) keys.push(sortKey(k.trim()));
    for (const d of classicDirs) dirs.push(sortDir(d.trim()));
    if (dirs.length > 1 && dirs.length !== keys.length) {
      throw ImageErrors.badRequest('Number of sort dirs does not match the number of sort keys');
    }
  }
  if (keys.length === 0) keys.push('created_at');
  if (dirs.length === 0) dirs.push('desc');
  let fallback: Dir = 'desc';
  if (dirs.length === 1) {
    fallback = dirs[0] ?? 'desc';
    dirs = keys.map(() => fallback);
  }
  for (const key of ['created_at', 'id']) {
    if (!keys.includes(key)) {
      keys.push(key);
      dirs.push(fallback);
    }
  }
  return { keys, dirs };
}

/** Sort values with NULL as the column default ('' or 0), as Glance's marker comparison reads them. */
function sortValue(row: ImageRow, key: string): string | number {
  const v = (row as unknown as Record<string, unknown>)[key];
  if (v === null || v === undefined) return NUMERIC.has(key) ? 0 : '';
  return NUMERIC.has(key) ? Number(v) : String(v);
}

/**
 * The SQL of a sort key with NULL as its column default; strings in byte order (SQLite's BINARY, PostgreSQL's
 * "C"), as JavaScript compares them. The expressions match migration 0003's indexes.
 */
function sortExpr(d: Dialect, key: string): RawBuilder<unknown> {
  const c = col(key);
  if (NUMERIC.has(key)) return sql`coalesce(${c}, 0)`;
  const e =
    key === 'id' || key === 'status' || key === 'created_at' || key === 'updated_at'
      ? c
      : sql`coalesce(${c}, '')`;
  return d.pg ? sql`${e} collate "C"` : e;
}

/** id is unique: keys after it never decide an order. */
function effectiveSort(sort: Sort): Sort {
  const i = sort.keys.indexOf('id');
  return i < 0 ? sort : { keys: sort.keys.slice(0, i + 1), dirs: sort.dirs.slice(0, i + 1) };
}

/** Rows strictly after the marker in the sort order (keyset pagination on the sort keys, id last). */
function afterMarker(d: Dialect, sort: Sort, marker: ImageRow): Cond {
  const exprs = sort.keys.map((k) => sortExpr(d, k));
  const values = sort.keys.map((k) => {
    const v = sortValue(marker, k);
    return typeof v === 'number' ? intParam(d, v) : textParam(d, v);
  });
  const dir = sort.dirs[0];
  if (sort.dirs.every((x) => x === dir)) {
    // One direction: a row-value comparison, which both dialects turn into an index range.
    const op = sql.raw(dir === 'desc' ? '<' : '>');
    // The first key's bound, implied by the comparison, lets SQLite range-scan an expression index too.
    const bound = sql.raw(dir === 'desc' ? '<=' : '>=');
    return sql<SqlBool>`(${sql.join(exprs)}) ${op} (${sql.join(values)}) and ${exprs[0]} ${bound} ${values[0]}`;
  }
  // Mixed directions: k1 beyond m1, or k1 = m1 and (k2 beyond m2, or …).
  let cond: Cond | undefined;
  for (let i = sort.keys.length - 1; i >= 0; i--) {
    const op = sql.raw(sort.dirs[i] === 'desc' ? '<' : '>');
    const beyond = sql<SqlBool>`${exprs[i]} ${op} ${values[i]}`;
    cond = cond ? sql<SqlBool>`(${beyond} or (${exprs[i]} = ${values[i]} and ${cond}))` : beyond;
  }
  return cond ?? sql<SqlBool>`1 = 1`;
}

/**
 * One page of the images a caller may list (_select_images_query plus the visibility / community rules, the
 * filters, the sort and the marker), read in SQL: `limit` rows, in order.
 */
async function pageRows(
  ix: ImageContext,
  caller: Caller,
  q0: {
    visibility: string | undefined;
    memberStatus: string;
    tags: string[];
    conds: Cond[];
    sort: Sort;
    marker: ImageRow | undefined;
    limit: number;
  },
  d: Dialect,
): Promise<ImageRow[]> {
  const { visibility, memberStatus, tags } = q0;
  const project = caller.projectId;
  let q = ix.db
    .selectFrom('image_images')
    .selectAll()
    .where('deleted', '=', 0)
    .where('status', '!=', 'killed');
  if (!caller.isAdmin) {
    // Public (and community, when a visibility filter asks), owned, or shared with the caller's project. Without
    // a filter, others' community images are left out: the same rule, folded into one condition.
    q = q.where((eb) => {
      const ors = [
        visibility === undefined
          ? eb('visibility', '=', 'public')
          : eb('visibility', 'in', ['public', 'community']),
      ];
      if (project !== undefined) {
        let members = eb
          .selectFrom('image_members')
          .select('image_members.image_id')
          .where('image_members.member_id', '=', project);
        if (memberStatus !== 'all') {
          members = members.where(
            'image_members.status',
            '=',
            memberStatus as 'pending' | 'accepted' | 'rejected',
          );
        }
        ors.push(eb('owner', '=', project));
        // Found through the caller's memberships, not by scanning every shared image (SQLite's unary + keeps
        // the visibility index out of this branch).
        const shared = d.pg
          ? eb('visibility', '=', 'shared')
          : sql<SqlBool>`+${col('visibility')} = 'shared'`;
        ors.push(eb.and([shared, eb('id', 'in', members)]));
      }
      return eb.or(ors);
    });
    if (visibility !== undefined && visibility !== 'all') {
      q = q.where('visibility', '=', visibility as ImageRow['visibility']);
    }
  } else if (visibility !== undefined) {
    if (visibility !== 'all') q = q.where('visibility', '=', visibility as ImageRow['visibility']);
  } else if (project === undefined) {
    q = q.where('visibility', '!=', 'community');
  } else {
    q = q.where((eb) => eb.or([eb('owner', '=', project), eb('visibility', '!=', 'community')]));
  }
  for (const tag of tags) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('image_tags')
          .select('image_tags.image_id')
          .whereRef('image_tags.image_id', '=', 'image_images.id')
          .where('image_tags.value', '=', tag),
      ),
    );
  }
  for (const c of q0.conds) q = q.where(c);
  const sort = effectiveSort(q0.sort);
  if (q0.marker) q = q.where(afterMarker(d, sort, q0.marker));
  for (let i = 0; i < sort.keys.length; i++) {
    q = q.orderBy(sortExpr(d, sort.keys[i] ?? 'id'), sort.dirs[i] ?? 'desc');
  }
  return q.limit(q0.limit).execute();
}

/** The database's dialect, from the query compiler's adapter. */
function dialectOf(ix: ImageContext): Dialect {
  return { pg: ix.db.getExecutor().adapter instanceof PostgresAdapter };
}

/** The raw query string's pairs in order (a repeated key keeps every value, as WebOb's MultiDict). */
function queryPairs(ctx: RouteContext): [string, string][] {
  const url = ctx.request.url;
  const i = url.indexOf('?');
  return i < 0 ? [] : [...new URLSearchParams(url.slice(i + 1)).entries()];
}

export async function listImages(ix: ImageContext, ctx: RouteContext) {
  const auth = ctx.requireAuth();
  // Glance routes /v2/images only; /v2/images/ names an image with an empty id.
  if ((ctx.request.url.split('?', 1)[0] ?? '').endsWith('/')) throw resourceNotFound();
  const caller = callerOf(ctx);
  const params = queryPairs(ctx);
  const first = (key: string) => params.find(([k]) => k === key)?.[1];

  let limit = ix.config.limit_param_default;
  const limitParam = first('limit');
  if (limitParam !== undefined) {
    if (!/^\s*[+-]?\d+\s*$/.test(limitParam)) throw ImageErrors.badRequest('limit param must be an integer');
    limit = Number(limitParam);
    if (limit < 0) throw ImageErrors.badRequest('limit param must be positive');
  }
  limit = Math.min(ix.config.api_limit_max, limit);
  const marker = first('marker');
  const memberStatus = first('member_status') ?? 'accepted';
  if (!MEMBER_STATUSES.includes(memberStatus))
    throw ImageErrors.badRequest(`Invalid status: ${memberStatus}`);
  const tags = params.filter(([k]) => k === 'tag').map(([, v]) => v.trim());
  const sort = parseSort(params);

  const consumed = new Set(['limit', 'marker', 'member_status', 'tag', 'sort', 'sort_key', 'sort_dir']);
  const filters = new Map<string, string>();
  for (const [k, v] of params) if (!consumed.has(k)) filters.set(k, v);
  const visibility = filters.get('visibility');
  filters.delete('visibility');
  if (visibility && !VISIBILITY_FILTERS.includes(visibility)) {
    throw ImageErrors.badRequest(`Invalid visibility value: ${visibility}`);
  }
  if (filters.get('changes-since')) {
    throw ImageErrors.badRequest('The "changes-since" filter is no longer available on v2.');
  }
  filters.delete('changes-since');
  const d = dialectOf(ix);
  const conds = buildFilters(d, filters);

  if (!ctx.can('get_images', { project_id: auth.projectId ?? null })) throw policyForbidden('get_images');

  let markerRow: ImageRow | undefined;
  if (marker !== undefined) {
    const exists = await ix.db
      .selectFrom('image_images')
      .selectAll()
      .where('id', '=', marker)
      .executeTakeFirst();
    if (!exists || (exists.deleted !== 0 && !caller.isAdmin))
      throw ImageErrors.badRequest(`No image found with ID ${marker}`);
    markerRow = exists.deleted !== 0 ? exists : await findImage(ix.db, marker, caller);
    if (!markerRow) throw ImageErrors.forbidden(`Forbidding request, image ${marker} not visible`);
  }

  const rows = await pageRows(
    ix,
    caller,
    { visibility, memberStatus, tags, conds, sort, marker: markerRow, limit },
    d,
  );
  const shown = rows.filter((r) => ctx.can('get_image', imageTarget(r, ctx)));
  const tagMap = await tagsOf(
    ix.db,
    shown.map((r) => r.id),
  );

  const kept = params.filter(([k]) => k !== 'marker');
  const query = new URLSearchParams(kept).toString();
  const body: Record<string, unknown> = {
    images: shown.map((r) => imageView(r, tagMap.get(r.id) ?? [])),
    first: query ? `/v2/images?${query}` : '/v2/images',
    schema: '/v2/schemas/images',
  };
  // As Glance: a full page (before the per-image policy filter) always offers a next page.
  const last = shown[shown.length - 1];
  if (last && rows.length === limit) {
    body['next'] = `/v2/images?${new URLSearchParams([...kept, ['marker', last.id]]).toString()}`;
  }
  return { body };
}
