// /os-hypervisors (nova/api/openstack/compute/hypervisors.py): each compute host's node with its usage summed
// from the servers on it; 2.33 pagination, 2.53 uuids and query filters, 2.88 slimmer bodies.
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import type { HostRow } from '../store/tables.ts';
import { limitAndMarker, nextLinks, parseJson } from './common.ts';
import { V } from './flavors.ts';
import { isUuidLike, strictBool, strictQuery } from './resource-common.ts';
import { hostIsUp, serviceIdOf } from './services.ts';

export interface HostUsage {
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  running: number;
  workload: number;
  servers: { name: string; uuid: string }[];
}

const gone = () => new ApiError(404, 'NotFound', 'The resource could not be found.');

/** Usage per host from the servers placed there (not deleted). */
export async function usageByHost(cx: ComputeContext, host?: string): Promise<Map<string, HostUsage>> {
  let q = cx.db
    .selectFrom('compute_servers')
    .select(['id', 'name', 'host', 'flavor', 'task_state'])
    .where('deleted', '=', 0)
    .where('host', 'is not', null);
  if (host) q = q.where('host', '=', host);
  const out = new Map<string, HostUsage>();
  for (const s of await q.orderBy('created_at').execute()) {
    const f = parseJson<{ vcpus?: number; memory_mb?: number; root_gb?: number; ephemeral_gb?: number }>(
      s.flavor,
      {},
    );
    const u = out.get(s.host!) ?? {
      vcpus: 0,
      memory_mb: 0,
      local_gb: 0,
      running: 0,
      workload: 0,
      servers: [],
    };
    out.set(s.host!, u);
    u.vcpus += Number(f.vcpus ?? 0);
    u.memory_mb += Number(f.memory_mb ?? 0);
    u.local_gb += Number(f.root_gb ?? 0) + Number(f.ephemeral_gb ?? 0);
    u.running += 1;
    if (s.task_state) u.workload += 1;
    u.servers.push({ name: s.name, uuid: s.id });
  }
  return out;
}

export const EMPTY: HostUsage = { vcpus: 0, memory_mb: 0, local_gb: 0, running: 0, workload: 0, servers: [] };

/** The numbers Nova's resource tracker keeps for a node (memory used includes the host's reserve). */
export function figures(cx: ComputeContext, row: HostRow, u: HostUsage) {
  const memoryUsed = u.memory_mb + cx.config.reserved_host_memory_mb;
  return {
    vcpus: row.vcpus,
    memory_mb: row.memory_mb,
    local_gb: row.local_gb,
    vcpus_used: u.vcpus,
    memory_mb_used: memoryUsed,
    local_gb_used: u.local_gb,
    free_ram_mb: row.memory_mb - memoryUsed,
    free_disk_gb: row.local_gb - u.local_gb,
    current_workload: u.workload,
    running_vms: u.running,
    disk_available_least: row.local_gb - u.local_gb,
  };
}

/** An uptime(1)-style line for the host, counted from its registration. */
function uptimeOf(cx: ComputeContext, row: HostRow): string {
  const now = new Date(cx.clock.now());
  const secs = Math.max(0, Math.floor((cx.clock.now() - Date.parse(row.created_at)) / 1000));
  const days = Math.floor(secs / 86400);
  const hh = Math.floor((secs % 86400) / 3600);
  const mm = Math.floor((secs % 3600) / 60);
  const clock = now.toISOString().slice(11, 19);
  return ` ${clock} up ${days} days, ${String(hh).padStart(2, ' ')}:${String(mm).padStart(2, '0')},  1 user,  load average: 0.00, 0.00, 0.00`;
}

function hypervisorView(
  cx: ComputeContext,
  ctx: RouteContext,
  row: HostRow,
  u: HostUsage,
  opts: { detail: boolean; servers?: boolean },
): Record<string, unknown> {
  const mv = ctx.mv!;
  const uuids = mv.atLeast('2.53');
  const out: Record<string, unknown> = {
    id: uuids ? row.node_uuid : Number(row.id),
    hypervisor_hostname: row.node,
    state: hostIsUp(cx, row) ? 'up' : 'down',
    status: row.disabled === 1 ? 'disabled' : 'enabled',
  };
  if (opts.detail) {
    out['hypervisor_type'] = row.hypervisor_type;
    out['hypervisor_version'] = row.hypervisor_version;
    out['host_ip'] = row.host_ip;
    out['service'] = {
      id: uuids ? row.uuid : serviceIdOf(row),
      host: row.host,
      disabled_reason: row.disabled_reason,
    };
    if (!mv.atLeast('2.88')) {
      Object.assign(out, figures(cx, row, u));
      out['cpu_info'] = mv.atLeast('2.28')
        ? parseJson<Record<string, unknown>>(row.cpu_info, {})
        : row.cpu_info;
    } else {
      out['uptime'] = uptimeOf(cx, row);
    }
  }
  if (opts.servers) {
    if (u.servers.length > 0) out['servers'] = u.servers;
    else if (mv.atLeast('2.75')) out['servers'] = [];
  }
  return out;
}

async function list(cx: ComputeContext, ctx: RouteContext, detail: boolean) {
  const mv = ctx.mv!;
  ctx.authorize(`os_compute_api:os-hypervisors:${detail ? 'list-detail' : 'list'}`, {});
  const paged = mv.atLeast('2.33');
  if (mv.atLeast('2.53'))
    strictQuery(ctx, ['limit', 'marker', 'hypervisor_hostname_pattern', 'with_servers'], '2.53');
  else if (paged) strictQuery(ctx, ['limit', 'marker'], '2.33');
  const pattern = mv.atLeast('2.53') ? queryOne(ctx.query, 'hypervisor_hostname_pattern') : undefined;
  const withServers = mv.atLeast('2.53') ? strictBool(queryOne(ctx.query, 'with_servers') ?? false) : false;
  let rows = await cx.db.selectFrom('compute_hosts').selectAll().orderBy('id').execute();
  let links = paged;
  let limit = rows.length;
  if (pattern !== undefined) {
    if (ctx.query['limit'] !== undefined || ctx.query['marker'] !== undefined) {
      throw new ApiError(
        400,
        'BadRequest',
        'Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.',
      );
    }
    links = false;
    rows = rows.filter((r) => r.node.includes(pattern));
    if (rows.length === 0)
      throw new ApiError(404, 'NotFound', `No hypervisor matching '${pattern}' could be found.`);
  } else if (paged) {
    const lm = limitAndMarker(ctx, cx.config.max_limit);
    limit = lm.limit;
    if (lm.marker !== undefined) {
      const i = rows.findIndex((r) => (mv.atLeast('2.53') ? r.node_uuid : String(r.id)) === lm.marker);
      if (i < 0) throw new ApiError(400, 'BadRequest', `marker [${lm.marker}] not found`);
      rows = rows.slice(i + 1);
    }
    rows = rows.slice(0, limit);
  }
  const usage = await usageByHost(cx);
  const hypervisors = rows.map((r) =>
    hypervisorView(cx, ctx, r, usage.get(r.host) ?? EMPTY, { detail, servers: withServers }),
  );
  const body: Record<string, unknown> = { hypervisors };
  if (links) {
    const next = nextLinks(
      ctx,
      detail ? 'os-hypervisors/detail' : 'os-hypervisors',
      hypervisors as { id: string | number }[],
      limit,
    );
    if (next) body['hypervisors_links'] = next;
  }
  return { body };
}

/** A hypervisor by id: a uuid from 2.53 (400 otherwise), an integer before (404 otherwise). */
async function findHypervisor(cx: ComputeContext, ctx: RouteContext, id: string): Promise<HostRow> {
  const notFound = new ApiError(404, 'NotFound', `Hypervisor with ID '${id}' could not be found.`);
  let q = cx.db.selectFrom('compute_hosts').selectAll();
  if (ctx.mv!.atLeast('2.53')) {
    if (!isUuidLike(id)) throw new ApiError(400, 'BadRequest', `Invalid uuid ${id}`);
    q = q.where('node_uuid', '=', id);
  } else {
    if (!/^\d+$/.test(id)) throw notFound;
    q = q.where('id', '=', Number(id));
  }
  const row = await q.executeTakeFirst();
  if (!row) throw notFound;
  return row;
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-hypervisors:show', {});
  const mv = ctx.mv!;
  if (mv.atLeast('2.53')) strictQuery(ctx, ['with_servers'], '2.53');
  const withServers = mv.atLeast('2.53') ? strictBool(queryOne(ctx.query, 'with_servers') ?? false) : false;
  const row = await findHypervisor(cx, ctx, ctx.params['id'] ?? '');
  const u = (await usageByHost(cx, row.host)).get(row.host) ?? EMPTY;
  return { body: { hypervisor: hypervisorView(cx, ctx, row, u, { detail: true, servers: withServers }) } };
}

async function uptime(cx: ComputeContext, ctx: RouteContext) {
  if (ctx.mv!.atLeast('2.88')) throw gone();
  ctx.authorize('os_compute_api:os-hypervisors:uptime', {});
  const row = await findHypervisor(cx, ctx, ctx.params['id'] ?? '');
  const view = hypervisorView(cx, ctx, row, EMPTY, { detail: false });
  return { body: { hypervisor: { ...view, uptime: uptimeOf(cx, row) } } };
}

async function statistics(cx: ComputeContext, ctx: RouteContext) {
  if (ctx.mv!.atLeast('2.88')) throw gone();
  ctx.authorize('os_compute_api:os-hypervisors:statistics', {});
  const rows = await cx.db.selectFrom('compute_hosts').selectAll().execute();
  const usage = await usageByHost(cx);
  const total: Record<string, number> = {
    count: 0,
    vcpus: 0,
    memory_mb: 0,
    local_gb: 0,
    vcpus_used: 0,
    memory_mb_used: 0,
    local_gb_used: 0,
    free_ram_mb: 0,
    free_disk_gb: 0,
    current_workload: 0,
    running_vms: 0,
    disk_available_least: 0,
  };
  for (const r of rows) {
    total['count']! += 1;
    for (const [k, v] of Object.entries(figures(cx, r, usage.get(r.host) ?? EMPTY))) total[k]! += v;
  }
  return { body: { hypervisor_statistics: total } };
}

/** Before 2.53: GET /os-hypervisors/{pattern}/search and /servers. */
async function search(cx: ComputeContext, ctx: RouteContext, withServers: boolean) {
  if (ctx.mv!.atLeast('2.53')) throw gone();
  ctx.authorize(`os_compute_api:os-hypervisors:${withServers ? 'servers' : 'search'}`, {});
  const pattern = ctx.params['id'] ?? '';
  const rows = (await cx.db.selectFrom('compute_hosts').selectAll().orderBy('id').execute()).filter((r) =>
    r.node.includes(pattern),
  );
  if (rows.length === 0)
    throw new ApiError(404, 'NotFound', `No hypervisor matching '${pattern}' could be found.`);
  const usage = await usageByHost(cx);
  return {
    body: {
      hypervisors: rows.map((r) =>
        hypervisorView(cx, ctx, r, usage.get(r.host) ?? EMPTY, { detail: false, servers: withServers }),
      ),
    },
  };
}

export function hypervisorRoutes(cx: ComputeContext): Route[] {
  const base = `${V}/os-hypervisors`;
  return [
    { method: 'GET', path: base, handler: (ctx) => list(cx, ctx, false) },
    { method: 'GET', path: `${base}/detail`, handler: (ctx) => list(cx, ctx, true) },
    { method: 'GET', path: `${base}/statistics`, handler: (ctx) => statistics(cx, ctx) },
    { method: 'GET', path: `${base}/:id`, handler: (ctx) => show(cx, ctx) },
    { method: 'GET', path: `${base}/:id/uptime`, handler: (ctx) => uptime(cx, ctx) },
    { method: 'GET', path: `${base}/:id/search`, handler: (ctx) => search(cx, ctx, false) },
    { method: 'GET', path: `${base}/:id/servers`, handler: (ctx) => search(cx, ctx, true) },
  ];
}
