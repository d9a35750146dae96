// /os-simple-tenant-usage (nova/api/openstack/compute/simple_tenant_usage.py): server-hours per project in a
// window, from each server's launched_at/terminated_at (deleted servers included); 2.40 pagination.
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import type { FlavorSnapshot, ServerRow } from '../store/tables.ts';
import { limitAndMarker, nextLinks, parseJson } from './common.ts';
import { V } from './flavors.ts';
import { naive, strictQuery } from './resource-common.ts';

const HOUR = 3600 * 1000;

/** Nova's accepted forms: %Y-%m-%dT%H:%M:%S[.%f] or "%Y-%m-%d %H:%M:%S.%f", taken as UTC; absent = now. */
function parseWhen(cx: ComputeContext, raw: string | undefined): number {
  if (!raw) return cx.clock.now();
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,6})?$/.exec(raw);
  const sepOk = m && (raw[10] === 'T' || m[3] !== undefined);
  if (!m || !sepOk)
    throw new ApiError(400, 'InvalidStrTime', 'Invalid datetime string: Datetime is in invalid format');
  const t = Date.parse(`${m[1]}T${m[2]}${(m[3] ?? '').slice(0, 4)}Z`);
  if (Number.isNaN(t))
    throw new ApiError(400, 'InvalidStrTime', 'Invalid datetime string: Datetime is in invalid format');
  return t;
}

function windowOf(cx: ComputeContext, ctx: RouteContext): { start: number; stop: number; detailed: boolean } {
  const start = parseWhen(cx, queryOne(ctx.query, 'start'));
  let stop = parseWhen(cx, queryOne(ctx.query, 'end'));
  if (!(start < stop)) {
    throw new ApiError(
      400,
      'BadRequest',
      'Invalid start time. The start time cannot occur after the end time.',
    );
  }
  stop = Math.min(stop, cx.clock.now());
  return { start, stop, detailed: queryOne(ctx.query, 'detailed') === '1' };
}

function hoursFor(s: ServerRow, start: number, stop: number): number {
  const launched = s.launched_at ? Date.parse(s.launched_at) : undefined;
  const terminated = s.terminated_at ? Date.parse(s.terminated_at) : undefined;
  if (terminated !== undefined && terminated < start) return 0;
  if (launched === undefined || launched > stop) return 0;
  const from = Math.max(launched, start);
  const to = terminated !== undefined ? Math.min(stop, terminated) : stop;
  return (to - from) / HOUR;
}

interface Usage {
  usages: Record<string, unknown>[];
  servers: { id: string }[];
}

async function usagesFor(
  cx: ComputeContext,
  ctx: RouteContext,
  win: { start: number; stop: number; detailed: boolean },
  paged: boolean,
  tenantId?: string,
): Promise<Usage> {
  let q = cx.db.selectFrom('compute_servers').selectAll().where('launched_at', 'is not', null);
  if (tenantId !== undefined) q = q.where('project_id', '=', tenantId);
  let rows = (await q.orderBy('created_at').orderBy('id').execute()).filter(
    (s) =>
      (!s.terminated_at || Date.parse(s.terminated_at) > win.start) &&
      Date.parse(s.launched_at ?? '') < win.stop,
  );
  let limit = cx.config.max_limit;
  if (paged) {
    const lm = limitAndMarker(ctx, cx.config.max_limit);
    limit = lm.limit;
    if (lm.marker !== undefined) {
      const i = rows.findIndex((s) => s.id === lm.marker);
      if (i < 0) throw new ApiError(400, 'MarkerNotFound', `Marker ${lm.marker} could not be found.`);
      rows = rows.slice(i + 1);
    }
  }
  rows = rows.slice(0, limit);
  const byTenant = new Map<string, Record<string, unknown>>();
  const now = cx.clock.now();
  for (const s of rows) {
    const f = parseJson<Partial<FlavorSnapshot>>(s.flavor, {});
    const hours = hoursFor(s, win.start, win.stop);
    const ended = s.terminated_at ? Date.parse(s.terminated_at) : undefined;
    const started = Date.parse(s.launched_at!);
    const info = {
      hours,
      flavor: f.name ?? '',
      instance_id: s.id,
      name: s.name,
      tenant_id: s.project_id,
      memory_mb: Number(f.memory_mb ?? 0),
      local_gb: Number(f.root_gb ?? 0) + Number(f.ephemeral_gb ?? 0),
      vcpus: Number(f.vcpus ?? 0),
      started_at: naive(s.launched_at),
      ended_at: naive(s.terminated_at),
      state: ended !== undefined ? 'terminated' : s.vm_state,
      uptime: Math.floor(((ended ?? now) - started) / 1000),
    };
    let sum = byTenant.get(s.project_id);
    if (!sum) {
      sum = { tenant_id: s.project_id };
      if (win.detailed) sum['server_usages'] = [];
      Object.assign(sum, {
        total_local_gb_usage: 0,
        total_vcpus_usage: 0,
        total_memory_mb_usage: 0,
        total_hours: 0,
        start: naive(new Date(win.start).toISOString()),
        stop: naive(new Date(win.stop).toISOString()),
      });
      byTenant.set(s.project_id, sum);
    }
    sum['total_local_gb_usage'] = (sum['total_local_gb_usage'] as number) + info.local_gb * hours;
    sum['total_vcpus_usage'] = (sum['total_vcpus_usage'] as number) + info.vcpus * hours;
    sum['total_memory_mb_usage'] = (sum['total_memory_mb_usage'] as number) + info.memory_mb * hours;
    sum['total_hours'] = (sum['total_hours'] as number) + hours;
    if (win.detailed) (sum['server_usages'] as unknown[]).push(info);
  }
  return { usages: [...byTenant.values()], servers: rows.map((s) => ({ id: s.id })) };
}

async function index(cx: ComputeContext, ctx: RouteContext) {
  // "/os-simple-tenant-usage/" names an empty tenant: Nova's router matches no route for it (404), where ours
  // ignores the trailing slash.
  if (ctx.request.url.split('?')[0]!.endsWith('/'))
    throw new ApiError(404, 'NotFound', 'The resource could not be found.');
  const paged = ctx.mv!.atLeast('2.40');
  strictQuery(ctx, ['start', 'end', 'detailed', 'limit', 'marker']);
  ctx.authorize('os_compute_api:os-simple-tenant-usage:list', {
    project_id: ctx.auth?.projectId ?? null,
    user_id: ctx.auth?.userId ?? null,
  });
  const win = windowOf(cx, ctx);
  const u = await usagesFor(cx, ctx, win, paged);
  const body: Record<string, unknown> = { tenant_usages: u.usages };
  if (paged) {
    const limit = limitAndMarker(ctx, cx.config.max_limit).limit;
    const links = nextLinks(ctx, 'os-simple-tenant-usage', u.servers, limit);
    if (links) body['tenant_usages_links'] = links;
  }
  return { body };
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  const paged = ctx.mv!.atLeast('2.40');
  strictQuery(ctx, ['start', 'end', 'limit', 'marker']);
  const tenantId = ctx.params['tenant_id'] ?? '';
  ctx.authorize('os_compute_api:os-simple-tenant-usage:show', { project_id: tenantId });
  const win = { ...windowOf(cx, ctx), detailed: true };
  const u = await usagesFor(cx, ctx, win, paged, tenantId);
  const body: Record<string, unknown> = { tenant_usage: u.usages[0] ?? {} };
  if (paged) {
    const limit = limitAndMarker(ctx, cx.config.max_limit).limit;
    const links = nextLinks(ctx, `os-simple-tenant-usage/${tenantId}`, u.servers, limit);
    if (links) body['tenant_usage_links'] = links;
  }
  return { body };
}

export function simpleTenantUsageRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: `${V}/os-simple-tenant-usage`, handler: (ctx) => index(cx, ctx) },
    { method: 'GET', path: `${V}/os-simple-tenant-usage/:tenant_id`, handler: (ctx) => show(cx, ctx) },
  ];
}
