// A router's attached ports (interfaces and gateway) and the checks Neutron makes against them: one port per
// subnet, no overlapping CIDRs, extra routes whose next hops are on a connected subnet.
import type { NetworkTrx } from '../context.ts';
import type { SubnetsTable } from '../store/tables-core.ts';
import type { RoutersTable } from '../store/tables-l3.ts';
import { type Db, type L3Port, loadPorts, loadSubnets, OWNER_ROUTER_GATEWAY } from './l3-core.ts';
import { invalidRoutes, routerBadRequest, routerNotFound, routesExhausted } from './l3-errors.ts';
import { cidrContains, cidrsOverlap, ipVersion } from './l3-ip.ts';
import { subnetRowsOfNetwork } from './subnet-rows.ts';

/** Neutron's max_routes. */
export const MAX_ROUTES = 30;

export interface AttachedPort {
  portType: string;
  port: L3Port;
}

export interface Route {
  destination: string;
  nexthop: string;
}

export async function loadRouter(db: Db, id: string): Promise<RoutersTable | undefined> {
  return db.selectFrom('network_routers').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Reads the router inside a write and bumps its revision first: the row lock this takes (PostgreSQL) serialises
 * concurrent changes of one router's ports, routes and gateway, so the checks below cannot race.
 */
export async function lockRouter(
  cx: { nowIso(): string },
  trx: NetworkTrx,
  id: string,
): Promise<RoutersTable> {
  await trx
    .updateTable('network_routers')
    .set((eb) => ({ revision_number: eb('revision_number', '+', 1), updated_at: cx.nowIso() }))
    .where('id', '=', id)
    .execute();
  const row = await loadRouter(trx, id);
  if (!row) throw routerNotFound(id);
  return row;
}

export async function attachedPorts(db: Db, routerId: string): Promise<AttachedPort[]> {
  const rows = await db
    .selectFrom('network_router_ports')
    .select(['port_id', 'port_type'])
    .where('router_id', '=', routerId)
    .orderBy('port_id')
    .execute();
  const ports = await loadPorts(
    db,
    rows.map((r) => r.port_id),
  );
  const out: AttachedPort[] = [];
  for (const r of rows) {
    const port = ports.get(r.port_id);
    if (port) out.push({ portType: r.port_type, port });
  }
  return out;
}

/**
 * Neutron's _check_for_dup_router_subnets: the router may not already have a port on any of `newSubnets`, and their
 * CIDRs may not overlap a subnet it is attached to (all subnets of its gateway's network count).
 */
export async function checkDupRouterSubnets(
  db: Db,
  attached: readonly AttachedPort[],
  newSubnets: readonly SubnetsTable[],
): Promise<void> {
  const newIds = new Set(newSubnets.map((s) => s.id));
  const routerSubnetIds: string[] = [];
  for (const { port, portType } of attached) {
    for (const ip of port.fixedIps) {
      if (newIds.has(ip.subnet_id))
        throw routerBadRequest(`Router already has a port on subnet ${ip.subnet_id}`);
      if (portType === OWNER_ROUTER_GATEWAY || port.device_owner === OWNER_ROUTER_GATEWAY) {
        for (const s of await subnetRowsOfNetwork(db, port.network_id)) routerSubnetIds.push(s.id);
      } else {
        routerSubnetIds.push(ip.subnet_id);
      }
    }
  }
  const existing = await loadSubnets(db, routerSubnetIds);
  for (const sub of existing.values()) {
    for (const s of newSubnets) {
      if (cidrsOverlap(s.cidr, sub.cidr))
        throw routerBadRequest(
          `Cidr ${s.cidr} of subnet ${s.id} overlaps with cidr ${sub.cidr} of subnet ${sub.id}`,
        );
    }
  }
}

/** The CIDRs and addresses of a router's ports (gateway included), for extra route checks. */
export async function routerCidrsAndIps(
  db: Db,
  attached: readonly AttachedPort[],
): Promise<{ cidrs: string[]; ips: string[] }> {
  const subnets = await loadSubnets(
    db,
    attached.flatMap((a) => a.port.fixedIps.map((ip) => ip.subnet_id)),
  );
  const cidrs: string[] = [];
  const ips: string[] = [];
  for (const a of attached) {
    for (const ip of a.port.fixedIps) {
      const s = subnets.get(ip.subnet_id);
      if (s) cidrs.push(s.cidr);
      ips.push(ip.ip_address);
    }
  }
  return { cidrs, ips };
}

/** Neutron's _validate_routes: within max_routes; every next hop on a connected subnet and not the router's own. */
export function validateRoutes(
  routerId: string,
  routes: readonly Route[],
  cidrs: readonly string[],
  ips: readonly string[],
): void {
  if (routes.length > MAX_ROUTES) throw routesExhausted(routerId, MAX_ROUTES);
  for (const r of routes) {
    if (!cidrs.some((c) => cidrContains(c, r.nexthop)))
      throw invalidRoutes(routes, 'the nexthop is not connected with router');
    if (ips.includes(r.nexthop)) throw invalidRoutes(routes, 'the nexthop is used by router');
  }
}

export async function routesOf(db: Db, routerIds: readonly string[]): Promise<Map<string, Route[]>> {
  const out = new Map<string, Route[]>();
  if (routerIds.length === 0) return out;
  const rows = await db
    .selectFrom('network_router_routes')
    .selectAll()
    .where('router_id', 'in', [...new Set(routerIds)])
    .orderBy('destination')
    .orderBy('nexthop')
    .execute();
  for (const r of rows) {
    const list = out.get(r.router_id) ?? [];
    list.push({ destination: r.destination, nexthop: r.nexthop });
    out.set(r.router_id, list);
  }
  return out;
}

/** Replaces a router's extra routes with `routes` (already validated). */
export async function replaceRoutes(
  trx: NetworkTrx,
  routerId: string,
  routes: readonly Route[],
): Promise<void> {
  await trx.deleteFrom('network_router_routes').where('router_id', '=', routerId).execute();
  const seen = new Set<string>();
  const rows = routes
    .filter((r) => {
      const k = `${r.destination} ${r.nexthop}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .map((r) => ({ router_id: routerId, destination: r.destination, nexthop: r.nexthop }));
  if (rows.length > 0) await trx.insertInto('network_router_routes').values(rows).execute();
}

/** Whether a port holds an IPv6 address (one IPv6 router port per network). */
export function hasIpv6(port: L3Port): boolean {
  return port.fixedIps.some((ip) => ipVersion(ip.ip_address) === 6);
}

/** Subnets configured for an external router's RAs cannot be attached (Neutron's _validate_subnet_address_mode). */
export function checkSubnetAddressMode(subnet: SubnetsTable): void {
  if (subnet.ip_version === 6 && subnet.ipv6_ra_mode === null && subnet.ipv6_address_mode !== null)
    throw routerBadRequest(
      `IPv6 subnet ${subnet.id} configured to receive RAs from an external router cannot be added to Neutron Router.`,
    );
}
