// remote_ip_prefix as Neutron reads it (netaddr.IPNetwork): an address with an optional prefix length (or IPv4
// netmask), kept with its host bits; normalized_cidr is the same prefix with the host bits cleared.
import ipaddr from 'ipaddr.js';

export interface IpPrefix {
  version: 4 | 6;
  /** The address as given, in canonical text (IPv6 compressed, lower case). */
  address: string;
  prefixlen: number;
}

function parseAddress(s: string): { version: 4 | 6; text: string } | undefined {
  if (s.includes(':')) {
    if (s.includes('%') || !ipaddr.IPv6.isValid(s)) return undefined;
    return { version: 6, text: ipaddr.IPv6.parse(s).toRFC5952String() };
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  return { version: 4, text: ipaddr.IPv4.parse(s).toString() };
}

function maskLength(s: string): number | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  return ipaddr.IPv4.parse(s).prefixLengthFromSubnetMask() ?? undefined;
}

/** Parses a prefix; undefined when it is not one. */
export function parsePrefix(input: string): IpPrefix | undefined {
  const slash = input.indexOf('/');
  const addr = parseAddress(slash < 0 ? input : input.slice(0, slash));
  if (!addr) return undefined;
  const max = addr.version === 4 ? 32 : 128;
  if (slash < 0) return { version: addr.version, address: addr.text, prefixlen: max };
  const len = input.slice(slash + 1);
  let prefixlen: number | undefined;
  if (/^\d{1,3}$/.test(len)) prefixlen = Number.parseInt(len, 10);
  else if (addr.version === 4) prefixlen = maskLength(len);
  if (prefixlen === undefined || prefixlen > max) return undefined;
  return { version: addr.version, address: addr.text, prefixlen };
}

export function formatPrefix(p: IpPrefix): string {
  return `${p.address}/${p.prefixlen}`;
}

/** The prefix with its host bits cleared ("10.0.0.1/24" → "10.0.0.0/24"). */
export function normalizedCidr(prefix: string): string | null {
  const p = parsePrefix(prefix);
  if (!p) return null;
  const net =
    p.version === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(formatPrefix(p)).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(formatPrefix(p)).toRFC5952String();
  return `${net}/${p.prefixlen}`;
}
