// The L3 area's view of core resources (ports with their addresses, subnets, networks), read inside its own
// transactions, and the few port changes routers make (taking over a port as a router interface).
import type { Caller } from '../api/resource.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { notFound } from '../errors.ts';
import type { NetworksTable, PortsTable, SubnetsTable } from '../store/tables-core.ts';
import { releaseAddresses } from './ipam-marks.ts';
import { networkAccess } from './network-access.ts';

export type Db = NetworkDb | NetworkTrx;

export const OWNER_ROUTER_INTERFACE = 'network:router_interface';
export const OWNER_ROUTER_GATEWAY = 'network:router_gateway';
export const OWNER_FLOATINGIP = 'network:floatingip';
export const OWNER_DHCP = 'network:dhcp';
/** Ports whose life the L3 area manages (Neutron's router_device_owners). */
export const L3_OWNERS = new Set([
  OWNER_ROUTER_INTERFACE,
  OWNER_ROUTER_GATEWAY,
  OWNER_FLOATINGIP,
  'network:ha_router_replicated_interface',
]);

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface L3Port extends PortsTable {
  fixedIps: FixedIp[];
}

export function portNotFound(id: string): Error {
  return notFound('PortNotFound', `Port ${id} could not be found.`);
}

export function subnetNotFound(id: string): Error {
  return notFound('SubnetNotFound', `Subnet ${id} could not be found.`);
}

export function networkNotFound(id: string): Error {
  return notFound('NetworkNotFound', `Network ${id} could not be found.`);
}

/** Ports by id with their addresses (sorted by address so answers are stable). */
export async function loadPorts(db: Db, ids: readonly string[]): Promise<Map<string, L3Port>> {
  const out = new Map<string, L3Port>();
  const uniq = [...new Set(ids)];
  if (uniq.length === 0) return out;
  const rows = await db.selectFrom('network_ports').selectAll().where('id', 'in', uniq).execute();
  for (const r of rows) out.set(r.id, { ...r, fixedIps: [] });
  const ips = await db
    .selectFrom('network_ip_allocations')
    .select(['port_id', 'subnet_id', 'ip_address'])
    .where('port_id', 'in', uniq)
    .orderBy('ip_address')
    .execute();
  for (const ip of ips)
    out.get(ip.port_id)?.fixedIps.push({ subnet_id: ip.subnet_id, ip_address: ip.ip_address });
  return out;
}

export async function loadPort(db: Db, id: string): Promise<L3Port | undefined> {
  return (await loadPorts(db, [id])).get(id);
}

export async function loadSubnets(db: Db, ids: readonly string[]): Promise<Map<string, SubnetsTable>> {
  const uniq = [...new Set(ids)];
  if (uniq.length === 0) return new Map();
  const rows = await db.selectFrom('network_subnets').selectAll().where('id', 'in', uniq).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

export async function loadNetwork(db: Db, id: string): Promise<NetworksTable | undefined> {
  return db.selectFrom('network_networks').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A network the caller may see (NetworkNotFound otherwise), as Neutron's _get_network in the caller's context. */
export async function visibleNetwork(cx: NetworkContext, caller: Caller, id: string): Promise<NetworksTable> {
  const n = await loadNetwork(cx.db, id);
  if (!n) throw networkNotFound(id);
  if (!(await networkAccess(cx, caller)).visible(n)) throw networkNotFound(id);
  return n;
}

/** A subnet the caller may see: on a network it may see (SubnetNotFound otherwise). */
export async function visibleSubnet(cx: NetworkContext, caller: Caller, id: string): Promise<SubnetsTable> {
  const s = (await loadSubnets(cx.db, [id])).get(id);
  if (!s) throw subnetNotFound(id);
  if (caller.isAdmin || s.project_id === caller.projectId) return s;
  const n = await loadNetwork(cx.db, s.network_id);
  if (!n || !(await networkAccess(cx, caller)).visible(n)) throw subnetNotFound(id);
  return s;
}

/** A port the caller may see: its own, or on a network it owns (PortNotFound otherwise). */
export async function visiblePort(cx: NetworkContext, caller: Caller, id: string): Promise<L3Port> {
  const p = await loadPort(cx.db, id);
  if (!p) throw portNotFound(id);
  if (caller.isAdmin || p.project_id === caller.projectId) return p;
  const n = await loadNetwork(cx.db, p.network_id);
  if (n && n.project_id === caller.projectId) return p;
  throw portNotFound(id);
}

/** Sets a port's device (a router taking a port over as its interface), bumping its revision. */
export async function setPortDevice(
  cx: NetworkContext,
  trx: NetworkTrx,
  port: PortsTable,
  deviceId: string,
  deviceOwner: string,
): Promise<void> {
  await trx
    .updateTable('network_ports')
    .set({
      device_id: deviceId,
      device_owner: deviceOwner,
      updated_at: cx.nowIso(),
      revision_number: port.revision_number + 1,
    })
    .where('id', '=', port.id)
    .execute();
}

/** Drops one subnet's address from a port (a router interface port that spans several subnets). */
export async function dropPortAddress(
  cx: NetworkContext,
  trx: NetworkTrx,
  port: PortsTable,
  subnetId: string,
): Promise<void> {
  await releaseAddresses(
    trx,
    await trx
      .deleteFrom('network_ip_allocations')
      .where('port_id', '=', port.id)
      .where('subnet_id', '=', subnetId)
      .returning(['subnet_id', 'ip_address'])
      .execute(),
  );
  await trx
    .updateTable('network_ports')
    .set({ updated_at: cx.nowIso(), revision_number: port.revision_number + 1 })
    .where('id', '=', port.id)
    .execute();
}
