// Changing a port's fixed IPs (Neutron's _get_changed_ips_for_port): keep what is asked again, allocate what is
// new, release what is no longer asked for, leaving automatic (SLAAC) addresses unless the port is a router's.
import type { NetworkTrx } from '../context.ts';
import type { PortsTable } from '../store/tables-core.ts';
import { isEui64, parseIp } from './cidr.ts';
import {
  type Allocation,
  allocate,
  allocationsOf,
  type FixedIpRequest,
  type Plan,
  planAddresses,
} from './ipam.ts';
import { releaseAddresses } from './ipam-marks.ts';
import { isAutoAddress, ROUTER_INTERFACE_OWNERS, subnetsOfNetwork } from './subnet-rows.ts';

const ROUTER_SNAT = [...ROUTER_INTERFACE_OWNERS, 'network:router_centralized_snat'];

/** Replaces a port's addresses by the requested list; returns whether anything changed. */
export async function updatePortIps(
  trx: NetworkTrx,
  port: PortsTable,
  requested: FixedIpRequest[],
  attempt: number,
): Promise<boolean> {
  const subnets = await subnetsOfNetwork(trx, port.network_id);
  const byId = new Map(subnets.map((s) => [s.row.id, s]));
  const original = (await allocationsOf(trx, [port.id])).get(port.id) ?? [];
  // Resolve (and validate) each request to a subnet, without allocating yet.
  const plans = await planAddresses(trx, port.network_id, subnets, port.device_owner, requested);
  const origByIp = new Map(original.map((a) => [a.ipAddress, a]));
  const keep: Allocation[] = [];
  const add: Plan[] = [];
  for (const p of plans) {
    if (p.kind !== 'specific') continue;
    const text = [...origByIp.keys()].find(
      (k) => parseIp(k)?.value === p.ip.value && p.subnet.row.id === origByIp.get(k)!.subnetId,
    );
    if (text !== undefined) {
      keep.push(origByIp.get(text)!);
      origByIp.delete(text);
    } else add.push(p);
  }
  const bySubnet = new Map<string, Allocation[]>();
  for (const a of origByIp.values()) bySubnet.set(a.subnetId, [...(bySubnet.get(a.subnetId) ?? []), a]);
  const removeCandidates: Allocation[] = [];
  for (const p of plans) {
    if (p.kind === 'specific') continue;
    const sid = p.kind === 'any' ? p.subnets[0]!.row.id : p.subnet.row.id;
    const list = bySubnet.get(sid);
    if (!list || list.length === 0) {
      add.push(p);
      continue;
    }
    const orig = list.pop()!;
    if (p.kind === 'any' && isEui64(parseIp(orig.ipAddress)!)) {
      add.push(p);
      removeCandidates.push(orig);
    } else keep.push(orig);
  }
  const remove: Allocation[] = [];
  for (const a of [...[...bySubnet.values()].flat(), ...removeCandidates]) {
    const s = byId.get(a.subnetId);
    const required = ROUTER_SNAT.includes(port.device_owner) || !s || !isAutoAddress(s.row);
    if (required) remove.push(a);
    else keep.push(a);
  }
  for (const a of remove)
    await releaseAddresses(
      trx,
      await trx
        .deleteFrom('network_ip_allocations')
        .where('network_id', '=', port.network_id)
        .where('ip_address', '=', a.ipAddress)
        .where('port_id', '=', port.id)
        .returning(['subnet_id', 'ip_address'])
        .execute(),
    );
  if (add.length > 0)
    await allocate(trx, { id: port.id, networkId: port.network_id, mac: port.mac_address }, add, attempt);
  return add.length > 0 || remove.length > 0;
}
