// What the data plane needs of security groups: for some groups (and the remote groups their rules name), the
// rules and the member addresses (fixed IPs and allowed address pairs of the ports bound to each group).
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { rulesByGroup } from './sg-store.ts';

export interface DataplaneRule {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  /** A protocol name ('tcp', 'ipv6-icmp', …) or number as text; absent = any. */
  protocol?: string;
  portRangeMin?: number;
  portRangeMax?: number;
  remoteIpPrefix?: string;
  remoteGroupId?: string;
}

export interface DataplaneGroup {
  id: string;
  stateful: boolean;
  rules: DataplaneRule[];
  /** Every address of every port bound to the group (fixed IPs, allowed address pairs), on any host. */
  memberIps: string[];
}

function toRule(r: {
  id: string;
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}): DataplaneRule {
  const out: DataplaneRule = {
    id: r.id,
    direction: r.direction as DataplaneRule['direction'],
    ethertype: r.ethertype as DataplaneRule['ethertype'],
  };
  if (r.protocol !== null) out.protocol = r.protocol;
  if (r.port_range_min !== null) out.portRangeMin = r.port_range_min;
  if (r.port_range_max !== null) out.portRangeMax = r.port_range_max;
  if (r.remote_ip_prefix !== null) out.remoteIpPrefix = r.remote_ip_prefix;
  if (r.remote_group_id !== null) out.remoteGroupId = r.remote_group_id;
  return out;
}

/** Member addresses per group, read through the core area's ports and IP allocations. */
async function memberIps(db: NetworkDb | NetworkTrx, groupIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, Set<string>>(groupIds.map((g) => [g, new Set<string>()]));
  if (groupIds.length === 0) return new Map();
  const fixed = await db
    .selectFrom('network_port_security_groups as b')
    .innerJoin('network_ip_allocations as a', 'a.port_id', 'b.port_id')
    .select(['b.security_group_id', 'a.ip_address'])
    .where('b.security_group_id', 'in', groupIds)
    .execute();
  for (const r of fixed) out.get(r.security_group_id)?.add(r.ip_address);
  const pairs = await db
    .selectFrom('network_port_security_groups as b')
    .innerJoin('network_ports as p', 'p.id', 'b.port_id')
    .select(['b.security_group_id', 'p.allowed_address_pairs'])
    .where('b.security_group_id', 'in', groupIds)
    .where('p.allowed_address_pairs', '!=', '[]')
    .execute();
  for (const r of pairs) {
    let list: { ip_address?: unknown }[] = [];
    try {
      list = JSON.parse(r.allowed_address_pairs) as { ip_address?: unknown }[];
    } catch {
      list = [];
    }
    for (const p of Array.isArray(list) ? list : [])
      if (typeof p.ip_address === 'string') out.get(r.security_group_id)?.add(p.ip_address);
  }
  return new Map([...out].map(([g, s]) => [g, [...s].sort()]));
}

/**
 * The groups (and the remote groups their rules name) with rules and member addresses, for the host agents'
 * desired state. Unknown ids are left out.
 */
export async function securityGroupsForDataplane(
  cx: NetworkContext,
  groupIds: readonly string[],
  db: NetworkDb | NetworkTrx = cx.db,
): Promise<DataplaneGroup[]> {
  const wanted = new Set(groupIds);
  const load = async (ids: string[]): Promise<{ id: string; stateful: number }[]> =>
    ids.length === 0
      ? []
      : db
          .selectFrom('network_security_groups')
          .select(['id', 'stateful'])
          .where('id', 'in', ids)
          .orderBy('id')
          .execute();
  const groups = await load([...wanted]);
  let rules = await rulesByGroup(
    db,
    groups.map((g) => g.id),
  );
  const remotes = new Set<string>();
  for (const list of rules.values())
    for (const r of list)
      if (r.remote_group_id && !wanted.has(r.remote_group_id)) remotes.add(r.remote_group_id);
  if (remotes.size > 0) {
    const extra = await load([...remotes]);
    groups.push(...extra);
    const more = await rulesByGroup(
      db,
      extra.map((g) => g.id),
    );
    rules = new Map([...rules, ...more]);
  }
  const members = await memberIps(
    db,
    groups.map((g) => g.id),
  );
  return groups.map((g) => ({
    id: g.id,
    stateful: g.stateful === 1,
    rules: (rules.get(g.id) ?? []).map(toRule),
    memberIps: members.get(g.id) ?? [],
  }));
}
