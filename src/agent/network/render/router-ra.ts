// Router advertisements of a router namespace (dnsmasq in RA mode): which interfaces advertise what, and its argv.
import type { DpNetwork, DpRouter, Ipv6Mode } from '../desired-state.ts';
import { prefixLength } from '../ip-math.ts';
import { routerIfName } from '../naming.ts';
import { dnsmasqBase } from './dnsmasq-config.ts';

/** One advertised prefix: the router interface (qr-) on the subnet and the subnet's ipv6_ra_mode. */
export interface RaContext {
  device: string;
  cidr: string;
  subnetId: string;
  mode: Ipv6Mode;
  mtu: number;
}

/**
 * dnsmasq's mode per Neutron ra_mode: slaac → A flag only; dhcpv6-stateless → A + O; dhcpv6-stateful → M + O
 * (no A: addresses come from the DHCP namespace's DHCPv6).
 */
const DNSMASQ_MODE: Record<Ipv6Mode, string> = {
  slaac: 'ra-only',
  'dhcpv6-stateless': 'ra-stateless',
  'dhcpv6-stateful': 'static',
};

/** The router's IPv6 interfaces whose subnet has an ra_mode (Neutron's radvd only advertises those). */
export function raContexts(router: DpRouter, networks: DpNetwork[]): RaContext[] {
  const out: RaContext[] = [];
  for (const i of router.interfaces) {
    const net = networks.find((n) => n.id === i.networkId);
    for (const ip of i.ips) {
      const s = net?.subnets.find((x) => x.cidr === ip.cidr && x.ipVersion === 6);
      if (s?.ipv6RaMode && prefixLength(s.cidr) === 64)
        out.push({
          device: routerIfName(i.portId),
          cidr: s.cidr,
          subnetId: s.id,
          mode: s.ipv6RaMode,
          mtu: net!.mtu,
        });
    }
  }
  return out.sort((a, b) => a.device.localeCompare(b.device) || a.cidr.localeCompare(b.cidr));
}

export interface RaPaths {
  pid: string;
  log: string;
}

/** dnsmasq advertising every context (no DNS, no DHCPv4), or undefined when there is nothing to advertise. */
export function raDnsmasqArgv(contexts: RaContext[], paths: RaPaths): string[] | undefined {
  if (!contexts.length) return undefined;
  const devices = [...new Set(contexts.map((c) => c.device))];
  return [
    ...dnsmasqBase(devices),
    '--enable-ra',
    ...contexts.map(
      (c) => `--dhcp-range=set:ra-${c.subnetId},::,constructor:${c.device},${DNSMASQ_MODE[c.mode]},64`,
    ),
    // Neutron's radvd: advertisements every 30–100 s, the network's MTU in them.
    ...devices.map((d) => `--ra-param=${d},mtu:${contexts.find((c) => c.device === d)!.mtu},30`),
    `--pid-file=${paths.pid}`,
    `--log-facility=${paths.log}`,
  ];
}

/**
 * The router namespace's filter while it advertises: dnsmasq would also answer DHCPv6 for the stateless/stateful
 * prefixes, which is the DHCP namespace's job, so DHCPv6 requests never reach the router's daemon.
 */
export function renderRaFilter(contexts: RaContext[]): string | undefined {
  if (!contexts.length) return undefined;
  return (
    '  chain input {\n' +
    '    type filter hook input priority filter; policy accept;\n' +
    '    udp dport 547 drop\n' +
    '  }\n'
  );
}
