// A router's external gateway (Neutron's _update_router_gw_info with ext-gw-mode): the network:router_gateway
// port on an external network, its addresses, and whether internal subnets are SNATed through it.
import type { Change } from '../../../platform/db/writer.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import type { NetworksTable } from '../store/tables-core.ts';
import type { RoutersTable } from '../store/tables-l3.ts';
import { OWNER_ROUTER_GATEWAY } from './l3-core.ts';
import { gatewayInUseByFloatingIp, routerBadRequest } from './l3-errors.ts';
import { createPortIn, deletePortIn } from './port-ops.ts';
import {
  type AttachedPort,
  attachedPorts,
  checkDupRouterSubnets,
  routerCidrsAndIps,
  routesOf,
  validateRoutes,
} from './router-ports.ts';
import { subnetRowsOfNetwork } from './subnet-rows.ts';

export interface ExternalFixedIp {
  subnet_id?: string;
  ip_address?: string;
}

/** external_gateway_info as requested (null or {} clears the gateway). */
export interface GatewayInfo {
  network_id?: string;
  enable_snat?: boolean;
  external_fixed_ips?: ExternalFixedIp[];
}

type Record = (c: Change) => void;

function externalIpsChanged(gw: AttachedPort | undefined, extIps: readonly ExternalFixedIp[]): boolean {
  if (extIps.length === 0) return false;
  if (!gw) return true;
  const have = new Set(gw.port.fixedIps.map((ip) => ip.subnet_id));
  const want = new Set(extIps.flatMap((ip) => (ip.subnet_id ? [ip.subnet_id] : [])));
  if (have.size !== want.size || [...want].some((s) => !have.has(s))) return true;
  const haveIps = new Set(gw.port.fixedIps.map((ip) => ip.ip_address));
  const wantIps = new Set(extIps.flatMap((ip) => (ip.ip_address ? [ip.ip_address] : [])));
  return haveIps.size !== wantIps.size || [...wantIps].some((a) => !haveIps.has(a));
}

/** Removes the router's gateway port; refused while floating IPs are NATed through the router. */
export async function removeGatewayPort(
  cx: NetworkContext,
  trx: NetworkTrx,
  router: RoutersTable,
  gw: AttachedPort,
  record: Record,
): Promise<void> {
  const fip = await trx
    .selectFrom('network_floatingips')
    .select('id')
    .where('router_id', '=', router.id)
    .executeTakeFirst();
  if (fip) throw gatewayInUseByFloatingIp(router.id, gw.port.network_id);
  await trx.updateTable('network_routers').set({ gw_port_id: null }).where('id', '=', router.id).execute();
  await trx.deleteFrom('network_router_ports').where('port_id', '=', gw.port.id).execute();
  await deletePortIn(cx, trx, gw.port.id, record);
}

async function createGatewayPort(
  cx: NetworkContext,
  trx: NetworkTrx,
  router: RoutersTable,
  networkId: string,
  extIps: readonly ExternalFixedIp[],
  record: Record,
): Promise<string> {
  const port = await createPortIn(
    cx,
    trx,
    {
      // Neutron gives the gateway port no project: it is hidden from the router's owner.
      projectId: '',
      networkId,
      name: '',
      deviceId: router.id,
      deviceOwner: OWNER_ROUTER_GATEWAY,
      adminStateUp: true,
      ...(extIps.length > 0
        ? {
            fixedIps: extIps.map((ip) => ({
              ...(ip.subnet_id ? { subnetId: ip.subnet_id } : {}),
              ...(ip.ip_address ? { ipAddress: ip.ip_address } : {}),
            })),
          }
        : {}),
    },
    record,
  );
  await trx
    .insertInto('network_router_ports')
    .values({ port_id: port.id, router_id: router.id, port_type: OWNER_ROUTER_GATEWAY })
    .execute();
  await trx.updateTable('network_routers').set({ gw_port_id: port.id }).where('id', '=', router.id).execute();
  return port.id;
}

/**
 * Sets, moves, re-addresses or clears the gateway of `router` (read under lock in this transaction).
 * `network` is the requested external network, already found visible and external by the caller.
 */
export async function updateGateway(
  cx: NetworkContext,
  trx: NetworkTrx,
  router: RoutersTable,
  info: GatewayInfo | null,
  network: NetworksTable | undefined,
  record: Record,
): Promise<void> {
  const attached = await attachedPorts(trx, router.id);
  const gw = attached.find((a) => a.port.id === router.gw_port_id);
  const networkId = info?.network_id;
  const extIps = info?.external_fixed_ips ?? [];
  const newSubnets = networkId ? await subnetRowsOfNetwork(trx, networkId) : [];
  for (const ip of extIps) {
    if (ip.ip_address && newSubnets.some((s) => s.gateway_ip && s.gateway_ip === ip.ip_address))
      throw routerBadRequest(`External IP ${ip.ip_address} is the same as the gateway IP`);
  }
  // Extra routes must stay reachable through the remaining ports and the new gateway's subnets.
  const routes = (await routesOf(trx, [router.id])).get(router.id) ?? [];
  if (routes.length > 0) {
    const others = attached.filter((a) => a.port.id !== router.gw_port_id);
    const { cidrs, ips } = await routerCidrsAndIps(trx, others);
    validateRoutes(router.id, routes, [...cidrs, ...newSubnets.map((s) => s.cidr)], ips);
  }
  const enableSnat =
    info && 'enable_snat' in info && info.enable_snat !== undefined ? info.enable_snat : true;
  await trx
    .updateTable('network_routers')
    .set({ enable_snat: enableSnat ? 1 : 0 })
    .where('id', '=', router.id)
    .execute();

  if (gw && networkId && gw.port.network_id === networkId) {
    // Same network: only new addresses make a new port (the old one goes first so its addresses are free).
    if (!externalIpsChanged(gw, extIps)) return;
    await trx.updateTable('network_routers').set({ gw_port_id: null }).where('id', '=', router.id).execute();
    await trx.deleteFrom('network_router_ports').where('port_id', '=', gw.port.id).execute();
    await deletePortIn(cx, trx, gw.port.id, record);
    await createGatewayPort(cx, trx, router, networkId, extIps, record);
    return;
  }
  if (gw) await removeGatewayPort(cx, trx, router, gw, record);
  if (!networkId || !network) return;
  const remaining = attached.filter((a) => a.port.id !== gw?.port.id);
  await checkDupRouterSubnets(trx, remaining, newSubnets);
  await createGatewayPort(cx, trx, router, networkId, extIps, record);
}
