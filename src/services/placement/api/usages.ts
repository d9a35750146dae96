// /resource_providers/{uuid}/usages and /usages?project_id=&user_id=[&consumer_type=] (1.9; grouped by
// consumer type with consumer counts from 1.38) (placement/handlers/usage.py).
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import { PlacementErrors } from '../errors.ts';
import {
  authorize,
  cacheHeaders,
  checkQueryKeys,
  getProvider,
  mvOf,
  PREFIX,
  q,
  requireVersion,
} from './common.ts';

async function providerUsages(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:resource_providers:usages');
  const uuid = ctx.params['uuid'] ?? '';
  const msg = `No resource provider with uuid ${uuid} found`;
  const rp = await getProvider(px.db, uuid, `${msg}: ${msg}`);
  const [invs, used] = await Promise.all([
    px.db.selectFrom('placement_inventories').select('resource_class').where('rp_uuid', '=', uuid).execute(),
    px.db
      .selectFrom('placement_allocations')
      .select(['resource_class', (eb) => eb.fn.sum<number>('used').as('used')])
      .where('rp_uuid', '=', uuid)
      .groupBy('resource_class')
      .execute(),
  ]);
  const usages: Record<string, number> = {};
  for (const i of invs) usages[i.resource_class] = 0;
  for (const u of used) if (u.resource_class in usages) usages[u.resource_class] = Number(u.used);
  return { body: { resource_provider_generation: rp.generation, usages }, headers: cacheHeaders(ctx) };
}

const TYPE_RE = /^([A-Z0-9_]+|all|unknown)$/;

async function totalUsages(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.9');
  const projectId = q(ctx, 'project_id');
  const userId = q(ctx, 'user_id');
  const consumerType = q(ctx, 'consumer_type');
  authorize(ctx, 'placement:usages', { project_id: projectId ?? null });
  const byType = mvOf(ctx).atLeast('1.38');
  checkQueryKeys(ctx, byType ? ['project_id', 'user_id', 'consumer_type'] : ['project_id', 'user_id']);
  const invalid = (m: string) => PlacementErrors.badRequest(`Invalid query string parameters: ${m}`);
  if (projectId === undefined) throw invalid("'project_id' is a required property");
  for (const [v, max] of [
    [projectId, 255],
    [userId, 255],
    [consumerType, 255],
  ] as const) {
    if (v !== undefined && v.length < 1) throw invalid("'' is too short");
    if (v !== undefined && v.length > max) throw invalid(`'${v}' is too long`);
  }
  if (consumerType !== undefined && !TYPE_RE.test(consumerType)) {
    throw invalid(`'${consumerType}' does not match '^[A-Z0-9_]+$|^all|^unknown$'`);
  }
  let query = px.db
    .selectFrom('placement_allocations as a')
    .innerJoin('placement_consumers as c', 'c.uuid', 'a.consumer_id')
    .select(['a.consumer_id', 'a.resource_class', 'a.used', 'c.consumer_type'])
    .where('c.project_id', '=', projectId);
  if (userId) query = query.where('c.user_id', '=', userId);
  const rows = await query.execute();
  if (!byType) {
    const usages: Record<string, number> = {};
    for (const r of rows) usages[r.resource_class] = (usages[r.resource_class] ?? 0) + Number(r.used);
    return { body: { usages }, headers: cacheHeaders(ctx) };
  }
  const groups = new Map<string, { usage: Record<string, number>; consumers: Set<string> }>();
  for (const r of rows) {
    const type = r.consumer_type ?? 'unknown';
    let key: string;
    if (consumerType === 'all') key = 'all';
    else if (consumerType === 'unknown') {
      if (r.consumer_type !== null) continue;
      key = 'unknown';
    } else if (consumerType !== undefined) {
      if (type !== consumerType) continue;
      key = type;
    } else key = type;
    let g = groups.get(key);
    if (!g) {
      g = { usage: {}, consumers: new Set() };
      groups.set(key, g);
    }
    g.usage[r.resource_class] = (g.usage[r.resource_class] ?? 0) + Number(r.used);
    g.consumers.add(r.consumer_id);
  }
  const usages: Record<string, Record<string, number>> = {};
  for (const [k, g] of groups) usages[k] = { ...g.usage, consumer_count: g.consumers.size };
  return { body: { usages }, headers: cacheHeaders(ctx) };
}

export function usageRoutes(px: PlacementContext): Route[] {
  return [
    {
      method: 'GET',
      path: `${PREFIX}/resource_providers/:uuid/usages`,
      handler: (ctx) => providerUsages(px, ctx),
    },
    { method: 'GET', path: `${PREFIX}/usages`, handler: (ctx) => totalUsages(px, ctx) },
  ];
}
