// dnsmasq's files and argv for one network's DHCP namespace: static leases per port, per-subnet options.
import type { DpNetwork, DpPort, DpSubnet } from '../desired-state.ts';
import { ipVersionOf, ipv4Netmask, ipv4NetworkAddress, prefixLength } from '../ip-math.ts';

export const METADATA_IP = '169.254.169.254';

/**
 * The subnets dnsmasq serves, as Neutron's DHCP agent: IPv4 with DHCP enabled; IPv6 with DHCP enabled whose address
 * mode is DHCPv6 (stateful: addresses and options; stateless: options only) or unset with no RA mode either, and a
 * prefix of at least /64. SLAAC subnets get nothing from DHCP (the router advertises them).
 */
export function dhcpSubnets(network: DpNetwork): DpSubnet[] {
  return network.subnets.filter((s) => {
    if (!s.enableDhcp) return false;
    if (s.ipVersion === 4) return true;
    if (prefixLength(s.cidr) < 64) return false;
    const mode = s.ipv6AddressMode;
    return mode === 'dhcpv6-stateful' || mode === 'dhcpv6-stateless' || (!mode && !s.ipv6RaMode);
  });
}

/** IPv6 subnets whose addresses dnsmasq hands out (not stateless: options only). */
function leasesAddresses(s: DpSubnet): boolean {
  return s.ipVersion === 4 || s.ipv6AddressMode !== 'dhcpv6-stateless';
}

const tagOf = (subnetId: string) => `s-${subnetId}`;

/**
 * One `mac,name,ip` line per address of every port on a served subnet (Neutron's host file); IPv6 addresses in
 * brackets, and none for DHCPv6-stateless subnets (their addresses are SLAAC's).
 */
export function renderDhcpHosts(network: DpNetwork, ports: DpPort[]): string {
  const served = new Set(
    dhcpSubnets(network)
      .filter(leasesAddresses)
      .map((s) => s.id),
  );
  const lines: string[] = [];
  for (const p of [...ports].sort((a, b) => a.id.localeCompare(b.id))) {
    if (p.networkId !== network.id) continue;
    for (const f of p.fixedIps) {
      if (!served.has(f.subnetId)) continue;
      const v6 = ipVersionOf(f.ipAddress) === 6;
      const name = p.hostname || `host-${f.ipAddress.replace(/[.:]/g, '-')}`;
      lines.push(`${p.macAddress.toLowerCase()},${name},${v6 ? `[${f.ipAddress}]` : f.ipAddress}`);
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * Options per served subnet: MTU, router (explicitly empty without a gateway), DNS servers, and classless static
 * routes (metadata via the DHCP port, host routes, then the default route, since clients ignore option 3 then).
 */
export function renderDhcpOpts(network: DpNetwork, dhcpPort: DpPort): string {
  const lines: string[] = [];
  for (const s of dhcpSubnets(network)) {
    const t = `tag:${tagOf(s.id)}`;
    if (s.ipVersion === 6) {
      const dns6 = s.dnsNameservers.filter((d) => ipVersionOf(d) === 6);
      if (dns6.length) lines.push(`${t},option6:dns-server,${dns6.map((d) => `[${d}]`).join(',')}`);
      continue;
    }
    const dhcpIp = dhcpPort.fixedIps.find((f) => f.subnetId === s.id)?.ipAddress;
    lines.push(`${t},option:mtu,${network.mtu}`);
    lines.push(s.gatewayIp ? `${t},option:router,${s.gatewayIp}` : `${t},option:router`);
    const dns = s.dnsNameservers.filter((d) => ipVersionOf(d) === 4);
    if (dns.length) lines.push(`${t},option:dns-server,${dns.join(',')}`);
    const routes: string[] = [];
    if (dhcpIp) routes.push(`${METADATA_IP}/32,${dhcpIp}`);
    let hasDefault = false;
    for (const r of s.hostRoutes) {
      if (ipVersionOf(r.destination) !== 4) continue;
      if (prefixLength(r.destination) === 0) hasDefault = true;
      routes.push(`${r.destination},${r.nexthop}`);
    }
    if (s.gatewayIp && !hasDefault) routes.push(`0.0.0.0/0,${s.gatewayIp}`);
    if (routes.length) {
      lines.push(`${t},option:classless-static-route,${routes.join(',')}`);
      lines.push(`${t},249,${routes.join(',')}`);
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}

export interface DnsmasqPaths {
  hosts: string;
  opts: string;
  leases: string;
  pid: string;
  log: string;
}

/**
 * The start of every dnsmasq argv the agent runs (DHCP and router advertisements): no config file, no DNS, bound to
 * exactly `devices`.
 */
export function dnsmasqBase(devices: string[]): string[] {
  return [
    'dnsmasq',
    '--conf-file=',
    // The state dir may be private to root (re-read on SIGHUP after dropping privileges would fail).
    '--user=root',
    '--no-hosts',
    '--no-resolv',
    '--port=0',
    '--bind-interfaces',
    ...devices.map((d) => `--interface=${d}`),
    '--except-interface=lo',
  ];
}

/** The argv (dnsmasq first) for a network; it changes only when the served subnets or the device change. */
export function dnsmasqArgv(
  network: DpNetwork,
  device: string,
  paths: DnsmasqPaths,
  leaseSeconds: number,
): string[] {
  const ranges = dhcpSubnets(network).map((s) =>
    s.ipVersion === 6
      ? `--dhcp-range=set:${tagOf(s.id)},${s.cidr.split('/')[0]},static,${prefixLength(s.cidr)},${leaseSeconds}s`
      : `--dhcp-range=set:${tagOf(s.id)},${ipv4NetworkAddress(s.cidr)},static,${ipv4Netmask(prefixLength(s.cidr))},${leaseSeconds}s`,
  );
  return [
    ...dnsmasqBase([device]),
    ...ranges,
    `--dhcp-hostsfile=${paths.hosts}`,
    `--dhcp-optsfile=${paths.opts}`,
    `--dhcp-leasefile=${paths.leases}`,
    '--dhcp-authoritative',
    `--dhcp-lease-max=${16 * 1024}`,
    `--pid-file=${paths.pid}`,
    `--log-facility=${paths.log}`,
    '--log-dhcp',
  ];
}
