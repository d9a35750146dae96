// dnsmasq's files and argv for one network's DHCP namespace: static leases per port, per-subnet options.
import type { DpNetwork, DpPort, DpSubnet } from '../desired-state.ts';
import { ipVersionOf, ipv4Netmask, ipv4NetworkAddress, prefixLength } from '../ip-math.ts';

export const METADATA_IP = '169.254.169.254';

/** The subnets dnsmasq serves (IPv4 with DHCP enabled; DHCPv6/SLAAC is not served yet). */
export function dhcpSubnets(network: DpNetwork): DpSubnet[] {
  return network.subnets.filter((s) => s.enableDhcp && s.ipVersion === 4);
}

const tagOf = (subnetId: string) => `s-${subnetId}`;

/** One `mac,name,ip` line per IPv4 address of every port on a served subnet (Neutron's host file). */
export function renderDhcpHosts(network: DpNetwork, ports: DpPort[]): string {
  const served = new Set(dhcpSubnets(network).map((s) => s.id));
  const lines: string[] = [];
  for (const p of [...ports].sort((a, b) => a.id.localeCompare(b.id))) {
    if (p.networkId !== network.id) continue;
    for (const f of p.fixedIps) {
      if (!served.has(f.subnetId) || ipVersionOf(f.ipAddress) !== 4) continue;
      const name = p.hostname || `host-${f.ipAddress.replace(/\./g, '-')}`;
      lines.push(`${p.macAddress.toLowerCase()},${name},${f.ipAddress}`);
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

/** The argv (dnsmasq first) for a network; it changes only when the served subnets or the device change. */
export function dnsmasqArgv(
  network: DpNetwork,
  device: string,
  paths: DnsmasqPaths,
  leaseSeconds: number,
): string[] {
  const ranges = dhcpSubnets(network).map(
    (s) =>
      `--dhcp-range=set:${tagOf(s.id)},${ipv4NetworkAddress(s.cidr)},static,${ipv4Netmask(prefixLength(s.cidr))},${leaseSeconds}s`,
  );
  return [
    'dnsmasq',
    '--conf-file=',
    // The state dir may be private to root (re-read on SIGHUP after dropping privileges would fail).
    '--user=root',
    '--no-hosts',
    '--no-resolv',
    '--port=0',
    '--bind-interfaces',
    `--interface=${device}`,
    '--except-interface=lo',
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
