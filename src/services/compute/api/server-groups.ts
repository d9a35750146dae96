// /os-server-groups (nova/api/openstack/compute/server_groups.py): affinity groups of servers; 2.13 owner ids,
// 2.15 soft policies, 2.64 one `policy` plus `rules` instead of `policies`. Members are written by server create.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext, ComputeDb } from '../context.ts';
import { getLimits, within } from '../store/quotas.ts';
import type { ServerGroupRow } from '../store/tables.ts';
import { parseJson } from './common.ts';
import { V } from './flavors.ts';
import { isAdmin, queryInt, strictQuery, validateBody } from './resource-common.ts';
import { serverGroupCreate } from './schemas/server-groups.schema.ts';

async function members(db: ComputeDb, groupIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (groupIds.length === 0) return out;
  const rows = await db
    .selectFrom('compute_server_group_members')
    .innerJoin('compute_servers', 'compute_servers.id', 'compute_server_group_members.server_id')
    .select(['compute_server_group_members.group_id', 'compute_server_group_members.server_id'])
    .where('compute_server_group_members.group_id', 'in', groupIds)
    .where('compute_servers.deleted', '=', 0)
    .orderBy('compute_servers.created_at')
    .execute();
  for (const r of rows) {
    const list = out.get(r.group_id) ?? [];
    list.push(r.server_id);
    out.set(r.group_id, list);
  }
  return out;
}

function view(ctx: RouteContext, g: ServerGroupRow, memberIds: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.id, name: g.name };
  if (ctx.mv!.atLeast('2.64')) {
    const rules = parseJson<Record<string, unknown>>(g.rules, {});
    if (rules['max_server_per_host'] !== undefined)
      rules['max_server_per_host'] = Number(rules['max_server_per_host']);
    out['policy'] = g.policy;
    out['rules'] = rules;
  } else {
    out['policies'] = [g.policy];
    out['metadata'] = {};
  }
  out['members'] = memberIds;
  if (ctx.mv!.atLeast('2.13')) {
    out['project_id'] = g.project_id;
    out['user_id'] = g.user_id;
  }
  return out;
}

async function find(cx: ComputeContext, id: string): Promise<ServerGroupRow> {
  const g = await cx.db
    .selectFrom('compute_server_groups')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!g) throw new ApiError(404, 'InstanceGroupNotFound', `Instance group ${id} could not be found.`);
  return g;
}

async function index(cx: ComputeContext, ctx: RouteContext) {
  strictQuery(ctx, ['all_projects', 'limit', 'offset']);
  const projectId = ctx.auth?.projectId ?? '';
  ctx.authorize('os_compute_api:os-server-groups:index', { project_id: projectId });
  let q = cx.db.selectFrom('compute_server_groups').selectAll();
  const all = ctx.query['all_projects'] !== undefined && isAdmin(ctx);
  if (all) ctx.authorize('os_compute_api:os-server-groups:index:all_projects', { project_id: projectId });
  else q = q.where('project_id', '=', projectId);
  const rows = await q.orderBy('created_at').orderBy('id').execute();
  const offset = queryInt(ctx, 'offset') ?? 0;
  const limit = Math.min(queryInt(ctx, 'limit') ?? cx.config.max_limit, cx.config.max_limit);
  const page = rows.slice(offset, offset + limit);
  const m = await members(
    cx.db,
    page.map((g) => g.id),
  );
  return { body: { server_groups: page.map((g) => view(ctx, g, m.get(g.id) ?? [])) } };
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  const g = await find(cx, ctx.params['id'] ?? '');
  ctx.authorize('os_compute_api:os-server-groups:show', { project_id: g.project_id });
  const m = await members(cx.db, [g.id]);
  return { body: { server_group: view(ctx, g, m.get(g.id) ?? []) } };
}

function tooMany(): ApiError {
  return new ApiError(403, 'QuotaError', 'Quota exceeded, too many server groups.');
}

async function create(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, serverGroupCreate);
  const auth = ctx.requireAuth();
  const projectId = auth.projectId ?? '';
  ctx.authorize('os_compute_api:os-server-groups:create', { project_id: projectId });
  const v = (ctx.body as { server_group: Record<string, unknown> }).server_group;
  let policy: string;
  let rules: Record<string, number> = {};
  if (ctx.mv!.atLeast('2.64')) {
    policy = v['policy'] as string;
    const given = (v['rules'] ?? {}) as Record<string, unknown>;
    if (policy !== 'anti-affinity' && Object.keys(given).length > 0) {
      throw new ApiError(400, 'BadRequest', 'Only anti-affinity policy supports rules.');
    }
    if (given['max_server_per_host'] !== undefined)
      rules = { max_server_per_host: Number(given['max_server_per_host']) };
  } else {
    policy = (v['policies'] as string[])[0]!;
  }
  const limits = await getLimits(cx.db, cx.config, projectId, auth.userId);
  const projectLimits = await getLimits(cx.db, cx.config, projectId);
  const row: ServerGroupRow = {
    id: cx.ids.uuid(),
    name: v['name'] as string,
    project_id: projectId,
    user_id: auth.userId,
    policy,
    rules: JSON.stringify(rules),
    created_at: cx.nowIso(),
  };
  await cx.write(async (trx, record) => {
    const count = async (userId?: string) => {
      let q = trx
        .selectFrom('compute_server_groups')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', projectId);
      if (userId) q = q.where('user_id', '=', userId);
      return Number((await q.executeTakeFirstOrThrow()).n);
    };
    if (!within(projectLimits['server_groups'] ?? -1, await count(), 1)) throw tooMany();
    if (!within(limits['server_groups'] ?? -1, await count(auth.userId), 1)) throw tooMany();
    await trx.insertInto('compute_server_groups').values(row).execute();
    record({ kind: 'server_group', id: row.id, action: 'create', projectId });
  });
  return { body: { server_group: view(ctx, row, []) } };
}

async function remove(cx: ComputeContext, ctx: RouteContext) {
  const g = await find(cx, ctx.params['id'] ?? '');
  ctx.authorize('os_compute_api:os-server-groups:delete', { project_id: g.project_id });
  await cx.write(async (trx, record) => {
    await trx.deleteFrom('compute_server_group_members').where('group_id', '=', g.id).execute();
    const res = await trx.deleteFrom('compute_server_groups').where('id', '=', g.id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) {
      throw new ApiError(404, 'InstanceGroupNotFound', `Instance group ${g.id} could not be found.`);
    }
    record({ kind: 'server_group', id: g.id, action: 'delete', projectId: g.project_id });
  });
  return { status: 204 };
}

export function serverGroupRoutes(cx: ComputeContext): Route[] {
  const base = `${V}/os-server-groups`;
  return [
    { method: 'GET', path: base, handler: (ctx) => index(cx, ctx) },
    { method: 'POST', path: base, handler: (ctx) => create(cx, ctx) },
    { method: 'GET', path: `${base}/:id`, handler: (ctx) => show(cx, ctx) },
    { method: 'DELETE', path: `${base}/:id`, handler: (ctx) => remove(cx, ctx) },
  ];
}
