// /os-quota-sets (nova/api/openstack/compute/quota_sets.py): a project's (or a user's) limits, defaults, usage
// detail, update (with force) and reset; 2.36 drops the network keys, 2.57 the injected-file ones.
import type { DialectName } from '../../../platform/db/database.ts';
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext, ComputeDb, ComputeTrx } from '../context.ts';
import { countUsage, getDefaults, getLimits, QUOTA_RESOURCES, setLimit } from '../store/quotas.ts';
import { V } from './flavors.ts';
import { strictBool, strictQuery, validateBody } from './resource-common.ts';
import { quotaSetUpdate } from './schemas/quotas.schema.ts';

const NETWORK = ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules'];
const INJECTED = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

/** The resources a microversion shows (FILTERED_QUOTAS_2_36 / _2_57). */
export function visibleResources(ctx: RouteContext): string[] {
  const mv = ctx.mv!;
  const hidden = mv.atLeast('2.57') ? [...NETWORK, ...INJECTED] : mv.atLeast('2.36') ? NETWORK : [];
  return QUOTA_RESOURCES.filter((r) => !hidden.includes(r));
}

function pick(ctx: RouteContext, values: Record<string, unknown>, id?: string): Record<string, unknown> {
  const out: Record<string, unknown> = id === undefined ? {} : { id };
  for (const r of visibleResources(ctx)) if (r in values) out[r] = values[r];
  return out;
}

function userOf(ctx: RouteContext): string | undefined {
  return queryOne(ctx.query, 'user_id') || undefined;
}

/** in_use per resource for the detail view and the update check. */
async function inUse(
  db: ComputeDb | ComputeTrx,
  dialect: DialectName,
  projectId: string,
  userId?: string,
): Promise<Record<string, number>> {
  const u = await countUsage(db, dialect, projectId, userId);
  const out: Record<string, number> = {};
  for (const r of QUOTA_RESOURCES) out[r] = 0;
  Object.assign(out, u);
  return out;
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  strictQuery(ctx, ['user_id']);
  const id = ctx.params['tenant_id'] ?? '';
  ctx.authorize('os_compute_api:os-quota-sets:show', { project_id: id });
  const limits = await getLimits(cx.db, cx.config, id, userOf(ctx));
  return { body: { quota_set: pick(ctx, limits, id) } };
}

async function detail(cx: ComputeContext, ctx: RouteContext) {
  strictQuery(ctx, ['user_id']);
  const id = ctx.params['tenant_id'] ?? '';
  ctx.authorize('os_compute_api:os-quota-sets:detail', { project_id: id });
  const userId = userOf(ctx);
  const limits = await getLimits(cx.db, cx.config, id, userId);
  const used = await inUse(cx.db, cx.dialect, id, userId);
  const values: Record<string, unknown> = {};
  for (const r of QUOTA_RESOURCES) values[r] = { in_use: used[r] ?? 0, limit: limits[r], reserved: 0 };
  return { body: { quota_set: pick(ctx, values, id) } };
}

async function defaults(cx: ComputeContext, ctx: RouteContext) {
  const id = ctx.params['tenant_id'] ?? '';
  ctx.authorize('os_compute_api:os-quota-sets:defaults', { project_id: id });
  return { body: { quota_set: pick(ctx, await getDefaults(cx.db, cx.config), id) } };
}

async function update(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, quotaSetUpdate);
  strictQuery(ctx, ['user_id']);
  const id = ctx.params['tenant_id'] ?? '';
  ctx.authorize('os_compute_api:os-quota-sets:update', { project_id: id });
  const userId = userOf(ctx);
  const qs = (ctx.body as { quota_set: Record<string, unknown> }).quota_set;
  if ('networks' in qs) throw new ApiError(400, 'BadRequest', 'The networks quota has been removed');
  const force = strictBool(qs['force'] ?? 'False');
  await cx.write(async (trx, record) => {
    const used = await inUse(trx, cx.dialect, id, userId);
    const projectLimits = userId ? await getLimits(trx, cx.config, id) : undefined;
    const valid: [string, number][] = [];
    for (const [key, raw] of Object.entries(qs)) {
      if (key === 'force' || raw === '' || raw === null || raw === undefined) continue;
      const value = Number(raw);
      if (!force) {
        const minimum = used[key] ?? 0;
        const maximum = projectLimits ? (projectLimits[key] ?? -1) : -1;
        const inf = (n: number) => (n === -1 ? Number.POSITIVE_INFINITY : n);
        if (inf(value) < inf(minimum)) {
          throw new ApiError(
            400,
            'BadRequest',
            `Quota limit ${value} for ${key} must be greater than or equal to already used and reserved ${minimum}.`,
          );
        }
        if (inf(value) > inf(maximum)) {
          throw new ApiError(
            400,
            'BadRequest',
            `Quota limit ${value} for ${key} must be less than or equal to ${maximum}.`,
          );
        }
      }
      valid.push([key, value]);
    }
    for (const [key, value] of valid) await setLimit(trx, id, userId ?? '', key, value);
    record({ kind: 'quota', id: userId ? `${id}/${userId}` : id, action: 'update', projectId: id });
  });
  const limits = await getLimits(cx.db, cx.config, id, userId);
  return { body: { quota_set: pick(ctx, limits) } };
}

async function remove(cx: ComputeContext, ctx: RouteContext) {
  strictQuery(ctx, ['user_id']);
  const id = ctx.params['tenant_id'] ?? '';
  ctx.authorize('os_compute_api:os-quota-sets:delete', { project_id: id });
  const userId = userOf(ctx);
  await cx.write(async (trx, record) => {
    let q = trx.deleteFrom('compute_quotas').where('project_id', '=', id);
    // A user's reset clears its own limits; a project's clears the project's and its users'.
    if (userId) q = q.where('user_id', '=', userId);
    await q.execute();
    record({ kind: 'quota', id: userId ? `${id}/${userId}` : id, action: 'delete', projectId: id });
  });
  return { status: 202 };
}

export function quotaSetRoutes(cx: ComputeContext): Route[] {
  const base = `${V}/os-quota-sets/:tenant_id`;
  return [
    { method: 'GET', path: base, handler: (ctx) => show(cx, ctx) },
    { method: 'PUT', path: base, handler: (ctx) => update(cx, ctx) },
    { method: 'DELETE', path: base, handler: (ctx) => remove(cx, ctx) },
    { method: 'GET', path: `${base}/defaults`, handler: (ctx) => defaults(cx, ctx) },
    { method: 'GET', path: `${base}/detail`, handler: (ctx) => detail(cx, ctx) },
  ];
}
