// os-flavor-access: which projects may use a private flavor (list, and the addTenantAccess and
// removeTenantAccess flavor actions), as nova/api/openstack/compute/flavor_access.py.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext, ComputeDb, ComputeTrx } from '../context.ts';
import { findFlavor, V } from './flavors.ts';
import { flavorAccessView } from './flavors.view.ts';
import { validateBody } from './resource-common.ts';
import { flavorAddTenantAccess, flavorRemoveTenantAccess } from './schemas/flavors.schema.ts';

async function projectsOf(db: ComputeDb | ComputeTrx, flavorId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('compute_flavor_projects')
    .select('project_id')
    .where('flavor_id', '=', flavorId)
    .orderBy('project_id')
    .execute();
  return rows.map((r) => r.project_id);
}

async function list(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-flavor-access', {
    project_id: ctx.auth?.projectId ?? null,
    user_id: ctx.auth?.userId ?? null,
  });
  const row = await findFlavor(cx.db, ctx, ctx.params['flavor_id'] ?? '');
  if (row.is_public === 1)
    throw new ApiError(404, 'NotFound', 'Access list not available for public flavors.');
  return { body: flavorAccessView(row.id, await projectsOf(cx.db, row.id)) };
}

async function addAccess(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, flavorAddTenantAccess);
  ctx.authorize('os_compute_api:os-flavor-access:add_tenant_access', {});
  const tenant = (ctx.body as { addTenantAccess: { tenant: string } }).addTenantAccess.tenant;
  const projects = await cx.write(async (trx, record) => {
    const row = await findFlavor(trx, ctx, ctx.params['flavor_id'] ?? '');
    if (row.is_public === 1 && ctx.mv!.atLeast('2.7')) {
      throw new ApiError(409, 'Conflict', 'Can not add access to a public flavor.');
    }
    const exists = await trx
      .selectFrom('compute_flavor_projects')
      .select('project_id')
      .where('flavor_id', '=', row.id)
      .where('project_id', '=', tenant)
      .executeTakeFirst();
    if (exists) {
      throw new ApiError(
        409,
        'FlavorAccessExists',
        `Flavor access already exists for flavor ${row.id} and project ${tenant} combination.`,
      );
    }
    await trx
      .insertInto('compute_flavor_projects')
      .values({ flavor_id: row.id, project_id: tenant })
      .execute();
    record({ kind: 'flavor', id: row.id, action: 'update' });
    return { id: row.id, projects: await projectsOf(trx, row.id) };
  });
  return { body: flavorAccessView(projects.id, projects.projects) };
}

async function removeAccess(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, flavorRemoveTenantAccess);
  ctx.authorize('os_compute_api:os-flavor-access:remove_tenant_access', {});
  const tenant = (ctx.body as { removeTenantAccess: { tenant: string } }).removeTenantAccess.tenant;
  const projects = await cx.write(async (trx, record) => {
    const row = await findFlavor(trx, ctx, ctx.params['flavor_id'] ?? '');
    const res = await trx
      .deleteFrom('compute_flavor_projects')
      .where('flavor_id', '=', row.id)
      .where('project_id', '=', tenant)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) {
      throw new ApiError(
        404,
        'FlavorAccessNotFound',
        `Flavor access not found for ${row.id} / ${tenant} combination.`,
      );
    }
    record({ kind: 'flavor', id: row.id, action: 'update' });
    return { id: row.id, projects: await projectsOf(trx, row.id) };
  });
  return { body: flavorAccessView(projects.id, projects.projects) };
}

/** POST /flavors/{id}/action: the body's single key names the action. */
async function action(cx: ComputeContext, ctx: RouteContext) {
  const body = ctx.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && 'addTenantAccess' in body) return addAccess(cx, ctx);
  if (body && typeof body === 'object' && 'removeTenantAccess' in body) return removeAccess(cx, ctx);
  throw new ApiError(400, 'BadRequest', 'There is no such action: ' + Object.keys(body ?? {}).join(','));
}

export function flavorAccessRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: `${V}/flavors/:flavor_id/os-flavor-access`, handler: (ctx) => list(cx, ctx) },
    { method: 'POST', path: `${V}/flavors/:flavor_id/action`, handler: (ctx) => action(cx, ctx) },
  ];
}
