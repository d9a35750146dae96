// Subnet rows as the IPAM sees them: parsed CIDR, pools as ranges, IPv6 address modes.
import type { NetworkDb, NetworkTrx } from '../context.ts';
import type { SubnetsTable } from '../store/tables-core.ts';
import { type IpRange, type Net, parseCidr, parseIp } from './cidr.ts';

export interface SubnetInfo {
  row: SubnetsTable;
  net: Net;
  pools: IpRange[];
  serviceTypes: string[];
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

export function subnetInfo(row: SubnetsTable): SubnetInfo {
  const net = parseCidr(row.cidr)!.net;
  const pools = (JSON.parse(row.allocation_pools) as { start: string; end: string }[]).map((p) => ({
    first: parseIp(p.start)!.value,
    last: parseIp(p.end)!.value,
  }));
  return { row, net, pools, serviceTypes: JSON.parse(row.service_types) as string[] };
}

export async function subnetsOfNetwork(db: NetworkDb | NetworkTrx, networkId: string): Promise<SubnetInfo[]> {
  const rows = await db
    .selectFrom('network_subnets')
    .selectAll()
    .where('network_id', '=', networkId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(subnetInfo);
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
