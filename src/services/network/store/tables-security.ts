// Security groups and their rules, each project's default group, and the groups each port carries.
import type { StandardColumns } from './tables-core.ts';

export interface SecurityGroupsTable extends StandardColumns {
  /** 1: conntrack-based (stateful-security-group); 0: stateless. */
  stateful: number;
}

/** The one default group of a project; the primary key on project_id makes a second one impossible. */
export interface DefaultSecurityGroupsTable {
  project_id: string;
  security_group_id: string;
}

export interface SecurityGroupRulesTable {
  id: string;
  /** The rule's owner (the creating project), which may differ from its group's. */
  project_id: string;
  security_group_id: string;
  remote_group_id: string | null;
  direction: string;
  ethertype: string;
  /** A protocol name ('tcp', 'ipv6-icmp', …) or number as a string, null for any. */
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  /** As given, host bits kept (normalized_cidr is derived). */
  remote_ip_prefix: string | null;
  /** Neutron's duplicate-rule identity; unique per group, so racing duplicates cannot both commit. */
  rule_key: string;
  description: string;
  created_at: string;
  updated_at: string;
  revision_number: number;
}

export interface PortSecurityGroupsTable {
  port_id: string;
  security_group_id: string;
}

export interface SecurityTables {
  network_security_groups: SecurityGroupsTable;
  network_default_security_groups: DefaultSecurityGroupsTable;
  network_security_group_rules: SecurityGroupRulesTable;
  network_port_security_groups: PortSecurityGroupsTable;
}
