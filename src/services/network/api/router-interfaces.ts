// PUT /v2.0/routers/{id}/add_router_interface and remove_router_interface (by subnet or by port), and the
// extraroute-atomic actions add_extraroutes / remove_extraroutes.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import { loadNetwork, visiblePort, visibleSubnet } from '../domain/l3-core.ts';
import { routerBadRequest } from '../domain/l3-errors.ts';
import { networkAccess } from '../domain/network-access.ts';
import { writeRetrying } from '../domain/port-write.ts';
import {
  addInterfaceByPort,
  addInterfaceBySubnet,
  type InterfaceInfo,
  removeInterfaceByPort,
  removeInterfaceBySubnet,
} from '../domain/router-interfaces.ts';
import {
  attachedPorts,
  type Route as ExtraRoute,
  lockRouter,
  replaceRoutes,
  routerCidrsAndIps,
  routesOf,
  validateRoutes,
} from '../domain/router-ports.ts';
import { badRequest } from '../errors.ts';
import { callerOf, targetOf } from './common.ts';
import { view } from './resource.ts';
import { findVisibleRouter, renderRouters } from './routers.ts';
import { routerSpec, routesError } from './routers-attrs.ts';

/** Neutron's _validate_interface_info. */
function interfaceInfo(body: unknown, forRemoval: boolean): { portId?: string; subnetId?: string } {
  const b =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const byPort = 'port_id' in b;
  const bySubnet = 'subnet_id' in b;
  if (!byPort && !bySubnet) throw routerBadRequest('Either subnet_id or port_id must be specified');
  for (const key of ['port_id', 'subnet_id']) {
    if (!(key in b)) continue;
    const v = b[key];
    if (
      typeof v !== 'string' ||
      !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v)
    )
      throw routerBadRequest(`'${typeof v === 'string' ? v : JSON.stringify(v)}' is not a valid UUID`);
  }
  if (!forRemoval && byPort && bySubnet) throw routerBadRequest('Cannot specify both subnet-id and port-id');
  return {
    ...(byPort ? { portId: b['port_id'] as string } : {}),
    ...(bySubnet ? { subnetId: b['subnet_id'] as string } : {}),
  };
}

async function addInterface(cx: NetworkContext, ctx: RouteContext): Promise<InterfaceInfo> {
  const caller = callerOf(ctx);
  const router = await findVisibleRouter(cx, caller, ctx.params['id']!);
  ctx.authorize('add_router_interface', targetOf({ ...router }));
  const req = interfaceInfo(ctx.body, false);
  if (req.portId) {
    await visiblePort(cx, caller, req.portId);
  } else {
    const subnet = await visibleSubnet(cx, caller, req.subnetId!);
    if (!caller.isAdmin && subnet.project_id !== caller.projectId) {
      // Another project's subnet: only through an RBAC share naming this project (not a global share).
      const net = await loadNetwork(cx.db, subnet.network_id);
      const access = await networkAccess(cx, caller);
      if (!net || net.shared === 1 || !access.sharedWithCaller(net))
        throw routerBadRequest(
          `Cannot add interface to router because subnet ${subnet.id} is not owned by project making the request`,
        );
    }
  }
  return writeRetrying(cx, async (trx, record) => {
    const r = await lockRouter(cx, trx, router.id);
    const out = req.portId
      ? await addInterfaceByPort(cx, trx, r, req.portId, caller, record)
      : await addInterfaceBySubnet(cx, trx, r, req.subnetId!, record);
    record({ kind: 'router', id: r.id, action: 'update', projectId: r.project_id });
    return out;
  });
}

async function removeInterface(cx: NetworkContext, ctx: RouteContext): Promise<InterfaceInfo> {
  const caller = callerOf(ctx);
  const router = await findVisibleRouter(cx, caller, ctx.params['id']!);
  ctx.authorize('remove_router_interface', targetOf({ ...router }));
  const req = interfaceInfo(ctx.body, true);
  if (!req.portId) await visibleSubnet(cx, caller, req.subnetId!);
  return writeRetrying(cx, async (trx, record) => {
    const r = await lockRouter(cx, trx, router.id);
    const out = req.portId
      ? await removeInterfaceByPort(cx, trx, r, req.portId, req.subnetId, record)
      : await removeInterfaceBySubnet(cx, trx, r, req.subnetId!, record);
    record({ kind: 'router', id: r.id, action: 'update', projectId: r.project_id });
    return out;
  });
}

/** Union (add) or difference (remove) of extra routes, validated as a whole like an update. */
async function editRoutes(cx: NetworkContext, ctx: RouteContext, op: 'add' | 'remove') {
  const caller = callerOf(ctx);
  const router = await findVisibleRouter(cx, caller, ctx.params['id']!);
  // Neutron's add_extraroutes / remove_extraroutes default to the same rule as update_router.
  ctx.authorize('update_router', targetOf({ ...router }));
  const body = ctx.body as { router?: { routes?: unknown } } | undefined;
  const given = body?.router?.routes;
  if (!body?.router || given === undefined) throw badRequest("Unable to find 'router' in request body");
  const reason = routesError(given);
  if (reason) throw badRequest(`Invalid input for routes. Reason: ${reason}.`);
  const routes = given as ExtraRoute[];
  await writeRetrying(cx, async (trx, record) => {
    const r = await lockRouter(cx, trx, router.id);
    const old = (await routesOf(trx, [r.id])).get(r.id) ?? [];
    const key = (x: ExtraRoute) => `${x.destination} ${x.nexthop}`;
    const next =
      op === 'add'
        ? [...old, ...routes.filter((x) => !old.some((o) => key(o) === key(x)))]
        : old.filter((o) => !routes.some((x) => key(x) === key(o)));
    const { cidrs, ips } = await routerCidrsAndIps(trx, await attachedPorts(trx, r.id));
    validateRoutes(r.id, next, cidrs, ips);
    await replaceRoutes(trx, r.id, next);
    record({ kind: 'router', id: r.id, action: 'update', projectId: r.project_id });
  });
  const row = await findVisibleRouter(cx, caller, router.id);
  return { body: { router: view(ctx, routerSpec, (await renderRouters(cx.db, [row]))[0]!) } };
}

export function routerInterfaceRoutes(cx: NetworkContext): Route[] {
  return [
    {
      method: 'PUT',
      path: '/network/v2.0/routers/:id/add_router_interface',
      handler: async (ctx) => ({ body: await addInterface(cx, ctx) }),
    },
    {
      method: 'PUT',
      path: '/network/v2.0/routers/:id/remove_router_interface',
      handler: async (ctx) => ({ body: await removeInterface(cx, ctx) }),
    },
    {
      method: 'PUT',
      path: '/network/v2.0/routers/:id/add_extraroutes',
      handler: (ctx) => editRoutes(cx, ctx, 'add'),
    },
    {
      method: 'PUT',
      path: '/network/v2.0/routers/:id/remove_extraroutes',
      handler: (ctx) => editRoutes(cx, ctx, 'remove'),
    },
  ];
}
