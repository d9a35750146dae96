// /v2.0/routers: create (with an external gateway), list, show, update (gateway, extra routes), delete.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import { type Db, loadPorts, visibleNetwork } from '../domain/l3-core.ts';
import { routerBadRequest, routerInUse, routerNotFound } from '../domain/l3-errors.ts';
import { writeRetrying } from '../domain/port-write.ts';
import { countQuotaIn, enforceQuota } from '../domain/quota-check.ts';
import { removeGatewayPort, updateGateway } from '../domain/router-gateway.ts';
import {
  attachedPorts,
  loadRouter,
  lockRouter,
  replaceRoutes,
  routerCidrsAndIps,
  routesOf,
  validateRoutes,
} from '../domain/router-ports.ts';
import type { NetworksTable } from '../store/tables-core.ts';
import type { RoutersTable } from '../store/tables-l3.ts';
import { bool, callerOf, json, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import { type Caller, enforceAttrPolicies, parseCreate, parseUpdate, showBody, view } from './resource.ts';
import { enforceGatewayPolicies, gatewayOf, type RequestedGateway, routerSpec } from './routers-attrs.ts';
import { checkRevision, dropTags, loadTags } from './standard-attrs.ts';
import type { TaggableResource } from './tags.ts';

countQuotaIn('router', 'network_routers');

export async function renderRouters(db: Db, rows: RoutersTable[]): Promise<Record<string, unknown>[]> {
  const ids = rows.map((r) => r.id);
  const gwIds = rows.flatMap((r) => (r.gw_port_id ? [r.gw_port_id] : []));
  const [tags, routes, gwPorts] = await Promise.all([
    loadTags(db, 'routers', ids),
    routesOf(db, ids),
    loadPorts(db, gwIds),
  ]);
  return rows.map((r) => {
    const gw = r.gw_port_id ? gwPorts.get(r.gw_port_id) : undefined;
    return {
      id: r.id,
      name: r.name,
      tenant_id: r.project_id,
      project_id: r.project_id,
      admin_state_up: bool(r.admin_state_up),
      status: r.status,
      external_gateway_info: gw
        ? {
            network_id: gw.network_id,
            enable_snat: bool(r.enable_snat),
            external_fixed_ips: gw.fixedIps.map((ip) => ({
              subnet_id: ip.subnet_id,
              ip_address: ip.ip_address,
            })),
          }
        : null,
      routes: routes.get(r.id) ?? [],
      availability_zone_hints: json<string[]>(r.availability_zone_hints, []),
      availability_zones: ['nova'],
      distributed: false,
      ha: false,
      flavor_id: null,
      description: r.description,
      tags: tags.get(r.id) ?? [],
      created_at: r.created_at,
      updated_at: r.updated_at,
      revision_number: r.revision_number,
    };
  });
}

/** A router the caller may see (its project's, or any for admins), or RouterNotFound. */
export async function findVisibleRouter(
  cx: NetworkContext,
  caller: Caller,
  id: string,
): Promise<RoutersTable> {
  const row = await loadRouter(cx.db, id);
  if (!row || (!caller.isAdmin && row.project_id !== caller.projectId)) throw routerNotFound(id);
  return row;
}

/** The gateway's network as the caller sees it: missing → NetworkNotFound, not external → 400. */
async function externalNetworkFor(
  cx: NetworkContext,
  caller: Caller,
  info: RequestedGateway | null,
): Promise<NetworksTable | undefined> {
  if (!info) return undefined;
  const n = await visibleNetwork(cx, caller, info.network_id);
  if (n.router_external !== 1) throw routerBadRequest(`Network ${n.id} is not an external network`);
  return n;
}

async function renderOne(cx: NetworkContext, ctx: RouteContext, id: string) {
  const row = await loadRouter(cx.db, id);
  if (!row) throw routerNotFound(id);
  return view(ctx, routerSpec, (await renderRouters(cx.db, [row]))[0]!);
}

async function createRouter(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const item = parseCreate(routerSpec, caller, ctx.body).items[0]!;
  const v = item.values;
  const target = targetOf(v);
  ctx.authorize('create_router', target);
  enforceAttrPolicies(ctx, routerSpec, 'create', item, target);
  enforceGatewayPolicies(ctx, 'create', v['external_gateway_info'], target);
  const info = gatewayOf(v['external_gateway_info']);
  const network = await externalNetworkFor(cx, caller, info);
  const id = cx.ids.uuid();
  await writeRetrying(cx, async (trx, record) => {
    await enforceQuota(cx, trx, v['project_id'], 'router');
    const now = cx.nowIso();
    const row: RoutersTable = {
      id,
      project_id: v['project_id'],
      name: v['name'],
      description: v['description'],
      created_at: now,
      updated_at: now,
      revision_number: 1,
      admin_state_up: v['admin_state_up'] ? 1 : 0,
      status: 'ACTIVE',
      gw_port_id: null,
      enable_snat: 1,
      availability_zone_hints: JSON.stringify(v['availability_zone_hints']),
    };
    await trx.insertInto('network_routers').values(row).execute();
    if (info) await updateGateway(cx, trx, row, info, network, record);
    record({ kind: 'router', id, action: 'create', projectId: row.project_id });
  });
  return { status: 201, body: { router: await renderOne(cx, ctx, id) } };
}

async function updateRouter(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const item = parseUpdate(routerSpec, caller, ctx.body);
  const before = await findVisibleRouter(cx, caller, ctx.params['id']!);
  const target = targetOf({ ...(await renderRouters(cx.db, [before]))[0]!, ...item.values });
  ctx.authorize('update_router', target);
  enforceAttrPolicies(ctx, routerSpec, 'update', item, target);
  const v = item.values;
  const gatewayGiven = 'external_gateway_info' in v;
  if (gatewayGiven) enforceGatewayPolicies(ctx, 'update', v['external_gateway_info'], target);
  const info = gatewayGiven ? gatewayOf(v['external_gateway_info']) : null;
  const network = await externalNetworkFor(cx, caller, info);
  await writeRetrying(cx, async (trx, record) => {
    const cur = await lockRouter(cx, trx, before.id);
    checkRevision(ctx, cur.revision_number - 1);
    const set: Partial<RoutersTable> = {};
    if (v['name'] !== undefined) set.name = v['name'];
    if (v['description'] !== undefined) set.description = v['description'];
    if (v['admin_state_up'] !== undefined) set.admin_state_up = v['admin_state_up'] ? 1 : 0;
    if (Object.keys(set).length > 0)
      await trx.updateTable('network_routers').set(set).where('id', '=', cur.id).execute();
    if (v['routes'] !== undefined) {
      const { cidrs, ips } = await routerCidrsAndIps(trx, await attachedPorts(trx, cur.id));
      validateRoutes(cur.id, v['routes'], cidrs, ips);
      await replaceRoutes(trx, cur.id, v['routes']);
    }
    if (gatewayGiven) await updateGateway(cx, trx, cur, info, network, record);
    record({ kind: 'router', id: cur.id, action: 'update', projectId: cur.project_id });
  });
  return { body: { router: await renderOne(cx, ctx, before.id) } };
}

async function deleteRouter(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const before = await findVisibleRouter(cx, caller, ctx.params['id']!);
  ctx.authorize('delete_router', targetOf({ ...before }));
  await writeRetrying(cx, async (trx, record) => {
    const cur = await lockRouter(cx, trx, before.id);
    checkRevision(ctx, cur.revision_number - 1);
    const attached = await attachedPorts(trx, cur.id);
    const interfaces = attached.filter((a) => a.port.id !== cur.gw_port_id);
    if (interfaces.length > 0)
      throw routerInUse(cur.id, `has ports still attached: ${interfaces.map((a) => a.port.id).join(', ')}`);
    const gw = attached.find((a) => a.port.id === cur.gw_port_id);
    if (gw) await removeGatewayPort(cx, trx, cur, gw, record);
    await trx.deleteFrom('network_router_routes').where('router_id', '=', cur.id).execute();
    await trx.deleteFrom('network_router_ports').where('router_id', '=', cur.id).execute();
    await trx.deleteFrom('network_routers').where('id', '=', cur.id).execute();
    await dropTags(trx, 'routers', cur.id);
    record({ kind: 'router', id: cur.id, action: 'delete', projectId: cur.project_id });
  });
  return { status: 204 };
}

export function routerRoutes(cx: NetworkContext): Route[] {
  return [
    { method: 'POST', path: '/network/v2.0/routers', handler: (ctx) => createRouter(cx, ctx) },
    {
      method: 'GET',
      path: '/network/v2.0/routers',
      async handler(ctx) {
        const q = parseListQuery(ctx, routerSpec);
        const caller = callerOf(ctx);
        let query = cx.db.selectFrom('network_routers').selectAll().orderBy('created_at').orderBy('id');
        if (!caller.isAdmin) query = query.where('project_id', '=', caller.projectId ?? '');
        return listBody(ctx, routerSpec, await renderRouters(cx.db, await query.execute()), q);
      },
    },
    {
      method: 'GET',
      path: '/network/v2.0/routers/:id',
      async handler(ctx) {
        const row = await findVisibleRouter(cx, callerOf(ctx), ctx.params['id']!);
        return showBody(ctx, routerSpec, (await renderRouters(cx.db, [row]))[0]!);
      },
    },
    { method: 'PUT', path: '/network/v2.0/routers/:id', handler: (ctx) => updateRouter(cx, ctx) },
    { method: 'DELETE', path: '/network/v2.0/routers/:id', handler: (ctx) => deleteRouter(cx, ctx) },
  ];
}

export const routerTaggable: TaggableResource = {
  collection: 'routers',
  async find(cx, ctx, id) {
    const row = await loadRouter(cx.db, id);
    const caller = callerOf(ctx);
    if (!row || (!caller.isAdmin && row.project_id !== caller.projectId)) return undefined;
    return { projectId: row.project_id };
  },
  notFound: routerNotFound,
  table: 'network_routers',
};
