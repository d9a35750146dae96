// Quotas, RBAC policies and the network agents of each host.

/** A project's limit for one resource (Neutron's quotas table); absent rows fall back to the configured default. */
export interface QuotasTable {
  project_id: string;
  resource: string;
  /** -1 = unlimited. */
  quota_limit: number;
}

/** Neutron's networkrbacs: who else may use a network, and how (shared, or as an external network). */
export interface RbacPoliciesTable {
  id: string;
  /** The policy's owner. */
  project_id: string;
  /** 'network' (the only RBAC object type this service implements). */
  object_type: string;
  object_id: string;
  /** 'access_as_shared' | 'access_as_external'. */
  action: string;
  /** A project id, or '*' for every project. */
  target_project: string;
}

/** One network agent (L2, DHCP, L3, metadata) on one host, as its heartbeats report it. */
export interface AgentsTable {
  id: string;
  agent_type: string;
  binary: string;
  topic: string;
  host: string;
  admin_state_up: number;
  /** 'nova' for DHCP and L3 agents, null otherwise. */
  availability_zone: string | null;
  description: string | null;
  /** JSON object text. */
  configurations: string;
  /** null: the agent does not sync resources to Placement; else 0/1. */
  resources_synced: number | null;
  created_at: string;
  started_at: string;
  heartbeat_timestamp: string;
}

export interface MiscTables {
  network_quotas: QuotasTable;
  network_rbac_policies: RbacPoliciesTable;
  network_agents: AgentsTable;
}
