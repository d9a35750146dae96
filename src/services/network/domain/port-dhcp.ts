// The network's DHCP port (device_owner network:dhcp), kept in step with its DHCP-enabled subnets, and
// EUI-64 addresses for existing ports when a SLAAC/DHCPv6-stateless subnet appears.
import { createHash } from 'node:crypto';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { eui64, formatIp } from './cidr.ts';
import { allocate, type Plan } from './ipam.ts';
import { releaseAddresses } from './ipam-marks.ts';
import { createPort, deletePort, type Record_, touchPort } from './port-create.ts';
import {
  DHCP_OWNER,
  isAutoAddress,
  ROUTER_INTERFACE_OWNERS,
  type SubnetInfo,
  subnetsOfNetwork,
} from './subnet-rows.ts';

let hostId: string | undefined;

/** The id of the host serving DHCP (Neutron: a uuid derived from the DHCP agent's host name). */
export function setDhcpHostId(id: string): void {
  hostId = id;
}

function dhcpHostId(cx: NetworkContext): string {
  if (hostId) return hostId;
  const h = createHash('sha1').update(`monostack-dhcp:${cx.config.prefix}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** device_id of a network's DHCP port: 'dhcp' + host id + '-' + network id. */
export function dhcpDeviceId(cx: NetworkContext, networkId: string): string {
  return `dhcp${dhcpHostId(cx)}-${networkId}`;
}

/** Creates, updates or deletes the network's DHCP port so it holds one address on each DHCP subnet. */
export async function syncDhcpPort(
  cx: NetworkContext,
  trx: NetworkTrx,
  networkId: string,
  record?: Record_,
  attempt = 0,
): Promise<void> {
  const subnets = await subnetsOfNetwork(trx, networkId);
  const dhcp = subnets.filter((s) => s.row.enable_dhcp === 1);
  const port = await trx
    .selectFrom('network_ports')
    .selectAll()
    .where('network_id', '=', networkId)
    .where('device_owner', '=', DHCP_OWNER)
    .orderBy('created_at')
    .executeTakeFirst();
  if (dhcp.length === 0) {
    if (port) await deletePort(cx, trx, port.id, record);
    return;
  }
  if (!port) {
    const network = await trx
      .selectFrom('network_networks')
      .select(['project_id'])
      .where('id', '=', networkId)
      .executeTakeFirst();
    if (!network) return;
    await createPort(
      cx,
      trx,
      {
        projectId: network.project_id,
        networkId,
        deviceOwner: DHCP_OWNER,
        deviceId: dhcpDeviceId(cx, networkId),
        fixedIps: dhcp.map((s) => ({ subnetId: s.row.id })),
      },
      record,
      attempt,
    );
    return;
  }
  const held = await trx
    .selectFrom('network_ip_allocations')
    .select(['subnet_id', 'ip_address'])
    .where('port_id', '=', port.id)
    .execute();
  const dhcpIds = new Set(dhcp.map((s) => s.row.id));
  const stale = held.filter((h) => !dhcpIds.has(h.subnet_id));
  const heldIds = new Set(held.map((h) => h.subnet_id));
  const plans: Plan[] = dhcp
    .filter((s) => !heldIds.has(s.row.id))
    .map((s) => (isAutoAddress(s.row) ? { kind: 'eui64', subnet: s } : { kind: 'any', subnets: [s] }));
  for (const h of stale)
    await releaseAddresses(
      trx,
      await trx
        .deleteFrom('network_ip_allocations')
        .where('network_id', '=', networkId)
        .where('ip_address', '=', h.ip_address)
        .returning(['subnet_id', 'ip_address'])
        .execute(),
    );
  if (plans.length > 0)
    await allocate(trx, { id: port.id, networkId, mac: port.mac_address }, plans, attempt);
  if (stale.length > 0 || plans.length > 0) await touchPort(cx, trx, port, record);
}

/** A new SLAAC/DHCPv6-stateless subnet gives every port of the network (not router interfaces) its address. */
export async function addAutoAddresses(
  cx: NetworkContext,
  trx: NetworkTrx,
  subnet: SubnetInfo,
  record?: Record_,
): Promise<void> {
  const ports = await trx
    .selectFrom('network_ports')
    .selectAll()
    .where('network_id', '=', subnet.row.network_id)
    .execute();
  const taken = new Set(
    (
      await trx
        .selectFrom('network_ip_allocations')
        .select('ip_address')
        .where('network_id', '=', subnet.row.network_id)
        .execute()
    ).map((r) => r.ip_address),
  );
  for (const p of ports) {
    if (
      ROUTER_INTERFACE_OWNERS.includes(p.device_owner) ||
      p.device_owner === 'network:router_centralized_snat'
    )
      continue;
    const ip = formatIp(eui64(subnet.net, p.mac_address));
    if (taken.has(ip)) continue;
    await trx
      .insertInto('network_ip_allocations')
      .values({ network_id: p.network_id, ip_address: ip, subnet_id: subnet.row.id, port_id: p.id })
      .execute();
    taken.add(ip);
    await touchPort(cx, trx, p, record);
  }
}
