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

export interface CoreTables {
  network_networks: NetworksTable;
}
