// One security group rule as an nftables match (protocols by name or number, ICMP type/code, remote prefix or group).
import type { DpSecurityGroupRule } from '../desired-state.ts';
import { ipVersionOf, ipv4NetworkAddress, prefixLength } from '../ip-math.ts';

/** Neutron's protocol names (neutron_lib constants.IP_PROTOCOL_MAP) and their numbers. */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};

/** Protocols whose header starts with 16-bit source and destination ports. */
const PORTED = new Set([6, 17, 33, 132, 136]);

/** The IP protocol number a rule matches, undefined for any; ICMP on IPv6 means ICMPv6 (as Neutron's drivers do). */
export function protocolNumber(protocol: string | undefined, ethertype: 'IPv4' | 'IPv6'): number | undefined {
  if (protocol === undefined || protocol === '' || protocol === 'any') return undefined;
  const p = protocol.toLowerCase();
  const n = /^\d+$/.test(p) ? Number(p) : PROTOCOL_NUMBERS[p];
  if (n === undefined) throw new Error(`unknown protocol ${protocol}`);
  if (ethertype === 'IPv6' && n === 1) return 58;
  return n;
}

/** The name of the set holding a remote group's member addresses of one family. */
export function remoteGroupSet(groupId: string, version: 4 | 6): string {
  return `rg${version}-${groupId}`;
}

/**
 * The match part of a rule (no verdict), or undefined when it can never match (remote prefix of the other family).
 * Ingress rules match the remote on the source, egress on the destination.
 */
export function ruleMatch(rule: DpSecurityGroupRule): string | undefined {
  const v6 = rule.ethertype === 'IPv6';
  const ipKw = v6 ? 'ip6' : 'ip';
  const side = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  const parts = [`meta nfproto ${v6 ? 'ipv6' : 'ipv4'}`];
  if (rule.remoteIpPrefix) {
    if ((ipVersionOf(rule.remoteIpPrefix) === 6) !== v6) return undefined;
    const len = prefixLength(rule.remoteIpPrefix);
    if (len !== 0) {
      const addr = v6 ? rule.remoteIpPrefix.split('/')[0] : ipv4NetworkAddress(rule.remoteIpPrefix);
      parts.push(`${ipKw} ${side} ${addr}/${len}`);
    }
  } else if (rule.remoteGroupId) {
    parts.push(`${ipKw} ${side} @${remoteGroupSet(rule.remoteGroupId, v6 ? 6 : 4)}`);
  }
  const proto = protocolNumber(rule.protocol, rule.ethertype);
  if (proto !== undefined) {
    parts.push(`meta l4proto ${proto}`);
    const { portRangeMin: min, portRangeMax: max } = rule;
    if (proto === 1 || proto === 58) {
      const kw = proto === 1 ? 'icmp' : 'icmpv6';
      if (min !== undefined && min !== null) parts.push(`${kw} type ${min}`);
      if (min !== undefined && min !== null && max !== undefined && max !== null)
        parts.push(`${kw} code ${max}`);
    } else if (PORTED.has(proto) && (min !== undefined || max !== undefined)) {
      const lo = min ?? 1;
      const hi = max ?? 65535;
      if (!(lo <= 1 && hi >= 65535)) parts.push(`th dport ${lo === hi ? lo : `${lo}-${hi}`}`);
    }
  }
  return parts.join(' ');
}

/** A rule's identity for "was this allowance removed" (conntrack cleanup), independent of the rule id. */
export function ruleKey(rule: DpSecurityGroupRule): string {
  return JSON.stringify([
    rule.direction,
    rule.ethertype,
    protocolNumber(rule.protocol, rule.ethertype) ?? null,
    rule.portRangeMin ?? null,
    rule.portRangeMax ?? null,
    rule.remoteIpPrefix ?? null,
    rule.remoteGroupId ?? null,
  ]);
}
