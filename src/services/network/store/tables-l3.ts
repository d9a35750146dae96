// Routers, their ports, floating IPs and port forwardings.
import type { StandardColumns } from './tables-core.ts';

export interface RoutersTable extends StandardColumns {
  admin_state_up: number;
  status: string;
  /** The router:gateway port, when the router has an external gateway. */
  gw_port_id: string | null;
  /** ext-gw-mode: SNAT of internal subnets through the gateway (default true). */
  enable_snat: number;
  /** JSON array of zone names. */
  availability_zone_hints: string;
}

/** Every port a router owns (interfaces and its gateway), as Neutron's routerports. */
export interface RouterPortsTable {
  port_id: string;
  router_id: string;
  /** The port's device_owner: network:router_interface or network:router_gateway. */
  port_type: string;
}

/** Extra routes (extraroute). */
export interface RouterRoutesTable {
  router_id: string;
  destination: string;
  nexthop: string;
}

export interface FloatingIpsTable extends StandardColumns {
  floating_ip_address: string;
  floating_network_id: string;
  /** The network:floatingip port holding the address on the external network. */
  floating_port_id: string;
  /** The associated internal port and the fixed address on it (both null when not associated). */
  fixed_port_id: string | null;
  fixed_ip_address: string | null;
  /** The router that NATs it (from the association, or from its port forwardings). */
  router_id: string | null;
  last_known_router_id: string | null;
  status: string;
}

export interface PortForwardingsTable {
  id: string;
  floatingip_id: string;
  protocol: string;
  external_port: number;
  internal_port: number;
  internal_ip_address: string;
  internal_port_id: string;
  description: string;
}

export interface L3Tables {
  network_routers: RoutersTable;
  network_router_ports: RouterPortsTable;
  network_router_routes: RouterRoutesTable;
  network_floatingips: FloatingIpsTable;
  network_port_forwardings: PortForwardingsTable;
}
