// Address checks the L3 area needs (Neutron's validate_ip_address / validate_route_cidr, containment, overlap).
import ipaddr from 'ipaddr.js';

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The reason `v` is not an IP address as Neutron accepts one (dotted quad without leading zeros, or IPv6). */
export function ipAddressError(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.trim() !== v || v === '') return `'${show(v)}' is not a valid IP address`;
  if (v.includes(':')) {
    return ipaddr.IPv6.isValid(v) && !v.includes('%') ? undefined : `'${v}' is not a valid IP address`;
  }
  if (v.split('.').length !== 4 || !ipaddr.IPv4.isValid(v)) return `'${v}' is not a valid IP address`;
  const canonical = ipaddr.IPv4.parse(v).toString();
  if (canonical !== v) return `'${v}' is not an accepted IP address, '${canonical}' is recommended`;
  return undefined;
}

export function ipVersion(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

/** A CIDR with host bits cleared, as netaddr's IPNetwork.cidr renders it. */
export function canonicalCidr(cidr: string): string {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const bytes = addr.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, len - i * 8));
    bytes[i]! &= (0xff << (8 - bitsHere)) & 0xff;
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${len}`;
}

/** The reason `v` is not a route destination (validate_route_cidr). */
export function routeCidrError(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v.includes('/') || !ipaddr.isValidCIDR(v)) {
    if (typeof v === 'string' && !v.includes('/') && ipaddr.isValid(v))
      return `'${v}' is not a recognized CIDR, '${v}/${ipVersion(v) === 6 ? 128 : 32}' is recommended`;
    return `'${show(v)}' is not a valid CIDR`;
  }
  const canonical = canonicalCidr(v);
  if (canonical.split('/')[0] !== ipaddr.parseCIDR(v)[0].toString())
    return `'${v}' is not a recognized CIDR, '${canonical}' is recommended`;
  const [addr] = ipaddr.parseCIDR(v);
  if (addr.range() === 'loopback') return `'${v}' is not a routable CIDR`;
  return undefined;
}

/** Whether an address lies in a CIDR (false across IP versions). */
export function cidrContains(cidr: string, address: string): boolean {
  try {
    const [net, len] = ipaddr.parseCIDR(cidr);
    const ip = ipaddr.parse(address);
    if (ip.kind() !== net.kind()) return false;
    return ip.match(net, len);
  } catch {
    return false;
  }
}

/** Whether two CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  try {
    const [na, la] = ipaddr.parseCIDR(a);
    const [nb, lb] = ipaddr.parseCIDR(b);
    if (na.kind() !== nb.kind()) return false;
    const len = Math.min(la, lb);
    return na.match(nb, len);
  } catch {
    return false;
  }
}

/** Whether an address lies in an inclusive range (same version). */
export function inRange(address: string, start: string, end: string): boolean {
  const toBig = (a: string) =>
    ipaddr
      .parse(a)
      .toByteArray()
      .reduce((n, b) => n * 256n + BigInt(b), 0n);
  try {
    if (ipVersion(address) !== ipVersion(start)) return false;
    const x = toBig(address);
    return x >= toBig(start) && x <= toBig(end);
  } catch {
    return false;
  }
}
