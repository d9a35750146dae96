// GET /servers and /servers/detail: Nova's filters (name regex, status, image, flavor, ip, changes-since/before,
// tags, locked, all_tenants/project_id for admins), sort keys, limit/marker and links, in SQL where it can.
import { type ExpressionBuilder, sql } from 'kysely';
import { ApiError } from '../../../platform/errors.ts';
import { queryAll, queryOne } from '../../../platform/http/pagination.ts';
import type { RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { statesForStatus } from '../domain/server-states.ts';
import { type HostInfoCache, loadExtras, type Server } from '../store/servers.ts';
import type { ComputeTables } from '../store/tables.ts';
import { badQuery, limitAndMarker, nextLinks, parseJson } from './common.ts';
import { type ServerViewRow, serverSummary, serverView, VIEW_COLUMNS } from './servers.view.ts';

const SORT_KEYS = new Set([
  'access_ip_v4',
  'access_ip_v6',
  'availability_zone',
  'config_drive',
  'created_at',
  'display_description',
  'display_name',
  'host',
  'hostname',
  'image_ref',
  'instance_type_id',
  'kernel_id',
  'key_name',
  'launch_index',
  'launched_at',
  'locked',
  'locked_by',
  'node',
  'power_state',
  'progress',
  'project_id',
  'ramdisk_id',
  'root_device_name',
  'task_state',
  'terminated_at',
  'updated_at',
  'user_id',
  'uuid',
  'vm_state',
]);
const ADMIN_ONLY_SORT = new Set(['host', 'node']);
const COLUMN: Record<string, string> = {
  display_name: 'name',
  display_description: 'description',
  image_ref: 'image_id',
  instance_type_id: 'flavor_id',
  uuid: 'id',
  kernel_id: 'id',
  ramdisk_id: 'id',
  root_device_name: 'id',
};

/** What a list reads of each server: what its view shows, and the zone its extras need. */
const LIST_COLUMNS = [...VIEW_COLUMNS, 'availability_zone'] as const;
type ListRow = ServerViewRow & Pick<Server, 'availability_zone'>;

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/** An ISO 8601 time as Nova's query schema accepts it (anything else is a 400). */
function parseTime(name: string, v: string): string {
  const t = ISO.test(v.trim()) ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`) : Number.NaN;
  if (Number.isNaN(t)) throw badQuery(name, v, `'${v}' is not a 'date-time'`);
  return new Date(t).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export async function listServers(
  cx: ComputeContext,
  hosts: HostInfoCache,
  ctx: RouteContext,
  detail: boolean,
): Promise<RouteResult> {
  const auth = ctx.requireAuth();
  const mv = ctx.mv!;
  const projectId = auth.projectId ?? '';
  ctx.authorize(detail ? 'os_compute_api:servers:detail' : 'os_compute_api:servers:index', {
    project_id: projectId,
  });
  const q = ctx.query;
  const { limit, marker } = limitAndMarker(ctx, cx.config.max_limit);
  const allTenantsRaw = queryOne(q, 'all_tenants');
  const allTenants =
    allTenantsRaw !== undefined && !['false', '0', 'no', 'off'].includes(allTenantsRaw.toLowerCase());
  const isAdmin = ctx.can('os_compute_api:servers:allow_all_filters', { project_id: projectId });
  if (allTenants)
    ctx.authorize(
      detail
        ? 'os_compute_api:servers:detail:get_all_tenants'
        : 'os_compute_api:servers:index:get_all_tenants',
      { project_id: projectId },
    );

  let query = cx.db.selectFrom('compute_servers').select(LIST_COLUMNS);
  const tenant = queryOne(q, 'project_id') ?? queryOne(q, 'tenant_id');
  if (!allTenants) query = query.where('project_id', '=', projectId);
  else if (tenant && isAdmin) query = query.where('project_id', '=', tenant);

  const changesSince = queryOne(q, 'changes-since');
  const changesBefore = mv.atLeast('2.66') ? queryOne(q, 'changes-before') : undefined;
  const deletedRaw = isAdmin ? queryOne(q, 'deleted') : undefined;
  const showDeleted = deletedRaw !== undefined && ['true', '1', 'yes'].includes(deletedRaw.toLowerCase());
  if (changesSince !== undefined)
    query = query.where('updated_at', '>=', parseTime('changes-since', changesSince));
  if (changesBefore !== undefined)
    query = query.where('updated_at', '<=', parseTime('changes-before', changesBefore));
  if (changesSince === undefined && changesBefore === undefined)
    query = query.where('deleted', '=', showDeleted ? 1 : 0);

  const statuses = queryAll(q, 'status');
  if (statuses.length > 0) {
    const { vmStates, taskStates } = statesForStatus(statuses);
    if (vmStates.length === 0) {
      // No valid status: from 2.38 a 400, before it an empty list (for admins and users alike).
      if (mv.atLeast('2.38')) throw new ApiError(400, 'BadRequest', 'Invalid status value');
      return empty(detail);
    }
    query = query.where('vm_state', 'in', vmStates);
    if (taskStates)
      query = query.where(
        'task_state',
        'in',
        taskStates.filter((t): t is string => t !== null),
      );
    if (!(vmStates.length === 1 && vmStates[0] === 'deleted') && changesSince === undefined)
      query = query.where('deleted', '=', 0);
  }
  const image = queryOne(q, 'image');
  if (image !== undefined) query = query.where('image_id', '=', image.slice(image.lastIndexOf('/') + 1));
  const flavor = queryOne(q, 'flavor');
  if (flavor !== undefined) query = query.where('flavor_id', '=', flavor.slice(flavor.lastIndexOf('/') + 1));
  const reservation = queryOne(q, 'reservation_id');
  if (reservation !== undefined) query = query.where('reservation_id', '=', reservation);
  const locked = mv.atLeast('2.73') ? queryOne(q, 'locked') : undefined;
  if (locked !== undefined) {
    const l = locked.toLowerCase();
    if (!['true', 'false', '1', '0', 'yes', 'no'].includes(l))
      throw badQuery('locked', locked, 'Unrecognized value');
    query = query.where('locked', '=', ['true', '1', 'yes'].includes(l) ? 1 : 0);
  }
  if (isAdmin) {
    const host = queryOne(q, 'host');
    if (host !== undefined) query = query.where('host', '=', host);
    const node = queryOne(q, 'node');
    if (node !== undefined) query = query.where('node', '=', node);
  }
  for (const [param, col] of [
    ['availability_zone', 'availability_zone'],
    ['key_name', 'key_name'],
    ['user_id', 'user_id'],
    ['vm_state', 'vm_state'],
    ['task_state', 'task_state'],
  ] as const) {
    if (!isAdmin && !mv.atLeast('2.83')) continue;
    const v = queryOne(q, param);
    if (v !== undefined) query = query.where(col, '=', v);
  }
  if (mv.atLeast('2.26')) {
    const tagSets = (name: string) =>
      queryAll(q, name)
        .flatMap((v) => v.split(','))
        .filter((t) => t !== '');
    const tags = tagSets('tags');
    for (const t of tags)
      query = query.where(
        'id',
        'in',
        cx.db.selectFrom('compute_server_tags').select('server_id').where('tag', '=', t),
      );
    const any = tagSets('tags-any');
    if (any.length)
      query = query.where(
        'id',
        'in',
        cx.db.selectFrom('compute_server_tags').select('server_id').where('tag', 'in', any),
      );
    const notTags = tagSets('not-tags');
    if (notTags.length)
      query = query.where(
        'id',
        'not in',
        cx.db
          .selectFrom('compute_server_tags')
          .select('server_id')
          .where('tag', 'in', notTags)
          .groupBy('server_id')
          .having(sql`count(*)`, '=', notTags.length),
      );
    const notAny = tagSets('not-tags-any');
    if (notAny.length)
      query = query.where(
        'id',
        'not in',
        cx.db.selectFrom('compute_server_tags').select('server_id').where('tag', 'in', notAny),
      );
  }

  // Sorting: sort_key/sort_dir pairs, default created_at desc then id desc.
  const keys = queryAll(q, 'sort_key');
  const dirs = queryAll(q, 'sort_dir');
  const order: [string, 'asc' | 'desc'][] = [];
  keys.forEach((k, i) => {
    if (!SORT_KEYS.has(k) || (ADMIN_ONLY_SORT.has(k) && !isAdmin))
      throw badQuery('sort_key', k, `'${k}' is not one of the allowed sort keys`);
    const d = (dirs[i] ?? dirs[0] ?? 'desc').toLowerCase();
    if (d !== 'asc' && d !== 'desc') throw badQuery('sort_dir', d, `'${d}' is not one of ['asc', 'desc']`);
    order.push([COLUMN[k] ?? k, d]);
  });
  if (order.length === 0) order.push(['created_at', 'desc']);
  if (!order.some(([c]) => c === 'id')) order.push(['id', order[0]![1]]);
  for (const [c, d] of order) query = query.orderBy(sql.ref(c), d);

  // Regex filters run here (name, ip); other filters already narrowed the rows in SQL.
  const name = queryOne(q, 'name');
  const ip = queryOne(q, 'ip');
  const ip6 = queryOne(q, 'ip6');
  const regex = (v: string) => {
    try {
      return new RegExp(v, 'i');
    } catch {
      return new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    }
  };
  const nameRe = name !== undefined ? regex(name) : undefined;
  // Nova's _ip_filter: Python's re.match (anchored at the start) on each fixed address of the matching version.
  const anchored = (v: string) => new RegExp(`^(?:${regex(v).source})`, 'i');
  const ipRe = ip !== undefined ? anchored(ip) : undefined;
  const ip6Re = ip6 !== undefined ? anchored(ip6) : undefined;
  const ipMatch = (s: ListRow) =>
    Object.values(
      parseJson<Record<string, { addr: string; version: number; 'OS-EXT-IPS:type'?: string }[]>>(
        s.addresses,
        {},
      ),
    )
      .flat()
      .some(
        (a) =>
          a['OS-EXT-IPS:type'] !== 'floating' &&
          ((a.version === 4 && ipRe?.test(a.addr)) || (a.version === 6 && ip6Re?.test(a.addr))),
      );
  const jsFilter = (s: ListRow) => (!nameRe || nameRe.test(s.name)) && (!(ipRe || ip6Re) || ipMatch(s));

  let rows: ListRow[];
  // The default order (and any over created_at and id, both NOT NULL): the page after the marker is a keyset
  // query, so a page costs the same however many servers the project has.
  const keyset =
    marker !== undefined &&
    !nameRe &&
    !ipRe &&
    !ip6Re &&
    order.every(([c]) => c === 'created_at' || c === 'id');
  if (keyset) {
    const m = await query.where('id', '=', marker).executeTakeFirst();
    if (!m) throw badQuery('marker', marker, `marker [${marker}] not found`);
    const after = order.map(([c, d], i) => {
      const value = (col: string) => (col === 'id' ? m.id : m.created_at);
      return (eb: ExpressionBuilder<ComputeTables, 'compute_servers'>) =>
        eb.and([
          ...order.slice(0, i).map(([pc]) => eb(sql.ref(pc), '=', value(pc))),
          eb(sql.ref(c), d === 'desc' ? '<' : '>', value(c)),
        ]);
    });
    rows = await query
      .where((eb) => eb.or(after.map((f) => f(eb))))
      .limit(limit)
      .execute();
  } else if (marker !== undefined || nameRe || ipRe || ip6Re) {
    const all = (await query.execute()).filter(jsFilter);
    let start = 0;
    if (marker !== undefined) {
      const i = all.findIndex((s) => s.id === marker);
      if (i < 0) throw badQuery('marker', marker, `marker [${marker}] not found`);
      start = i + 1;
    }
    rows = all.slice(start, start + limit);
  } else {
    rows = await query.limit(limit).execute();
  }
  const links = nextLinks(ctx, detail ? 'servers/detail' : 'servers', rows, limit);
  if (!detail) {
    const body: Record<string, unknown> = { servers: rows.map((r) => serverSummary(ctx, r)) };
    if (links) body['servers_links'] = links;
    return { body };
  }
  const info = await hosts.get();
  const extras = await loadExtras(cx.db, rows, info, cx.config.default_availability_zone);
  const perProject = new Map<string, { extended: boolean; extraSpecs: boolean; hostStatus: boolean }>();
  const perms = (p: string) => {
    let v = perProject.get(p);
    if (!v) {
      v = {
        extended: ctx.can('os_compute_api:os-extended-server-attributes', { project_id: p }),
        extraSpecs:
          mv.atLeast('2.47') && ctx.can('os_compute_api:servers:show:flavor-extra-specs', { project_id: p }),
        hostStatus:
          mv.atLeast('2.16') && ctx.can('os_compute_api:servers:show:host_status', { project_id: p }),
      };
      perProject.set(p, v);
    }
    return v;
  };
  const servers = rows.map((r) =>
    serverView(ctx, r, extras.get(r.id)!, { detail: true, ...perms(r.project_id) }),
  );
  const body: Record<string, unknown> = { servers };
  if (links) body['servers_links'] = links;
  return { body };
}

function empty(detail: boolean): RouteResult {
  void detail;
  return { body: { servers: [] } };
}
