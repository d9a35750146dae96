// Subnet rows as the IPAM sees them: parsed CIDR, pools as ranges, IPv6 address modes.
import type { NetworkDb, NetworkTrx } from '../context.ts';
import { compiled } from '../store/compiled.ts';
import type { SubnetsTable } from '../store/tables-core.ts';
import { type IpRange, type Net, parseCidr, parseIp } from './cidr.ts';
import { type Mark, markOf } from './ipam-marks.ts';

export interface SubnetInfo {
  row: SubnetsTable;
  net: Net;
  pools: IpRange[];
  serviceTypes: string[];
  /** The IPAM mark as read with the subnet, in the transaction about to allocate (subnetsOfNetwork withMarks). */
  mark?: Mark;
}

export const AUTO_ADDRESS_MODES = ['slaac', 'dhcpv6-stateless'];
export const ROUTER_INTERFACE_OWNERS = [
  'network:router_interface',
  'network:ha_router_replicated_interface',
  'network:router_interface_distributed',
];
export const ROUTER_PORT_OWNERS = [...ROUTER_INTERFACE_OWNERS, 'network:router_gateway'];
export const DHCP_OWNER = 'network:dhcp';
/** Ports a network delete removes by itself (Neutron's AUTO_DELETE_PORT_OWNERS). */
export const AUTO_DELETE_PORT_OWNERS = [
  DHCP_OWNER,
  'network:distributed',
  'network:floatingip_agent_gateway',
];

/** IPv6 SLAAC or DHCPv6-stateless: addresses come from the MAC (EUI-64), not the pools. */
export function isAutoAddress(
  s: Pick<SubnetsTable, 'ip_version' | 'ipv6_address_mode' | 'ipv6_ra_mode'>,
): boolean {
  if (s.ip_version !== 6) return false;
  return (
    AUTO_ADDRESS_MODES.includes(s.ipv6_address_mode ?? '') ||
    AUTO_ADDRESS_MODES.includes(s.ipv6_ra_mode ?? '')
  );
}

type Parsed = Omit<SubnetInfo, 'row'>;

/** Parsed CIDR, pools and service types by their stored text (read-only, shared by every SubnetInfo of it). */
const parsed = new Map<string, Parsed>();

export function subnetInfo(row: SubnetsTable): SubnetInfo {
  const key = `${row.cidr}|${row.allocation_pools}|${row.service_types}`;
  let p = parsed.get(key);
  if (!p) {
    p = Object.freeze({
      net: Object.freeze(parseCidr(row.cidr)!.net),
      pools: Object.freeze(
        (JSON.parse(row.allocation_pools) as { start: string; end: string }[]).map((r) =>
          Object.freeze({ first: parseIp(r.start)!.value, last: parseIp(r.end)!.value }),
        ),
      ) as IpRange[],
      serviceTypes: Object.freeze(JSON.parse(row.service_types) as string[]) as string[],
    });
    if (parsed.size >= 1000) parsed.clear();
    parsed.set(key, p);
  }
  return { row, net: p.net, pools: p.pools, serviceTypes: p.serviceTypes };
}

const subnetsWithMarks = compiled(1, (db, networkId: string) =>
  db
    .selectFrom('network_subnets as s')
    .leftJoin('network_ipam_marks as m', 'm.subnet_id', 's.id')
    .selectAll('s')
    .select(['m.next_free as mark_next_free', 'm.version as mark_version'])
    .where('s.network_id', '=', networkId)
    .orderBy('s.created_at')
    .orderBy('s.id'),
);

/** The network's subnet rows, oldest first. */
export function subnetRowsOfNetwork(db: NetworkDb | NetworkTrx, networkId: string): Promise<SubnetsTable[]> {
  return db
    .selectFrom('network_subnets')
    .selectAll()
    .where('network_id', '=', networkId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * A network's subnets in creation order. `withMarks`: with their IPAM marks, read in the same statement (only for a
 * transaction that allocates before releasing any address: a release would lower a mark read earlier).
 */
export async function subnetsOfNetwork(
  db: NetworkDb | NetworkTrx,
  networkId: string,
  opts: { withMarks?: boolean } = {},
): Promise<SubnetInfo[]> {
  if (!opts.withMarks) return (await subnetRowsOfNetwork(db, networkId)).map(subnetInfo);
  const rows = await subnetsWithMarks(db, networkId);
  // The row keeps the two mark columns (unused beyond this point).
  return rows.map((row) => {
    const info = subnetInfo(row);
    info.mark = markOf(row.mark_next_free, row.mark_version);
    return info;
  });
}

/**
 * The subnets a port of this owner may take addresses from (Neutron's service-type filter): subnets without
 * service types, those naming the owner, and for DHCP ports any DHCP-enabled subnet; service-typed ones first.
 */
export function candidateSubnets(subnets: SubnetInfo[], deviceOwner: string): SubnetInfo[] {
  const ok = subnets.filter(
    (s) =>
      s.serviceTypes.length === 0 ||
      s.serviceTypes.includes(deviceOwner) ||
      (deviceOwner === DHCP_OWNER && s.row.enable_dhcp === 1),
  );
  return [...ok].sort((a, b) => Number(a.serviceTypes.length === 0) - Number(b.serviceTypes.length === 0));
}
