// The security-group table of a network namespace (table inet monostack): per-port chains keyed on addresses, stateful or not.
import type { DpPort, DpSecurityGroup, DpSecurityGroupRule } from '../desired-state.ts';
import { ipVersionOf, linkLocalOf } from '../ip-math.ts';
import { remoteGroupSet, ruleKey, ruleMatch } from './sg-rules.ts';

/** The ports whose traffic the security groups filter: VM ports with port security on. */
export function filteredPorts(ports: DpPort[]): DpPort[] {
  return ports.filter((p) => p.portSecurityEnabled && !p.deviceOwner.startsWith('network:'));
}

/** A port's own addresses per family (fixed IPs, allowed address pairs, and the IPv6 link-local of its MACs). */
export function portAddresses(port: DpPort): { v4: string[]; v6: string[] } {
  const all = [...port.fixedIps.map((f) => f.ipAddress), ...port.allowedAddressPairs.map((a) => a.ipAddress)];
  const v4 = unique(all.filter((a) => ipVersionOf(a) === 4));
  const macs = unique([port.macAddress, ...port.allowedAddressPairs.flatMap((a) => a.macAddress ?? [])]);
  const v6 = unique([...all.filter((a) => ipVersionOf(a) === 6), ...macs.map((m) => linkLocalOf(m))]);
  return { v4, v6 };
}

/** The rules in force on a port, from all its groups (duplicates once). */
export function portRules(port: DpPort, groups: Map<string, DpSecurityGroup>): DpSecurityGroupRule[] {
  const seen = new Set<string>();
  const out: DpSecurityGroupRule[] = [];
  for (const id of port.securityGroupIds)
    for (const r of groups.get(id)?.rules ?? []) {
      const k = ruleKey(r);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(r);
      }
    }
  return out;
}

/**
 * Neutron's stateless groups (stateful=false): a port whose groups are all stateless has its traffic untracked, so
 * only the rules as written pass packets, both ways (a reply needs a rule of its own).
 */
export function isStateless(port: DpPort, groups: Map<string, DpSecurityGroup>): boolean {
  const mine = port.securityGroupIds.map((id) => groups.get(id));
  return mine.length > 0 && mine.every((g) => g !== undefined && !g.stateful);
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function setDecl(name: string, version: 4 | 6, elements: string[]): string {
  const type = version === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const elems = elements.length ? ` elements = { ${elements.join(', ')} }` : '';
  return `  set ${name} { type ${type}; flags interval; auto-merge;${elems} }\n`;
}

const INGRESS_ALWAYS = [
  'udp sport 67 udp dport 68 accept',
  'meta nfproto ipv6 udp sport 547 udp dport 546 accept',
  'icmpv6 type { mld-listener-query, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept',
];

const EGRESS_ALWAYS = [
  'udp sport 68 udp dport 67 return',
  'meta nfproto ipv6 udp sport 546 udp dport 547 return',
  'udp sport 67 udp dport 68 drop',
  'meta nfproto ipv6 udp sport 547 udp dport 546 drop',
  'icmpv6 type nd-router-advert drop',
  'icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } return',
];

/**
 * The body of `table inet monostack` for one network. Bridged packets reach the inet forward hook through
 * br_netfilter with the bridge as iif/oif, so a port's chains are entered by its addresses: first the sender's
 * egress chain (returns when allowed), then the receiver's ingress chain (accepts when allowed); both end in drop.
 * Returns undefined when no port on the network is filtered (the table is then removed).
 */
export function renderSecurityGroupTable(
  ports: DpPort[],
  groups: Map<string, DpSecurityGroup>,
): string | undefined {
  const filtered = filteredPorts(ports).sort((a, b) => a.id.localeCompare(b.id));
  if (!filtered.length) return undefined;
  let sets = '';
  let chains = '';
  const egressJumps: string[] = [];
  const ingressJumps: string[] = [];
  const remoteGroups = new Set<string>();
  const notrack: string[] = [];
  for (const port of filtered) {
    const addrs = portAddresses(port);
    const stateless = isStateless(port, groups);
    const rules = portRules(port, groups);
    for (const r of rules) if (r.remoteGroupId && !r.remoteIpPrefix) remoteGroups.add(r.remoteGroupId);
    for (const [version, list] of [
      [4, addrs.v4],
      [6, addrs.v6],
    ] as const) {
      if (!list.length) continue;
      const set = `p${version}-${port.id}`;
      const kw = version === 4 ? 'ip' : 'ip6';
      sets += setDecl(set, version, list);
      egressJumps.push(`    ${kw} saddr @${set} jump out-${port.id}`);
      if (stateless) notrack.push(`    ${kw} saddr @${set} notrack`, `    ${kw} daddr @${set} notrack`);
      ingressJumps.push(`    ${kw} daddr @${set} jump in-${port.id}`);
    }
    const body = (dir: 'ingress' | 'egress', always: string[], verdict: string) => {
      const lines = [...always];
      for (const r of rules) {
        if (r.direction !== dir) continue;
        const m = ruleMatch(r);
        if (m !== undefined) lines.push(`${m} ${verdict}`);
      }
      lines.push('counter drop');
      return lines.map((l) => `    ${l}\n`).join('');
    };
    chains += `  chain out-${port.id} {\n${body('egress', EGRESS_ALWAYS, 'return')}  }\n`;
    chains += `  chain in-${port.id} {\n${body('ingress', INGRESS_ALWAYS, 'accept')}  }\n`;
  }
  for (const gid of [...remoteGroups].sort()) {
    const members = groups.get(gid)?.memberIps ?? [];
    sets += setDecl(remoteGroupSet(gid, 4), 4, unique(members.filter((a) => ipVersionOf(a) === 4)));
    sets += setDecl(remoteGroupSet(gid, 6), 6, unique(members.filter((a) => ipVersionOf(a) === 6)));
  }
  const forward =
    '  chain forward {\n' +
    '    type filter hook forward priority filter; policy accept;\n' +
    '    ct state established,related accept\n' +
    '    ct state invalid drop\n' +
    [...egressJumps, ...ingressJumps].map((l) => `${l}\n`).join('') +
    '  }\n';
  // Before conntrack (priority raw): the stateless ports' packets stay untracked, so `ct state` never accepts them.
  const raw = notrack.length
    ? '  chain untracked {\n' +
      '    type filter hook prerouting priority raw; policy accept;\n' +
      notrack.map((l) => `${l}\n`).join('') +
      '  }\n'
    : '';
  return sets + chains + forward + raw;
}
