// /os-hosts (nova/api/openstack/compute/hosts.py, removed at 2.43): the hosts of the enabled services, a compute
// host's resources (total, used now, used by its servers, per project), and what the host's driver answers to
// enable/disable, maintenance mode and power actions (the fake driver echoes them, QEMU does not implement them).
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import type { FlavorSnapshot, HostRow } from '../store/tables.ts';
import { parseJson } from './common.ts';
import { V } from './flavors.ts';
import { EMPTY, figures, usageByHost } from './hypervisors.ts';
import { validateBody } from './resource-common.ts';
import { hostUpdate } from './schemas/hosts.schema.ts';
import { allServices } from './services.ts';

const RULE = 'os_compute_api:os-hosts';

/** Nova's topic of each service binary ("service" in the host list). */
const TOPIC: Record<string, string> = {
  'nova-compute': 'compute',
  'nova-scheduler': 'scheduler',
  'nova-conductor': 'conductor',
};

/** Drivers whose hosts answer the host actions (Nova's fake driver does; libvirt raises NotImplementedError). */
const ACTION_DRIVERS = new Set(['fake']);

type PowerAction = 'startup' | 'shutdown' | 'reboot';

/** The API is gone from 2.43: the paths answer 404 from then. */
function checkVersion(ctx: RouteContext): void {
  if (ctx.mv!.atLeast('2.43')) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
}

function unmapped(host: string): ApiError {
  return new ApiError(404, 'HostMappingNotFound', `Host '${host}' is not mapped to any cell`);
}

function notSupported(): ApiError {
  return new ApiError(501, 'NotImplemented', 'The requested functionality is not supported.');
}

/** The compute host named `host`, or Nova's 404 for a host no cell knows. */
async function computeHost(cx: ComputeContext, host: string): Promise<HostRow> {
  const row = await cx.db.selectFrom('compute_hosts').selectAll().where('host', '=', host).executeTakeFirst();
  if (!row) throw unmapped(host);
  return row;
}

/** The driver's own answer to a host action; a driver without one is Nova's 501. */
function driverAnswer(row: HostRow, answer: string): string {
  if (!ACTION_DRIVERS.has(row.hypervisor_type)) throw notSupported();
  return answer;
}

interface Resource {
  host: string;
  project: string;
  cpu: number;
  memory_mb: number;
  disk_gb: number;
}

/** Sums the servers on the host (not deleted): all of them as (used_max), then per project. */
async function serverResources(cx: ComputeContext, host: string): Promise<Resource[]> {
  const rows = await cx.db
    .selectFrom('compute_servers')
    .select(['project_id', 'flavor'])
    .where('deleted', '=', 0)
    .where('host', '=', host)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const max: Resource = { host, project: '(used_max)', cpu: 0, memory_mb: 0, disk_gb: 0 };
  const byProject = new Map<string, Resource>();
  for (const r of rows) {
    const f = parseJson<Partial<FlavorSnapshot>>(r.flavor, {});
    const cpu = Number(f.vcpus ?? 0);
    const mem = Number(f.memory_mb ?? 0);
    const disk = Number(f.root_gb ?? 0) + Number(f.ephemeral_gb ?? 0);
    let p = byProject.get(r.project_id);
    if (!p) {
      p = { host, project: r.project_id, cpu: 0, memory_mb: 0, disk_gb: 0 };
      byProject.set(r.project_id, p);
    }
    for (const x of [max, p]) {
      x.cpu += cpu;
      x.memory_mb += mem;
      x.disk_gb += disk;
    }
  }
  return [max, ...byProject.values()];
}

async function list(cx: ComputeContext, ctx: RouteContext) {
  checkVersion(ctx);
  ctx.authorize(`${RULE}:list`, {});
  // A repeated ?zone= counts by its last value; an empty one is no filter.
  const raw = ctx.query['zone'];
  const zone = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  const hosts = (await allServices(cx))
    .filter((s) => !s.disabled && (!zone || s.zone === zone))
    .map((s) => ({ host_name: s.host, service: TOPIC[s.binary] ?? s.binary, zone: s.zone }));
  return { body: { hosts } };
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  checkVersion(ctx);
  ctx.authorize(`${RULE}:show`, {});
  const name = ctx.params['host_name']!;
  const row = await computeHost(cx, name);
  const used = figures(cx, row, (await usageByHost(cx, name)).get(name) ?? EMPTY);
  const resources: Resource[] = [
    { host: name, project: '(total)', cpu: row.vcpus, memory_mb: row.memory_mb, disk_gb: row.local_gb },
    {
      host: name,
      project: '(used_now)',
      cpu: used.vcpus_used,
      memory_mb: used.memory_mb_used,
      disk_gb: used.local_gb_used,
    },
    ...(await serverResources(cx, name)),
  ];
  return { body: { host: resources.map((resource) => ({ resource })) } };
}

async function update(cx: ComputeContext, ctx: RouteContext) {
  checkVersion(ctx);
  validateBody(ctx, hostUpdate);
  ctx.authorize(`${RULE}:update`, {});
  const name = ctx.params['host_name']!;
  const body = (ctx.body ?? {}) as { status?: string; maintenance_mode?: string };
  const enable = (v: string) => v.trim().toLowerCase() === 'enable';
  const out: Record<string, string> = { host: name };
  if (body.status === undefined && body.maintenance_mode === undefined) return { body: out };
  const row = await computeHost(cx, name);
  if (body.status !== undefined)
    out['status'] = driverAnswer(row, enable(body.status) ? 'enabled' : 'disabled');
  if (body.maintenance_mode !== undefined) {
    out['maintenance_mode'] = driverAnswer(
      row,
      enable(body.maintenance_mode) ? 'on_maintenance' : 'off_maintenance',
    );
  }
  return { body: out };
}

function powerAction(cx: ComputeContext, action: PowerAction, rule: string): Route['handler'] {
  return async (ctx) => {
    checkVersion(ctx);
    ctx.authorize(`${RULE}:${rule}`, {});
    const name = ctx.params['host_name']!;
    const row = await computeHost(cx, name);
    return { body: { host: name, power_action: driverAnswer(row, action) } };
  };
}

export function hostRoutes(cx: ComputeContext): Route[] {
  const one = `${V}/os-hosts/:host_name`;
  return [
    { method: 'GET', path: `${V}/os-hosts`, handler: (ctx) => list(cx, ctx) },
    { method: 'GET', path: one, handler: (ctx) => show(cx, ctx) },
    { method: 'PUT', path: one, handler: (ctx) => update(cx, ctx) },
    { method: 'GET', path: `${one}/startup`, handler: powerAction(cx, 'startup', 'start') },
    { method: 'GET', path: `${one}/shutdown`, handler: powerAction(cx, 'shutdown', 'shutdown') },
    { method: 'GET', path: `${one}/reboot`, handler: powerAction(cx, 'reboot', 'reboot') },
  ];
}
