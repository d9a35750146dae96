// The anti-spoofing table of a network namespace (table bridge monostack-portsec): a port sends only as its
// (MAC, IP) pairs.
import type { DpPort } from '../desired-state.ts';
import { macIpPairs } from './mac-ip-pairs.ts';
import { filteredPorts } from './sg-table.ts';

/**
 * Stateless per-port checks on frames entering the bridge from the port's device: source MAC, and the (MAC,
 * address) pair of IPv4, ARP and IPv6 senders (an allowed address pair's address only with its own MAC; the
 * unspecified address allowed for DHCP and DAD), no router advertisements. `deviceOf` gives
 * the device name on the bridge. Returns undefined when no port needs it.
 */
export function renderPortSecurityTable(
  ports: DpPort[],
  deviceOf: (p: DpPort) => string,
): string | undefined {
  const guarded = filteredPorts(ports).sort((a, b) => a.id.localeCompare(b.id));
  if (!guarded.length) return undefined;
  let sets = '';
  let chains = '';
  const jumps: string[] = [];
  for (const port of guarded) {
    const pairs = macIpPairs(port);
    const macs = [
      ...new Set([port.macAddress, ...port.allowedAddressPairs.flatMap((a) => a.macAddress ?? [])]),
    ].map((m) => m.toLowerCase());
    sets += `  set m4-${port.id} { type ether_addr . ipv4_addr; flags interval; elements = { ${pairs.v4.join(', ')} } }\n`;
    sets += `  set m6-${port.id} { type ether_addr . ipv6_addr; flags interval; elements = { ${pairs.v6.join(', ')} } }\n`;
    jumps.push(`    iifname "${deviceOf(port)}" jump ps-${port.id}`);
    chains +=
      `  chain ps-${port.id} {\n` +
      `    ether saddr != { ${macs.join(', ')} } counter drop\n` +
      `    ether type ip ether saddr . ip saddr != @m4-${port.id} counter drop\n` +
      `    ether type arp arp saddr ether . arp saddr ip != @m4-${port.id} counter drop\n` +
      `    ether type ip6 ether saddr . ip6 saddr != @m6-${port.id} counter drop\n` +
      `    ether type ip6 icmpv6 type nd-router-advert counter drop\n` +
      '  }\n';
  }
  const prerouting =
    '  chain prerouting {\n' +
    '    type filter hook prerouting priority filter; policy accept;\n' +
    jumps.map((l) => `${l}\n`).join('') +
    '  }\n';
  return sets + chains + prerouting;
}
