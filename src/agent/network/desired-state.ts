// The plain-data desired state a host's network agent converges to (what the network service computes per host).

export type NetworkType = 'flat' | 'vlan' | 'vxlan' | 'local';

export interface DpSubnet {
  id: string;
  cidr: string;
  ipVersion: 4 | 6;
  gatewayIp?: string;
  enableDhcp: boolean;
  dnsNameservers: string[];
  hostRoutes: { destination: string; nexthop: string }[];
  /** IPv6 only: who sends router advertisements ('slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'), absent = none. */
  ipv6RaMode?: Ipv6Mode;
  /** IPv6 only: how ports get addresses ('slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'), absent = unset. */
  ipv6AddressMode?: Ipv6Mode;
}

export type Ipv6Mode = 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless';

export interface DpNetwork {
  id: string;
  mtu: number;
  type: NetworkType;
  segmentationId?: number;
  physicalNetwork?: string;
  /** router:external; the far end of its uplink holds its subnets' gateway addresses. */
  external: boolean;
  subnets: DpSubnet[];
  /** VXLAN networks: the underlay addresses of the other hosts serving this network (head-end replication). */
  vxlanPeers?: string[];
}

export interface DpFixedIp {
  subnetId: string;
  ipAddress: string;
}

export interface DpPort {
  id: string;
  networkId: string;
  macAddress: string;
  fixedIps: DpFixedIp[];
  /** Neutron's device_owner: 'compute:nova', 'network:dhcp', 'network:router_interface', … */
  deviceOwner: string;
  deviceId: string;
  adminStateUp: boolean;
  portSecurityEnabled: boolean;
  securityGroupIds: string[];
  allowedAddressPairs: { ipAddress: string; macAddress?: string }[];
  /** The DHCP host name (Neutron's dns_name); host-<ip-dashed> when absent. */
  hostname?: string;
  /** The port has a VIF on this host (a VM tap, or the DHCP port this host serves). */
  boundHere: boolean;
}

export interface DpRouterPort {
  portId: string;
  networkId: string;
  macAddress: string;
  /** The port's addresses with the prefix of their subnet (cidr is the subnet's, e.g. 10.0.0.0/24). */
  ips: { ipAddress: string; cidr: string }[];
}

export interface DpRouter {
  id: string;
  adminStateUp: boolean;
  gateway?: DpRouterPort & { enableSnat: boolean; gatewayIp?: string };
  interfaces: DpRouterPort[];
  routes: { destination: string; nexthop: string }[];
  floatingIps: { id: string; floatingIpAddress: string; fixedIpAddress: string; portId: string }[];
  portForwardings: {
    floatingIpAddress: string;
    protocol: 'tcp' | 'udp';
    externalPort: number;
    internalIpAddress: string;
    internalPort: number;
  }[];
}

export interface DpSecurityGroupRule {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  /** A protocol name ('tcp', 'icmp', 'ipv6-icmp', …) or number as a string; absent = any. */
  protocol?: string;
  portRangeMin?: number;
  portRangeMax?: number;
  remoteIpPrefix?: string;
  remoteGroupId?: string;
}

export interface DpSecurityGroup {
  id: string;
  /** false: Neutron's stateless security group (no connection tracking; replies need their own rules). */
  stateful: boolean;
  rules: DpSecurityGroupRule[];
  /** Every address of every port in the group (fixed IPs and allowed address pairs), any host. */
  memberIps: string[];
}

export interface HostNetworkState {
  networks: DpNetwork[];
  ports: DpPort[];
  routers: DpRouter[];
  securityGroups: DpSecurityGroup[];
}

/** True for ports Neutron's agents own (DHCP, router interfaces and gateways, …): no security groups on them. */
export function isNetworkOwned(port: Pick<DpPort, 'deviceOwner'>): boolean {
  return port.deviceOwner.startsWith('network:');
}
