// /v2.0/quotas: per-project limits (list of overridden projects, show, update, reset), defaults, usage details,
// and the caller's own project id (quotas/tenant, quotas/project), as Neutron's quotasv2 and quota_details.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import {
  isQuotaResource,
  projectQuotaLimits,
  QUOTA_RESOURCES,
  type QuotaResource,
  quotaUsage,
} from '../domain/quota-check.ts';
import { authorizeRule } from '../domain/rbac-rules.ts';
import { badRequest, notFound } from '../errors.ts';
import { callerOf } from './common.ts';
import { type AttrSpec, parseUpdate, type ResourceSpec, toBoolean, toInt } from './resource.ts';

/** Neutron's DB_INTEGER_MAX_VALUE. */
const MAX_LIMIT = 2147483647;

function range(v: number): string | undefined {
  if (v < -1) return `'${v}' is too small - must be at least '-1'`;
  if (v > MAX_LIMIT) return `'${v}' is too large - must be no larger than '${MAX_LIMIT}'`;
  return undefined;
}

const quotaSpec: ResourceSpec = {
  member: 'quota',
  collection: 'quotas',
  attrs: Object.fromEntries(
    QUOTA_RESOURCES.map((r): [string, AttrSpec] => [
      r,
      { post: false, put: true, convert: toInt, validate: range },
    ]),
  ),
};

function defaults(cx: NetworkContext): Record<QuotaResource, number> {
  const out = {} as Record<QuotaResource, number>;
  for (const r of QUOTA_RESOURCES) out[r] = cx.config.quotas[r];
  return out;
}

/** Reading another project's quotas needs get_quota (admin). */
function authorizeRead(ctx: RouteContext, projectId: string): void {
  const caller = callerOf(ctx);
  if (projectId !== caller.projectId)
    authorizeRule(
      ctx,
      'get_quota',
      { project_id: caller.projectId, tenant_id: caller.projectId },
      'admin_only',
    );
}

function callerProject(ctx: RouteContext): string {
  const p = callerOf(ctx).projectId;
  if (!p) throw new ApiError(400, 'QuotaMissingTenant', 'Tenant-id was missing from quota request.');
  return p;
}

async function listQuotas(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  authorizeRule(
    ctx,
    'get_quota',
    { project_id: caller.projectId, tenant_id: caller.projectId },
    'admin_only',
  );
  const rows = await cx.db
    .selectFrom('network_quotas')
    .selectAll()
    .orderBy('project_id')
    .orderBy('resource')
    .execute();
  const byProject = new Map<string, Record<string, unknown>>();
  for (const r of rows) {
    if (!isQuotaResource(r.resource)) continue;
    let q = byProject.get(r.project_id);
    if (!q) {
      q = { ...defaults(cx), project_id: r.project_id, tenant_id: r.project_id };
      byProject.set(r.project_id, q);
    }
    q[r.resource] = r.quota_limit;
  }
  return { body: { quotas: [...byProject.values()] } };
}

async function updateQuotas(cx: NetworkContext, ctx: RouteContext) {
  const projectId = ctx.params['id']!;
  const caller = callerOf(ctx);
  authorizeRule(
    ctx,
    'update_quota',
    { project_id: caller.projectId, tenant_id: caller.projectId },
    'admin_only',
  );
  // force / check_limit are options of the request, not limits.
  const body = ctx.body as Record<string, unknown> | undefined;
  const inner = body?.['quota'];
  let checkLimit = false;
  let request: unknown = body;
  if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
    const q = { ...(inner as Record<string, unknown>) };
    const check = q['check_limit'];
    delete q['force'];
    delete q['check_limit'];
    if (check !== undefined && check !== null) {
      try {
        checkLimit = toBoolean(check);
      } catch {
        checkLimit = Boolean(check);
      }
    }
    request = { ...body, quota: q };
  }
  const item = parseUpdate(quotaSpec, { ...caller, isAdmin: true }, request);
  const values = item.values as Record<string, number>;
  await cx.write(async (trx, record) => {
    if (checkLimit) {
      for (const [resource, limit] of Object.entries(values)) {
        if (!isQuotaResource(resource) || limit < 0) continue;
        const used = await quotaUsage(trx, projectId, resource);
        if (used > limit)
          throw badRequest(
            `Quota limit ${limit} for ${resource} must be greater than or equal to already used ${used}`,
          );
      }
    }
    for (const [resource, limit] of Object.entries(values)) {
      const updated = await trx
        .updateTable('network_quotas')
        .set({ quota_limit: limit })
        .where('project_id', '=', projectId)
        .where('resource', '=', resource)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0)
        await trx
          .insertInto('network_quotas')
          .values({ project_id: projectId, resource, quota_limit: limit })
          .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ quota_limit: limit }))
          .execute();
    }
    record({ kind: 'quota', id: projectId, action: 'update', projectId });
  });
  return { body: { quota: await projectQuotaLimits(cx, cx.db, projectId) } };
}

async function details(cx: NetworkContext, ctx: RouteContext) {
  const projectId = ctx.params['id']!;
  const caller = callerOf(ctx);
  if (projectId !== caller.projectId && !caller.isAdmin)
    throw new ApiError(
      403,
      'AdminRequired',
      'User does not have admin privileges: Only admin is authorized to access quotas for another project.',
    );
  const limits = await projectQuotaLimits(cx, cx.db, projectId);
  const out: Record<string, { limit: number; used: number; reserved: number }> = {};
  for (const r of QUOTA_RESOURCES)
    out[r] = { limit: limits[r], used: await quotaUsage(cx.db, projectId, r), reserved: 0 };
  return { body: { quota: out } };
}

export function quotaRoutes(cx: NetworkContext): Route[] {
  const base = '/network/v2.0/quotas';
  return [
    { method: 'GET', path: base, handler: (ctx) => listQuotas(cx, ctx) },
    {
      method: 'POST',
      path: base,
      handler() {
        throw new ApiError(501, 'HTTPNotImplemented', 'POST requests are not supported on this resource.');
      },
    },
    {
      method: 'GET',
      path: `${base}/tenant`,
      handler: (ctx) => ({ body: { tenant: { tenant_id: callerProject(ctx) } } }),
    },
    {
      method: 'GET',
      path: `${base}/project`,
      handler: (ctx) => ({ body: { project: { project_id: callerProject(ctx) } } }),
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      async handler(ctx) {
        authorizeRead(ctx, ctx.params['id']!);
        return { body: { quota: await projectQuotaLimits(cx, cx.db, ctx.params['id']!) } };
      },
    },
    {
      method: 'GET',
      path: `${base}/:id/default`,
      handler(ctx) {
        authorizeRead(ctx, ctx.params['id']!);
        return { body: { quota: defaults(cx) } };
      },
    },
    { method: 'GET', path: `${base}/:id/details`, handler: (ctx) => details(cx, ctx) },
    { method: 'PUT', path: `${base}/:id`, handler: (ctx) => updateQuotas(cx, ctx) },
    {
      method: 'DELETE',
      path: `${base}/:id`,
      async handler(ctx) {
        const projectId = ctx.params['id']!;
        const caller = callerOf(ctx);
        authorizeRule(
          ctx,
          'delete_quota',
          { project_id: caller.projectId, tenant_id: caller.projectId },
          'admin_only',
        );
        await cx.write(async (trx, record) => {
          const gone = await trx
            .deleteFrom('network_quotas')
            .where('project_id', '=', projectId)
            .executeTakeFirst();
          if (Number(gone.numDeletedRows) < 1)
            throw notFound('TenantQuotaNotFound', `Quota for tenant ${projectId} could not be found.`);
          record({ kind: 'quota', id: projectId, action: 'delete', projectId });
        });
        return { status: 204 };
      },
    },
  ];
}
