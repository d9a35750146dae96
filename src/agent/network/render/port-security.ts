// The anti-spoofing table of a network namespace (table bridge monostack-portsec): a port sends only as its MAC/IPs.
import type { DpPort } from '../desired-state.ts';
import { filteredPorts, portAddresses } from './sg-table.ts';

/**
 * Stateless per-port checks on frames entering the bridge from the port's device: source MAC, IPv4/ARP/IPv6
 * source addresses (the unspecified address allowed for DHCP and DAD), no router advertisements. `deviceOf` gives
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
    const { v4, v6 } = portAddresses(port);
    const macs = [
      ...new Set([port.macAddress, ...port.allowedAddressPairs.flatMap((a) => a.macAddress ?? [])]),
    ].map((m) => m.toLowerCase());
    sets += `  set s4-${port.id} { type ipv4_addr; flags interval; auto-merge; elements = { ${['0.0.0.0', ...v4].join(', ')} } }\n`;
    sets += `  set s6-${port.id} { type ipv6_addr; flags interval; auto-merge; elements = { ${['::', ...v6].join(', ')} } }\n`;
    jumps.push(`    iifname "${deviceOf(port)}" jump ps-${port.id}`);
    chains +=
      `  chain ps-${port.id} {\n` +
      `    ether saddr != { ${macs.join(', ')} } counter drop\n` +
      `    ether type ip ip saddr != @s4-${port.id} counter drop\n` +
      `    ether type arp arp saddr ether != { ${macs.join(', ')} } counter drop\n` +
      `    ether type arp arp saddr ip != @s4-${port.id} counter drop\n` +
      `    ether type ip6 ip6 saddr != @s6-${port.id} counter drop\n` +
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
