// GET /os-migrations (nova/api/openstack/compute/migrations.py) with its filters and per-version view (2.23
// type and links, 2.59 uuid and paging, 2.80 owner), and a server's in-progress live migrations (2.23).
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { ComputeErrors } from '../errors.ts';
import type { MigrationRow } from '../store/tables.ts';
import { limitAndMarker, nextLinks, resourceLinks } from './common.ts';
import { V } from './flavors.ts';
import { isAdmin, naive, strictQuery } from './resource-common.ts';

const LIVE_IN_PROGRESS = ['queued', 'preparing', 'running', 'post-migrating'];

/** Flavor ids as Nova's integer instance type ids (null for non-numeric flavor ids). */
function typeId(flavorId: string | null): number | null {
  return flavorId !== null && /^\d+$/.test(flavorId) ? Number(flavorId) : null;
}

function listView(ctx: RouteContext, m: MigrationRow): Record<string, unknown> {
  const mv = ctx.mv!;
  const out: Record<string, unknown> = {
    created_at: naive(m.created_at),
    dest_compute: m.dest_compute,
    dest_host: m.dest_host,
    dest_node: m.dest_node,
    id: Number(m.id),
    instance_uuid: m.server_id,
    new_instance_type_id: typeId(m.new_flavor_id),
    old_instance_type_id: typeId(m.old_flavor_id),
    source_compute: m.source_compute,
    source_node: m.source_node,
    status: m.status,
    updated_at: naive(m.updated_at),
  };
  if (mv.atLeast('2.23')) {
    out['migration_type'] = m.migration_type;
    if (m.migration_type === 'live-migration' && LIVE_IN_PROGRESS.includes(m.status)) {
      out['links'] = resourceLinks(ctx, `servers/${m.server_id}/migrations/${m.id}`);
    }
  }
  if (mv.atLeast('2.59')) out['uuid'] = m.uuid;
  if (mv.atLeast('2.80')) {
    out['user_id'] = m.user_id;
    out['project_id'] = m.project_id;
  }
  return out;
}

function parseTime(ctx: RouteContext, name: string): string | undefined {
  const raw = queryOne(ctx.query, name);
  if (raw === undefined) return undefined;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) {
    throw new ApiError(
      400,
      'ValidationError',
      `Invalid input for query parameters ${name}. Value: ${raw}. '${raw}' is not a 'date-time'`,
    );
  }
  return new Date(t).toISOString();
}

async function index(cx: ComputeContext, ctx: RouteContext) {
  const mv = ctx.mv!;
  ctx.authorize('os_compute_api:os-migrations:index', {
    project_id: ctx.auth?.projectId ?? null,
    user_id: ctx.auth?.userId ?? null,
  });
  if (mv.atLeast('2.80')) {
    strictQuery(
      ctx,
      [
        'hidden',
        'host',
        'instance_uuid',
        'source_compute',
        'status',
        'migration_type',
        'limit',
        'marker',
        'changes-since',
        'changes-before',
        'user_id',
        'project_id',
      ],
      '2.80',
    );
  }
  let q = cx.db.selectFrom('compute_migrations').selectAll();
  const host = queryOne(ctx.query, 'host');
  if (host) q = q.where((eb) => eb.or([eb('source_compute', '=', host), eb('dest_compute', '=', host)]));
  const eq: [string, 'status' | 'migration_type' | 'server_id' | 'source_compute'][] = [
    ['status', 'status'],
    ['migration_type', 'migration_type'],
    ['instance_uuid', 'server_id'],
    ['source_compute', 'source_compute'],
  ];
  for (const [param, col] of eq) {
    const v = queryOne(ctx.query, param);
    if (v) q = q.where(col, '=', v);
  }
  if (mv.atLeast('2.80')) {
    const u = queryOne(ctx.query, 'user_id');
    const p = queryOne(ctx.query, 'project_id');
    if (u) q = q.where('user_id', '=', u);
    if (p) q = q.where('project_id', '=', p);
  }
  const paged = mv.atLeast('2.59');
  if (paged) {
    const since = parseTime(ctx, 'changes-since');
    const before = mv.atLeast('2.66') ? parseTime(ctx, 'changes-before') : undefined;
    if (since && before && before < since) {
      throw new ApiError(
        400,
        'BadRequest',
        'The value of changes-since must be less than or equal to changes-before.',
      );
    }
    let rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    // Compared as instants: stored timestamps may differ in precision from the ISO text asked for.
    if (since) rows = rows.filter((r) => Date.parse(r.updated_at) >= Date.parse(since));
    if (before) rows = rows.filter((r) => Date.parse(r.updated_at) <= Date.parse(before));
    const { limit, marker } = limitAndMarker(ctx, cx.config.max_limit);
    if (marker !== undefined) {
      const i = rows.findIndex((r) => r.uuid === marker);
      if (i < 0) throw new ApiError(400, 'MarkerNotFound', `Marker ${marker} could not be found.`);
      rows = rows.slice(i + 1);
    }
    rows = rows.slice(0, limit);
    const body: Record<string, unknown> = { migrations: rows.map((m) => listView(ctx, m)) };
    const links = nextLinks(
      ctx,
      'os-migrations',
      rows.map((r) => ({ id: r.uuid })),
      limit,
    );
    if (links) body['migrations_links'] = links;
    return { body };
  }
  const rows = await q.orderBy('id').execute();
  return { body: { migrations: rows.map((m) => listView(ctx, m)) } };
}

function serverView(ctx: RouteContext, m: MigrationRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: naive(m.created_at),
    dest_compute: m.dest_compute,
    dest_host: m.dest_host,
    dest_node: m.dest_node,
    disk_processed_bytes: 0,
    disk_remaining_bytes: 0,
    disk_total_bytes: 0,
    id: Number(m.id),
    memory_processed_bytes: 0,
    memory_remaining_bytes: 0,
    memory_total_bytes: 0,
    server_uuid: m.server_id,
    source_compute: m.source_compute,
    source_node: m.source_node,
    status: m.status,
    updated_at: naive(m.updated_at),
  };
  if (ctx.mv!.atLeast('2.59')) out['uuid'] = m.uuid;
  if (ctx.mv!.atLeast('2.80')) {
    out['user_id'] = m.user_id;
    out['project_id'] = m.project_id;
  }
  return out;
}

/** common.get_instance: a server the caller may see (its project's, or any for an admin), else 404. */
async function serverFor(cx: ComputeContext, ctx: RouteContext): Promise<{ id: string; project_id: string }> {
  if (!ctx.mv!.atLeast('2.23')) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
  const id = ctx.params['server_id'] ?? '';
  const s = await cx.db
    .selectFrom('compute_servers')
    .select(['id', 'project_id'])
    .where('id', '=', id)
    .where('deleted', '=', 0)
    .executeTakeFirst();
  if (!s || (!isAdmin(ctx) && s.project_id !== ctx.auth?.projectId)) throw ComputeErrors.serverNotFound(id);
  return s;
}

async function serverIndex(cx: ComputeContext, ctx: RouteContext) {
  const s = await serverFor(cx, ctx);
  ctx.authorize('os_compute_api:servers:migrations:index', { project_id: s.project_id });
  const rows = await cx.db
    .selectFrom('compute_migrations')
    .selectAll()
    .where('server_id', '=', s.id)
    .where('migration_type', '=', 'live-migration')
    .where('status', 'in', LIVE_IN_PROGRESS)
    .orderBy('id')
    .execute();
  return { body: { migrations: rows.map((m) => serverView(ctx, m)) } };
}

async function serverShow(cx: ComputeContext, ctx: RouteContext) {
  const s = await serverFor(cx, ctx);
  ctx.authorize('os_compute_api:servers:migrations:show', { project_id: s.project_id });
  const mid = ctx.params['migration_id'] ?? '';
  const m = /^\d+$/.test(mid)
    ? await cx.db
        .selectFrom('compute_migrations')
        .selectAll()
        .where('id', '=', Number(mid))
        .where('server_id', '=', s.id)
        .executeTakeFirst()
    : undefined;
  if (!m)
    throw new ApiError(404, 'NotFound', `In-progress live migration ${mid} is not found for server ${s.id}.`);
  if (m.migration_type !== 'live-migration') {
    throw new ApiError(404, 'NotFound', `Migration ${mid} for server ${s.id} is not live-migration.`);
  }
  if (!LIVE_IN_PROGRESS.includes(m.status)) {
    throw new ApiError(404, 'NotFound', `Live migration ${mid} for server ${s.id} is not in progress.`);
  }
  return { body: { migration: serverView(ctx, m) } };
}

export function migrationRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: `${V}/os-migrations`, handler: (ctx) => index(cx, ctx) },
    { method: 'GET', path: `${V}/servers/:server_id/migrations`, handler: (ctx) => serverIndex(cx, ctx) },
    {
      method: 'GET',
      path: `${V}/servers/:server_id/migrations/:migration_id`,
      handler: (ctx) => serverShow(cx, ctx),
    },
  ];
}
