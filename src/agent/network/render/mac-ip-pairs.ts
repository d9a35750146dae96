// The (MAC, address) pairs a port may send from, as Neutron's allowed address pairs mean them: its own MAC with its
// fixed IPs, each pair's MAC (the port's when the pair names none) with that pair's address or CIDR, every allowed
// MAC with its link-local address and with the unspecified address (DHCP, duplicate address detection).
import ipaddr from 'ipaddr.js';
import type { DpPort } from '../desired-state.ts';
import { linkLocalOf } from '../ip-math.ts';

export interface MacIpPairs {
  /** nft set elements "mac . cidr" for `ether_addr . ipv4_addr` (interval). */
  v4: string[];
  v6: string[];
}

interface Prefix {
  mac: string;
  addr: ipaddr.IPv4 | ipaddr.IPv6;
  len: number;
}

function prefixOf(mac: string, address: string): Prefix | undefined {
  try {
    const [addr, len] = address.includes('/')
      ? ipaddr.parseCIDR(address)
      : (() => {
          const a = ipaddr.parse(address);
          return [a, a.kind() === 'ipv4' ? 32 : 128] as const;
        })();
    const net =
      addr.kind() === 'ipv4'
        ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${len}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${len}`);
    return { mac: mac.toLowerCase(), addr: net, len };
  } catch {
    return undefined;
  }
}

/**
 * Per MAC, the prefixes not already covered by a wider one of the same MAC (interval sets of concatenations
 * reject overlapping elements).
 */
function elements(prefixes: Prefix[]): string[] {
  const kept: Prefix[] = [];
  for (const p of [...prefixes].sort((a, b) => a.len - b.len)) {
    const covered = kept.some(
      (k) => k.mac === p.mac && k.addr.kind() === p.addr.kind() && p.addr.match(k.addr, k.len),
    );
    if (!covered) kept.push(p);
  }
  return kept
    .map(
      (p) =>
        `${p.mac} . ${p.addr.toString()}${p.len === (p.addr.kind() === 'ipv4' ? 32 : 128) ? '' : `/${p.len}`}`,
    )
    .sort();
}

export function macIpPairs(port: DpPort): MacIpPairs {
  const own = port.macAddress.toLowerCase();
  const prefixes: Prefix[] = [];
  const add = (mac: string, address: string) => {
    const p = prefixOf(mac, address);
    if (p) prefixes.push(p);
  };
  for (const f of port.fixedIps) add(own, f.ipAddress);
  for (const a of port.allowedAddressPairs) add(a.macAddress ?? own, a.ipAddress);
  const macs = [
    ...new Set([own, ...port.allowedAddressPairs.map((a) => (a.macAddress ?? own).toLowerCase())]),
  ];
  for (const m of macs) {
    add(m, '0.0.0.0');
    add(m, '::');
    add(m, linkLocalOf(m));
  }
  return {
    v4: elements(prefixes.filter((p) => p.addr.kind() === 'ipv4')),
    v6: elements(prefixes.filter((p) => p.addr.kind() === 'ipv6')),
  };
}
