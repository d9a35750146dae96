// Address and CIDR math for IPv4 and IPv6 as BigInt values (parsing strictly as neutron-lib's validators do).
import ipaddr from 'ipaddr.js';

export type IpVersion = 4 | 6;

export interface Ip {
  version: IpVersion;
  value: bigint;
}

export interface Net {
  version: IpVersion;
  /** The network address (host bits cleared). */
  network: bigint;
  prefixlen: number;
}

export const bits = (v: IpVersion): number => (v === 4 ? 32 : 128);

/** A v4 dotted quad without leading zeros, or a v6 address without zone; undefined when not an address. */
export function parseIp(s: unknown): Ip | undefined {
  if (typeof s !== 'string' || s !== s.trim() || s === '') return undefined;
  if (!s.includes(':')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
    const a = ipaddr.IPv4.parse(s);
    if (a.toString() !== s) return undefined;
    return { version: 4, value: BigInt(a.octets.reduce((acc, o) => acc * 256 + o, 0)) };
  }
  if (s.includes('%') || !ipaddr.IPv6.isValid(s)) return undefined;
  const a = ipaddr.IPv6.parse(s);
  let v = 0n;
  for (const p of a.parts) v = (v << 16n) | BigInt(p);
  return { version: 6, value: v };
}

export function formatIp(ip: Ip): string {
  if (ip.version === 4) {
    const v = Number(ip.value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const parts: number[] = [];
  for (let i = 7; i >= 0; i--) parts.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

/** The canonical text of an address string (v6 compressed), or the input when it does not parse. */
export function canonicalIp(s: string): string {
  const ip = parseIp(s);
  return ip ? formatIp(ip) : s;
}

function mask(version: IpVersion, prefixlen: number): bigint {
  const total = bits(version);
  return ((1n << BigInt(total)) - 1n) ^ ((1n << BigInt(total - prefixlen)) - 1n);
}

/** "addr/len" → the network (host bits cleared) and the address as given; undefined when malformed. */
export function parseCidr(s: unknown): { net: Net; given: Ip } | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return undefined;
  const prefixlen = Number(lenText);
  if (prefixlen > bits(ip.version)) return undefined;
  return {
    net: { version: ip.version, network: ip.value & mask(ip.version, prefixlen), prefixlen },
    given: ip,
  };
}

export function formatCidr(n: Net): string {
  return `${formatIp({ version: n.version, value: n.network })}/${n.prefixlen}`;
}

/** A CIDR string in canonical form (network address, compressed v6), or the input when it does not parse. */
export function canonicalCidr(s: string): string {
  const c = parseCidr(s);
  return c ? formatCidr(c.net) : s;
}

export function lastOf(n: Net): bigint {
  return n.network | ((1n << BigInt(bits(n.version) - n.prefixlen)) - 1n);
}

export function contains(n: Net, ip: Ip): boolean {
  return ip.version === n.version && ip.value >= n.network && ip.value <= lastOf(n);
}

export function overlaps(a: Net, b: Net): boolean {
  return a.version === b.version && a.network <= lastOf(b) && b.network <= lastOf(a);
}

/** neutron-lib's validate_subnet: the reason a CIDR string is not acceptable, or undefined. */
export function subnetReason(s: unknown): string | undefined {
  if (typeof s !== 'string') return `'${String(s)}' is not a valid IP subnet`;
  const c = parseCidr(s.includes('/') ? s : `${s}/${s.includes(':') ? 128 : 32}`);
  if (!c) return `'${s}' is not a valid IP subnet`;
  if (!s.includes('/') || (c.net.version === 4 && `${formatIp(c.given)}/${c.net.prefixlen}` !== s))
    return `'${s}' isn't a recognized IP subnet cidr, '${formatCidr(c.net)}' is recommended`;
  return undefined;
}

/** neutron-lib's validate_ip_address reason, or undefined. */
export function ipReason(s: unknown): string | undefined {
  return parseIp(s)
    ? undefined
    : `'${typeof s === 'string' ? s : JSON.stringify(s)}' is not a valid IP address`;
}

/** A MAC "aa:bb:cc:dd:ee:ff" as 6 bytes. */
export function macBytes(mac: string): number[] {
  return mac.split(/[:-]/).map((h) => Number.parseInt(h, 16));
}

/** The modified EUI-64 address of a MAC in a /64 (RFC 4291), as Neutron's SLAAC addresses. */
export function eui64(n: Net, mac: string): Ip {
  const b = macBytes(mac);
  const iid = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  let v = 0n;
  for (const x of iid) v = (v << 8n) | BigInt(x);
  return { version: 6, value: n.network | v };
}

/** Whether an address has the EUI-64 ff:fe marker in its interface id. */
export function isEui64(ip: Ip): boolean {
  return ip.version === 6 && ((ip.value >> 24n) & 0xffffn) === 0xfffen;
}

export interface IpRange {
  first: bigint;
  last: bigint;
}

/** Ranges minus one address. */
export function removeFromRanges(ranges: IpRange[], v: bigint): IpRange[] {
  const out: IpRange[] = [];
  for (const r of ranges) {
    if (v < r.first || v > r.last) out.push(r);
    else {
      if (r.first < v) out.push({ first: r.first, last: v - 1n });
      if (v < r.last) out.push({ first: v + 1n, last: r.last });
    }
  }
  return out;
}

export function isMulticast(n: Net): boolean {
  return n.version === 4 ? n.network >> 28n === 0xen : n.network >> 120n === 0xffn;
}

export function isLoopback(n: Net): boolean {
  return n.version === 4 ? n.network >> 24n === 127n : n.network === 1n && n.prefixlen === 128;
}
