// Address arithmetic the renderers need: CIDR parts, IPv4 netmasks, EUI-64 link-local addresses.
import { isIPv6 } from 'node:net';

export function ipVersionOf(address: string): 4 | 6 {
  return isIPv6(address.split('/')[0] ?? '') ? 6 : 4;
}

export function prefixLength(cidr: string): number {
  const len = cidr.split('/')[1];
  return len === undefined ? (ipVersionOf(cidr) === 6 ? 128 : 32) : Number(len);
}

/** "address/len" of an address in a subnet, e.g. ("10.0.0.5", "10.0.0.0/24") → "10.0.0.5/24". */
export function withPrefix(address: string, subnetCidr: string): string {
  return `${address}/${prefixLength(subnetCidr)}`;
}

export function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function ipv4Netmask(len: number): string {
  return intToIpv4(len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len));
}

/** The network address of an IPv4 CIDR ("10.0.0.7/24" → "10.0.0.0"). */
export function ipv4NetworkAddress(cidr: string): string {
  const [addr = '0.0.0.0', len = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  return intToIpv4(Math.floor(ipv4ToInt(addr) / size) * size);
}

/** The fe80::/64 address the kernel derives from a MAC (EUI-64). */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((h) => Number.parseInt(h, 16));
  const e = [(b[0] ?? 0) ^ 2, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]].map((x) => x ?? 0);
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push((((e[i] ?? 0) << 8) | (e[i + 1] ?? 0)).toString(16));
  return `fe80::${groups.join(':')}`;
}
