// The instance info cache (Nova's network_info): a server's VIFs as Neutron last described them, and the views
// read from it (addresses, NICs for the hypervisor, security group names, network_data.json).
import type {
  NeutronFloatingIp,
  NeutronNetwork,
  NeutronPort,
  NeutronSecurityGroup,
  NeutronSubnet,
} from '../../../clients/network.ts';
import type { GuestNetworkInfo, NetworkData, NetworkEntry } from '../metadata/network-data.ts';

export interface CachedSubnet {
  id: string;
  cidr: string;
  version: number;
  gateway: string | null;
  dns: string[];
  routes: { destination: string; nexthop: string }[];
  dhcp: boolean;
  ipv6AddressMode: string | null;
}

export interface CachedIp {
  address: string;
  version: number;
  subnetId: string;
  floating: string[];
}

/** One VIF: a port of the server (Nova's VIF model, trimmed to what compute reads). */
export interface CachedVif {
  /** The port id. */
  id: string;
  /** The MAC address. */
  address: string;
  /** The host device: tap + the port id's first 11 characters. */
  devname: string;
  active: boolean;
  /** A port the user brought (networks: [{port}] or os-interface port_id): unbound, not deleted, on delete. */
  preserveOnDelete: boolean;
  network: { id: string; label: string; mtu: number | null };
  ips: CachedIp[];
  subnets: CachedSubnet[];
  /** Names of the port's security groups. */
  securityGroups: string[];
  tag: string | null;
}

/** The tap name Nova's libvirt driver gives a port. */
export function tapName(portId: string): string {
  return `tap${portId.slice(0, 11)}`;
}

export function ipVersion(address: string): number {
  return address.includes(':') ? 6 : 4;
}

/** Builds a VIF from a port and what Neutron says around it. */
export function vifOf(
  port: NeutronPort,
  net: NeutronNetwork | undefined,
  subnets: Map<string, NeutronSubnet>,
  fips: NeutronFloatingIp[],
  groups: Map<string, NeutronSecurityGroup>,
  opts: { preserveOnDelete: boolean; tag?: string | null },
): CachedVif {
  const used = new Set(port.fixed_ips.map((f) => f.subnet_id));
  return {
    id: port.id,
    address: port.mac_address,
    devname: tapName(port.id),
    active: port.status === 'ACTIVE',
    preserveOnDelete: opts.preserveOnDelete,
    network: {
      id: port.network_id,
      label: net?.name ?? '',
      mtu: typeof net?.mtu === 'number' ? net.mtu : null,
    },
    ips: port.fixed_ips.map((f) => ({
      address: f.ip_address,
      version: ipVersion(f.ip_address),
      subnetId: f.subnet_id,
      floating: fips
        .filter((fip) => fip.port_id === port.id && fip.fixed_ip_address === f.ip_address)
        .map((fip) => fip.floating_ip_address),
    })),
    subnets: [...used]
      .map((id) => subnets.get(id))
      .filter((s): s is NeutronSubnet => s !== undefined)
      .map((s) => ({
        id: s.id,
        cidr: s.cidr,
        version: s.ip_version,
        gateway: s.gateway_ip,
        dns: [...(s.dns_nameservers ?? [])],
        routes: [...(s.host_routes ?? [])],
        dhcp: s.enable_dhcp,
        ipv6AddressMode: s.ipv6_address_mode ?? null,
      })),
    securityGroups: (port.security_groups ?? []).map((id) => groups.get(id)?.name ?? id),
    tag: opts.tag ?? null,
  };
}

export interface AddressEntry {
  version: number;
  addr: string;
  'OS-EXT-IPS:type'?: 'fixed' | 'floating';
  'OS-EXT-IPS-MAC:mac_addr'?: string;
}

/** Nova's addresses: per network label, its fixed IPs then its floating IPs (extended with type and MAC). */
export function addressesOf(vifs: CachedVif[], extended = true): Record<string, AddressEntry[]> {
  const by = new Map<string, { fixed: AddressEntry[]; floating: AddressEntry[] }>();
  const entry = (addr: string, type: 'fixed' | 'floating', mac: string): AddressEntry =>
    extended
      ? { version: ipVersion(addr), addr, 'OS-EXT-IPS:type': type, 'OS-EXT-IPS-MAC:mac_addr': mac }
      : { version: ipVersion(addr), addr };
  for (const v of vifs) {
    const g = by.get(v.network.label) ?? { fixed: [], floating: [] };
    by.set(v.network.label, g);
    for (const ip of v.ips) {
      g.fixed.push(entry(ip.address, 'fixed', v.address));
      for (const f of ip.floating) g.floating.push(entry(f, 'floating', v.address));
    }
  }
  const out: Record<string, AddressEntry[]> = {};
  for (const [label, g] of by) out[label] = [...g.fixed, ...g.floating];
  return out;
}

/** The distinct security group names of the server's ports, in first-seen order. */
export function groupNamesOf(vifs: CachedVif[]): string[] {
  return [...new Set(vifs.flatMap((v) => v.securityGroups))];
}

function prefixNetmask(version: number, prefix: number): string {
  if (version === 6) {
    const parts: string[] = [];
    for (let i = 0; i < 8; i++) {
      const bits = Math.max(0, Math.min(16, prefix - i * 16));
      parts.push((bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff).toString(16));
    }
    return parts.join(':');
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join('.');
}

/** network_data.json as Nova's netutils.get_network_metadata builds it from the VIFs. */
export function networkDataOf(vifs: CachedVif[]): NetworkData {
  const data: NetworkData = { links: [], networks: [], services: [] };
  let n = 0;
  for (const v of vifs) {
    const hasDhcp = v.subnets.some((s) => s.dhcp);
    data.links.push({
      id: v.devname,
      vif_id: v.id,
      type: 'phy',
      mtu: hasDhcp ? null : v.network.mtu,
      ethernet_mac_address: v.address,
    });
    for (const ip of v.ips) {
      const sub = v.subnets.find((s) => s.id === ip.subnetId);
      if (!sub) continue;
      const entry: NetworkEntry = {
        id: `network${n++}`,
        type: '',
        link: v.devname,
        network_id: v.network.id,
      };
      const dhcpV6 = sub.version === 6 && sub.dhcp && !sub.ipv6AddressMode;
      if (sub.dhcp && (sub.version === 4 || dhcpV6)) {
        entry.type = sub.version === 4 ? 'ipv4_dhcp' : 'ipv6_dhcp';
      } else {
        entry.type =
          sub.version === 4 ? 'ipv4' : sub.ipv6AddressMode ? `ipv6_${sub.ipv6AddressMode}` : 'ipv6';
        entry.ip_address = ip.address;
        entry.netmask = prefixNetmask(sub.version, Number(sub.cidr.split('/')[1] ?? 32));
        const routes = sub.gateway
          ? [
              {
                network: sub.version === 4 ? '0.0.0.0' : '::',
                netmask: sub.version === 4 ? '0.0.0.0' : '::',
                gateway: sub.gateway,
              },
            ]
          : [];
        for (const r of sub.routes) {
          const [net, len] = r.destination.split('/');
          routes.push({
            network: net ?? '',
            netmask: prefixNetmask(sub.version, Number(len)),
            gateway: r.nexthop,
          });
        }
        entry.routes = routes;
        entry.services = sub.dns.map((d) => ({ type: 'dns', address: d }));
      }
      data.networks.push(entry);
    }
    for (const s of v.subnets)
      for (const d of s.dns)
        if (!data.services.some((x) => x.address === d)) data.services.push({ type: 'dns', address: d });
  }
  return data;
}

/** What the metadata service shows of the server's networking. */
export function guestNetworkInfoOf(vifs: CachedVif[]): GuestNetworkInfo {
  const ips = vifs.flatMap((v) => v.ips);
  return {
    networkData: networkDataOf(vifs),
    fixedIps: ips.filter((i) => i.version === 4).map((i) => i.address),
    fixedIp6s: ips.filter((i) => i.version === 6).map((i) => i.address),
    floatingIps: ips.flatMap((i) => i.floating),
    securityGroups: groupNamesOf(vifs),
  };
}

export function parseVifs(text: string | null | undefined): CachedVif[] {
  if (!text) return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as CachedVif[]) : [];
  } catch {
    return [];
  }
}
