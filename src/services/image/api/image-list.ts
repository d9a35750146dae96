// GET /v2/images: Glance's query parameters (filters with operators, tags, member_status, both sort syntaxes,
// limit/marker) and its visibility rules (api/v2/images.py index, db/sqlalchemy/api.py image_get_all).
import type { RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import { imageTarget } from '../policy.ts';
import type { ImageRow } from '../store/tables.ts';
import { type Caller, callerOf, findImage, policyForbidden, resourceNotFound, tagsOf } from './images.ts';
import { imageView, parseProps } from './views.ts';

type Dir = 'asc' | 'desc';
type Predicate = (row: ImageRow, props: Record<string, unknown>) => boolean;

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

function columnValue(row: ImageRow, key: string): string | number | null {
  const v = (row as unknown as Record<string, unknown>)[key];
  if (v === null || v === undefined) return null;
  return NUMERIC.has(key) ? Number(v) : String(v);
}

function compareOp(op: string, a: number, b: number): boolean {
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'neq':
      return a !== b;
    case 'eq':
      return a === b;
    default:
      throw ImageErrors.badRequest('Unable to filter on a unknown operator.');
  }
}

/** The filter predicates of the remaining query parameters (_make_conditions_from_filters). */
function buildFilters(filters: Map<string, string>): Predicate[] {
  const preds: Predicate[] = [];
  const osHidden = (filters.get('os_hidden') ?? 'false').toLowerCase();
  if (osHidden !== 'true' && osHidden !== 'false') {
    throw ImageErrors.badRequest(
      `Invalid value '${osHidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`,
    );
  }
  preds.push((r) => (r.os_hidden === 1) === (osHidden === 'true'));
  const prot = filters.get('protected');
  if (prot !== undefined) {
    if (prot !== 'true' && prot !== 'false') {
      throw ImageErrors.badRequest(
        `Invalid value '${prot}' for 'protected' filter. Valid values are 'true' or 'false'.`,
      );
    }
    preds.push((r) => (r.protected === 1) === (prot === 'true'));
  }
  for (const [key, value] of filters) {
    if (key === 'os_hidden' || key === 'protected' || key === 'deleted') continue;
    const rangeKey = key.slice(0, -4);
    if ((key.endsWith('_min') || key.endsWith('_max')) && RANGE_COLUMNS.includes(rangeKey)) {
      if (!/^\s*[+-]?\d+\s*$/.test(value)) {
        throw ImageErrors.badRequest('Unable to filter on a range with a non-numeric value.');
      }
      const n = Number(value);
      const min = key.endsWith('_min');
      preds.push((r) => {
        const v = columnValue(r, rangeKey);
        return v !== null && (min ? (v as number) >= n : (v as number) <= n);
      });
    } else if (key === 'created_at' || key === 'updated_at') {
      const [op, iso] = splitFilterOp(value);
      const threshold = parseIsoTime(iso);
      if (threshold === undefined) {
        throw ImageErrors.badRequest(`Bad "${key}" query filter format. Use ISO 8601 DateTime notation.`);
      }
      compareOp(op, 0, 0);
      preds.push((r) => compareOp(op, Date.parse(r[key]), threshold));
    } else if (OP_COLUMNS.includes(key)) {
      const [op, list] = splitFilterOp(value);
      if (op === 'in') {
        const wanted = new Set(splitFilterValues(list));
        preds.push((r) => {
          const v = columnValue(r, key);
          return v !== null && wanted.has(String(v));
        });
      } else if (op === 'eq') {
        preds.push((r) => columnValue(r, key) === list);
      } else {
        throw ImageErrors.badRequest(`Unable to filter by unknown operator '${op}'.`);
      }
    } else if (EQ_COLUMNS.includes(key)) {
      preds.push((r) => {
        const v = columnValue(r, key);
        return v !== null && (NUMERIC.has(key) ? value.trim() !== '' && v === Number(value) : v === value);
      });
    } else {
      preds.push((_r, props) => props[key] === value);
    }
  }
  return preds;
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
  return columnValue(row, key) ?? (NUMERIC.has(key) ? 0 : '');
}

function comparator(sort: Sort): (a: ImageRow, b: ImageRow) => number {
  return (a, b) => {
    for (let i = 0; i < sort.keys.length; i++) {
      const key = sort.keys[i] ?? 'id';
      const va = sortValue(a, key);
      const vb = sortValue(b, key);
      if (va === vb) continue;
      const c = va < vb ? -1 : 1;
      return sort.dirs[i] === 'desc' ? -c : c;
    }
    return 0;
  };
}

/** The candidate images a caller may list (_select_images_query plus the visibility / community rules). */
async function visibleRows(
  ix: ImageContext,
  caller: Caller,
  visibility: string | undefined,
  memberStatus: string,
  tags: string[],
): Promise<ImageRow[]> {
  const project = caller.projectId;
  let q = ix.db
    .selectFrom('image_images')
    .selectAll()
    .where('deleted', '=', 0)
    .where('status', '!=', 'killed');
  if (!caller.isAdmin) {
    q = q.where((eb) => {
      const ors = [eb('visibility', 'in', ['public', 'community'])];
      if (project !== undefined) {
        let members = eb
          .selectFrom('image_members')
          .select('image_members.image_id')
          .whereRef('image_members.image_id', '=', 'image_images.id')
          .where('image_members.member_id', '=', project);
        if (memberStatus !== 'all') {
          members = members.where(
            'image_members.status',
            '=',
            memberStatus as 'pending' | 'accepted' | 'rejected',
          );
        }
        ors.push(eb('owner', '=', project));
        ors.push(eb.and([eb('visibility', '=', 'shared'), eb.exists(members)]));
      }
      return eb.or(ors);
    });
  }
  if (visibility !== undefined) {
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
  return q.execute();
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
  const preds = buildFilters(filters);

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

  const rows = (await visibleRows(ix, caller, visibility, memberStatus, tags)).filter((r) => {
    const props = parseProps(r.properties);
    return preds.every((p) => p(r, props));
  });
  const cmp = comparator(sort);
  rows.sort(cmp);
  const after = markerRow ? rows.filter((r) => cmp(r, markerRow) > 0) : rows;
  const pageRows = after.slice(0, limit);
  const shown = pageRows.filter((r) => ctx.can('get_image', imageTarget(r, ctx)));
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
  if (last && pageRows.length === limit) {
    body['next'] = `/v2/images?${new URLSearchParams([...kept, ['marker', last.id]]).toString()}`;
  }
  return { body };
}
