// What networking tells the metadata service about a server's ports: network_data.json (links, networks,
// services as Nova's netutils.get_network_metadata shapes them) and the addresses the EC2 tree shows.

/** A VIF (or physical NIC): `id` is the tap name or "interface<N>", `type` "phy" unless a legacy VIF type. */
export interface NetworkLink {
  id: string;
  /** The Neutron port id. */
  vif_id: string;
  type: string;
  /** The network's MTU; null when a subnet has a DHCP server (the guest learns it by DHCP). */
  mtu: number | null;
  ethernet_mac_address: string | null;
}

export interface NetworkRoute {
  network: string;
  netmask: string;
  gateway: string;
}

export interface NetworkService {
  /** "dns" */
  type: string;
  address: string;
}

/**
 * One IP network on a link: "network<N>". Static: type "ipv4" / "ipv6" / "ipv6_<address mode>" with
 * ip_address, netmask, routes (the default route first) and services. DHCP (a subnet with a DHCP server, IPv4
 * or no IPv6 address mode): type "ipv4_dhcp" / "ipv6_dhcp" with only id, type, link and network_id.
 */
export interface NetworkEntry {
  id: string;
  type: string;
  /** The NetworkLink id. */
  link: string;
  ip_address?: string;
  netmask?: string;
  routes?: NetworkRoute[];
  /** The Neutron network id. */
  network_id: string;
  services?: NetworkService[];
}

/** network_data.json. */
export interface NetworkData {
  links: NetworkLink[];
  networks: NetworkEntry[];
  /** DNS servers of every subnet, without duplicates. */
  services: NetworkService[];
}

/**
 * A server's networking as the metadata service needs it; networking fills it (the metadata service asks
 * through MetadataServiceOptions.networkInfo). Absent means no ports: network_data.json is "{}" as Nova's for
 * a server without network info, and the EC2 addresses are empty.
 */
export interface GuestNetworkInfo {
  /** null or absent: no network info ("{}"). Empty lists render as empty lists. */
  networkData?: NetworkData | null;
  /** Fixed IPv4 addresses; the first is the EC2 local-ipv4. */
  fixedIps?: string[];
  /** Fixed IPv6 addresses (not shown by Nova's trees today; kept for completeness). */
  fixedIp6s?: string[];
  /** Floating IPs; the first is the EC2 public-ipv4. */
  floatingIps?: string[];
  /** Security group names of the ports (Nova asks Neutron); absent: the names the server row records. */
  securityGroups?: string[];
}

/** network_data.json's object with every member in Nova's key order, whatever order the input used. */
export function orderedNetworkData(d: NetworkData): Record<string, unknown> {
  const service = (s: NetworkService) => ({ type: s.type, address: s.address });
  return {
    links: d.links.map((l) => ({
      id: l.id,
      vif_id: l.vif_id,
      type: l.type,
      mtu: l.mtu,
      ethernet_mac_address: l.ethernet_mac_address,
    })),
    networks: d.networks.map((n) =>
      n.ip_address === undefined
        ? { id: n.id, type: n.type, link: n.link, network_id: n.network_id }
        : {
            id: n.id,
            type: n.type,
            link: n.link,
            ip_address: n.ip_address,
            netmask: n.netmask,
            routes: (n.routes ?? []).map((r) => ({
              network: r.network,
              netmask: r.netmask,
              gateway: r.gateway,
            })),
            network_id: n.network_id,
            services: (n.services ?? []).map(service),
          },
    ),
    services: d.services.map(service),
  };
}
