// The IP protocols security group rules accept (Neutron's IP_PROTOCOL_MAP), by name and number, and the protocol
// facts rule validation needs (which take ports, which are ICMP, which are IPv6-only).

/** Names in Neutron's order (its error message lists them so, after None). */
export const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['ah', 51],
  ['dccp', 33],
  ['egp', 8],
  ['esp', 50],
  ['gre', 47],
  ['hopopt', 0],
  ['icmp', 1],
  ['igmp', 2],
  ['ip', 0],
  ['ipip', 4],
  ['ipv6-encap', 41],
  ['ipv6-frag', 44],
  ['ipv6-icmp', 58],
  ['icmpv6', 58],
  ['ipv6-nonxt', 59],
  ['ipv6-opts', 60],
  ['ipv6-route', 43],
  ['ospf', 89],
  ['pgm', 113],
  ['rsvp', 46],
  ['sctp', 132],
  ['tcp', 6],
  ['udp', 17],
  ['udplite', 136],
  ['vrrp', 112],
]);

/** Protocols whose rules may carry a port range. */
export const PORT_PROTOCOLS = ['dccp', 'sctp', 'tcp', 'udp', 'udplite'] as const;
const PORT_NUMBERS = new Set([33, 132, 6, 17, 136]);

/** Protocols (names and numbers) that exist only over IPv6. */
const IPV6_ONLY = new Set([
  'ipv6-encap',
  'ipv6-frag',
  'ipv6-icmp',
  'icmpv6',
  'ipv6-nonxt',
  'ipv6-opts',
  'ipv6-route',
  '41',
  '44',
  '58',
  '59',
  '60',
  '43',
]);

/** The text of Neutron's supported-values list: "[None, 'ah', …]". */
export const SUPPORTED_PROTOCOLS_TEXT = `[None, ${[...PROTOCOL_NUMBERS.keys()].map((p) => `'${p}'`).join(', ')}]`;

/** A stored protocol (name or number text) as its number; undefined for null. */
export function protocolNumber(protocol: string | null): number | undefined {
  if (protocol === null) return undefined;
  const n = PROTOCOL_NUMBERS.get(protocol);
  return n ?? Number.parseInt(protocol, 10);
}

export function takesPorts(protocol: string): boolean {
  const n = protocolNumber(protocol);
  return n !== undefined && PORT_NUMBERS.has(n);
}

export function isIcmp(protocol: string): boolean {
  const n = protocolNumber(protocol);
  return n === 1 || n === 58;
}

export function isIpv6Only(protocol: string): boolean {
  return IPV6_ONLY.has(protocol);
}

/** Neutron's canonical IPv6 ICMP: 'icmp'/'icmpv6' become 'ipv6-icmp' and '1' becomes '58' on IPv6 rules. */
export function canonicalProtocol(protocol: string | null, ethertype: string): string | null {
  if (ethertype !== 'IPv6' || protocol === null) return protocol;
  if (protocol === 'icmp' || protocol === 'icmpv6') return 'ipv6-icmp';
  if (protocol === '1') return '58';
  return protocol;
}
