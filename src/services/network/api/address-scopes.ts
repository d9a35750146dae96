// /v2.0/address-scopes: scopes subnet pools join so their prefixes stay unique (shared by admins only).
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { notFound } from '../errors.ts';
import type { AddressScopesTable } from '../store/tables-core.ts';
import { bool, callerOf, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import {
  enforceAttrPolicies,
  parseCreate,
  parseUpdate,
  type ResourceSpec,
  showBody,
  standardAttrs,
  toBoolean,
  toInt,
  view,
} from './resource.ts';
import { checkRevision } from './standard-attrs.ts';

export const addressScopeSpec: ResourceSpec = {
  member: 'address_scope',
  collection: 'address_scopes',
  attrs: {
    ...standardAttrs({ description: false }),
    shared: { post: true, put: true, default: false, convert: toBoolean, policy: true },
    ip_version: {
      post: true,
      put: false,
      convert: toInt,
      validate: (v: number) => (v === 4 || v === 6 ? undefined : `${v} is not in [4, 6]`),
    },
  },
};

export function renderScope(s: AddressScopesTable): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.project_id,
    project_id: s.project_id,
    shared: bool(s.shared),
    ip_version: s.ip_version,
  };
}

export function scopeNotFound(id: string): Error {
  return notFound('AddressScopeNotFound', `Address scope ${id} could not be found.`);
}

/** A scope the caller may use (own, shared, or admin), or AddressScopeNotFound. */
export async function findUsableScope(
  cx: NetworkContext,
  ctx: RouteContext,
  id: string,
  db: NetworkDb | NetworkTrx = cx.db,
): Promise<AddressScopesTable> {
  const row = await db
    .selectFrom('network_address_scopes')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  const caller = callerOf(ctx);
  if (!row || !(caller.isAdmin || row.shared === 1 || row.project_id === caller.projectId))
    throw scopeNotFound(id);
  return row;
}

export function addressScopeRoutes(cx: NetworkContext): Route[] {
  const base = '/network/v2.0/address-scopes';
  return [
    {
      method: 'POST',
      path: base,
      async handler(ctx) {
        const { items } = parseCreate(addressScopeSpec, callerOf(ctx), ctx.body);
        const item = items[0]!;
        const v = item.values;
        ctx.authorize('create_address_scope', targetOf(v));
        enforceAttrPolicies(ctx, addressScopeSpec, 'create', item, targetOf(v));
        const now = cx.nowIso();
        const row: AddressScopesTable = {
          id: cx.ids.uuid(),
          project_id: v['project_id'],
          name: v['name'],
          description: '',
          created_at: now,
          updated_at: now,
          revision_number: 1,
          ip_version: v['ip_version'],
          shared: v['shared'] ? 1 : 0,
        };
        await cx.write(async (trx, record) => {
          await trx.insertInto('network_address_scopes').values(row).execute();
          record({ kind: 'address_scope', id: row.id, action: 'create', projectId: row.project_id });
        });
        return { status: 201, body: { address_scope: view(ctx, addressScopeSpec, renderScope(row)) } };
      },
    },
    {
      method: 'GET',
      path: base,
      async handler(ctx) {
        const q = parseListQuery(ctx, addressScopeSpec);
        const caller = callerOf(ctx);
        const rows = (
          await cx.db
            .selectFrom('network_address_scopes')
            .selectAll()
            .orderBy('created_at')
            .orderBy('id')
            .execute()
        ).filter((r) => caller.isAdmin || r.shared === 1 || r.project_id === caller.projectId);
        return listBody(ctx, addressScopeSpec, rows.map(renderScope), q);
      },
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      async handler(ctx) {
        return showBody(
          ctx,
          addressScopeSpec,
          renderScope(await findUsableScope(cx, ctx, ctx.params['id']!)),
        );
      },
    },
    {
      method: 'PUT',
      path: `${base}/:id`,
      async handler(ctx) {
        const item = parseUpdate(addressScopeSpec, callerOf(ctx), ctx.body);
        const cur = await findUsableScope(cx, ctx, ctx.params['id']!);
        const target = targetOf({ ...renderScope(cur), ...item.values });
        ctx.authorize('update_address_scope', target);
        enforceAttrPolicies(ctx, addressScopeSpec, 'update', item, target);
        checkRevision(ctx, cur.revision_number);
        const v = item.values;
        if (cur.shared === 1 && v['shared'] === false)
          throw new ApiError(
            400,
            'AddressScopeUpdateError',
            `Unable to update address scope ${cur.id} : Shared address scope can't be unshared.`,
          );
        const set: Partial<AddressScopesTable> = {};
        if (v['name'] !== undefined) set.name = v['name'];
        if (v['shared'] !== undefined) set.shared = v['shared'] ? 1 : 0;
        const next = { ...cur, ...set, updated_at: cx.nowIso(), revision_number: cur.revision_number + 1 };
        await cx.write(async (trx, record) => {
          await trx
            .updateTable('network_address_scopes')
            .set({ ...set, updated_at: next.updated_at, revision_number: next.revision_number })
            .where('id', '=', cur.id)
            .execute();
          record({ kind: 'address_scope', id: cur.id, action: 'update', projectId: cur.project_id });
        });
        return { body: { address_scope: view(ctx, addressScopeSpec, renderScope(next)) } };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:id`,
      async handler(ctx) {
        const cur = await findUsableScope(cx, ctx, ctx.params['id']!);
        ctx.authorize('delete_address_scope', targetOf(renderScope(cur)));
        await cx.write(async (trx, record) => {
          const used = await trx
            .selectFrom('network_subnetpools')
            .select('id')
            .where('address_scope_id', '=', cur.id)
            .executeTakeFirst();
          if (used)
            throw new ApiError(
              409,
              'AddressScopeInUse',
              `Unable to complete operation on address scope ${cur.id}. There are one or more subnet pools in use on the address scope.`,
            );
          await trx.deleteFrom('network_address_scopes').where('id', '=', cur.id).execute();
          record({ kind: 'address_scope', id: cur.id, action: 'delete', projectId: cur.project_id });
        });
        return { status: 204 };
      },
    },
  ];
}
