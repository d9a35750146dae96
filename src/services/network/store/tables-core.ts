// Core tables: networks (with their segment), subnets, subnet pools, address scopes, ports and IP allocations.

/** Columns every resource with standard attributes has. */
export interface StandardColumns {
  id: string;
  project_id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
  revision_number: number;
}

export interface NetworksTable extends StandardColumns {
  admin_state_up: number;
  status: string;
  /** Shared with every project (an RBAC access_as_shared entry for '*'). */
  shared: number;
  router_external: number;
  mtu: number;
  port_security_enabled: number;
  /** provider:network_type / physical_network / segmentation_id. */
  network_type: string;
  /** '' when the network type has none (so the unique segment index holds for VXLAN too). */
  physical_network: string;
  segmentation_id: number | null;
  /** JSON array of zone names. */
  availability_zone_hints: string;
  dns_domain: string;
  /** The auto-allocated-topology default external network. */
  is_default: number;
}

export interface SubnetsTable extends StandardColumns {
  network_id: string;
  ip_version: number;
  /** Canonical CIDR (network address). */
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: number;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  subnetpool_id: string | null;
  /** JSON [{start, end}]. */
  allocation_pools: string;
  /** JSON [address] in the order given. */
  dns_nameservers: string;
  /** JSON [{destination, nexthop}]. */
  host_routes: string;
  /** JSON [device owner]. */
  service_types: string;
}

export interface PortsTable extends StandardColumns {
  network_id: string;
  mac_address: string;
  admin_state_up: number;
  status: string;
  device_id: string;
  device_owner: string;
  port_security_enabled: number;
  /** binding:host_id ('' = unbound). */
  host_id: string;
  vnic_type: string;
  /** JSON objects: binding:profile, allowed_address_pairs [{ip_address, mac_address}], extra_dhcp_opts. */
  binding_profile: string;
  allowed_address_pairs: string;
  extra_dhcp_opts: string;
}

/** One address held by one port; the primary key (network_id, ip_address) makes double allocation impossible. */
export interface IpAllocationsTable {
  network_id: string;
  ip_address: string;
  subnet_id: string;
  port_id: string;
}

/**
 * A subnet's IPAM low-water mark: every pool address below `next_free` (32 hex digits; '' = the pools' start) is
 * allocated. Advanced by allocations, lowered by releases (domain/ipam-marks.ts).
 */
export interface IpamMarksTable {
  subnet_id: string;
  next_free: string;
  version: number;
}

export interface SubnetPoolsTable extends StandardColumns {
  ip_version: number;
  /** JSON [cidr], compacted. */
  prefixes: string;
  default_prefixlen: number;
  min_prefixlen: number;
  max_prefixlen: number;
  default_quota: number | null;
  is_default: number;
  shared: number;
  address_scope_id: string | null;
}

export interface AddressScopesTable extends StandardColumns {
  ip_version: number;
  shared: number;
}

export interface CoreTables {
  network_networks: NetworksTable;
  network_subnets: SubnetsTable;
  network_ports: PortsTable;
  network_ip_allocations: IpAllocationsTable;
  network_ipam_marks: IpamMarksTable;
  network_subnetpools: SubnetPoolsTable;
  network_address_scopes: AddressScopesTable;
}
