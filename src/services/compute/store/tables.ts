// Kysely types of the tables the compute service owns (compute_*). Booleans are 0/1, JSON is text, times ISO.
import type { Generated } from 'kysely';

export interface FlavorRow {
  /** Nova's flavorid: the id clients see (a string; often numeric like "1" or a UUID). */
  id: string;
  name: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  /** Swap in MiB (0 = none; rendered as "" before 2.75). */
  swap: number;
  rxtx_factor: number;
  is_public: number;
  disabled: number;
  description: string | null;
  /** JSON object of extra specs. */
  extra_specs: string;
  created_at: string;
  updated_at: string | null;
}

export interface FlavorProjectRow {
  flavor_id: string;
  project_id: string;
}

export interface KeypairRow {
  id: number;
  user_id: string;
  name: string;
  type: string;
  public_key: string;
  fingerprint: string;
  created_at: string;
}

/** A compute host: Nova's nova-compute service and its compute node (hypervisor) in one row. */
export interface HostRow {
  id: number;
  /** The service's uuid (os-services id from 2.53). */
  uuid: string;
  /** The compute node's uuid: hypervisor id from 2.53 and its resource provider uuid in placement. */
  node_uuid: string;
  host: string;
  /** The hypervisor hostname (Nova's nodename). */
  node: string;
  binary: string;
  disabled: number;
  disabled_reason: string | null;
  forced_down: number;
  /** Last heartbeat from the agent. */
  heartbeat_at: string | null;
  hypervisor_type: string;
  hypervisor_version: number;
  host_ip: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  cpu_info: string;
  created_at: string;
  updated_at: string | null;
}

export interface AggregateRow {
  id: number;
  uuid: string;
  name: string;
  /** JSON object of metadata; the availability_zone key names the aggregate's zone. */
  metadata: string;
  created_at: string;
  updated_at: string | null;
}

export interface AggregateHostRow {
  aggregate_id: number;
  host: string;
}

export interface ServerGroupRow {
  id: string;
  name: string;
  project_id: string;
  user_id: string;
  /** affinity | anti-affinity | soft-affinity | soft-anti-affinity */
  policy: string;
  /** JSON object ({"max_server_per_host": n}). */
  rules: string;
  created_at: string;
}

export interface ServerGroupMemberRow {
  group_id: string;
  server_id: string;
}

/** Hard limits: project-wide when user_id is '', per user otherwise. */
export interface QuotaRow {
  project_id: string;
  user_id: string;
  resource: string;
  hard_limit: number;
}

export interface QuotaClassRow {
  class_name: string;
  resource: string;
  hard_limit: number;
}

export interface ServerRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string;
  hostname: string;
  description: string | null;
  reservation_id: string;
  launch_index: number;
  flavor_id: string;
  /** JSON: the flavor as it was at boot (or after resize): FlavorSnapshot. */
  flavor: string;
  /** JSON FlavorSnapshot during a resize (old and new). */
  old_flavor: string | null;
  new_flavor: string | null;
  image_id: string;
  key_name: string | null;
  key_data: string | null;
  user_data: string | null;
  config_drive: string;
  access_ip_v4: string;
  access_ip_v6: string;
  /** The zone asked for at create (null = any); the zone shown is the host's. */
  availability_zone: string | null;
  host: string | null;
  node: string | null;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  /** Increases each time the API starts a task; agents report completion against it. */
  task_seq: number;
  /** JSON arguments of the current task (reboot type, snapshot image, target flavor, migration id …). */
  task_args: string;
  locked: number;
  locked_by: string | null;
  locked_reason: string | null;
  progress: number;
  launched_at: string | null;
  terminated_at: string | null;
  /** JSON: what the scheduler needs (hints, group, forced host, zone, image properties, retries). */
  request_spec: string;
  /** JSON {message, code, details, created} or null. */
  fault: string | null;
  /** JSON array of security group names. */
  security_groups: string;
  /** JSON of Nova's addresses body (filled by networking). */
  addresses: string;
  /** JSON CachedVif[]: Nova's instance info cache (null: networking never allocated for this server). */
  network_info?: string | null;
  /** JSON object: Nova's system_metadata (image properties, old vm_state, …). */
  system_metadata: string;
  trusted_certs: string | null;
  created_at: string;
  updated_at: string;
  deleted: number;
  deleted_at: string | null;
}

export interface ServerMetadataRow {
  server_id: string;
  key: string;
  value: string;
}

export interface ServerTagRow {
  server_id: string;
  tag: string;
}

export interface InstanceActionRow {
  id: number;
  server_id: string;
  action: string;
  request_id: string;
  user_id: string;
  project_id: string;
  start_time: string;
  finish_time: string | null;
  message: string | null;
  updated_at: string;
}

export interface InstanceActionEventRow {
  id: number;
  action_id: number;
  event: string;
  start_time: string;
  finish_time: string | null;
  /** Success | Error | null while running */
  result: string | null;
  traceback: string | null;
  host: string | null;
  details: string | null;
}

export interface MigrationRow {
  id: number;
  uuid: string;
  server_id: string;
  project_id: string;
  user_id: string;
  source_compute: string | null;
  source_node: string | null;
  dest_compute: string | null;
  dest_node: string | null;
  dest_host: string | null;
  old_flavor_id: string | null;
  new_flavor_id: string | null;
  /** resize | migration | live-migration | evacuation */
  migration_type: string;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface BlockDeviceMappingRow {
  id: number;
  server_id: string;
  boot_index: number | null;
  source_type: string;
  destination_type: string;
  uuid: string | null;
  volume_id: string | null;
  volume_size: number | null;
  device_name: string | null;
  delete_on_termination: number;
  tag: string | null;
  disk_bus: string | null;
  device_type: string | null;
  guest_format: string | null;
  volume_type: string | null;
  attachment_id: string | null;
  created_at: string;
}

/** A row type whose serial id the database generates on insert. */
type Serial<R extends { id: number }> = Omit<R, 'id'> & { id: Generated<number> };

export interface ComputeTables {
  compute_flavors: FlavorRow;
  compute_flavor_projects: FlavorProjectRow;
  compute_keypairs: Serial<KeypairRow>;
  compute_hosts: Serial<HostRow>;
  compute_aggregates: Serial<AggregateRow>;
  compute_aggregate_hosts: AggregateHostRow;
  compute_server_groups: ServerGroupRow;
  compute_server_group_members: ServerGroupMemberRow;
  compute_quotas: QuotaRow;
  compute_quota_classes: QuotaClassRow;
  compute_servers: ServerRow;
  compute_server_metadata: ServerMetadataRow;
  compute_server_tags: ServerTagRow;
  compute_instance_actions: Serial<InstanceActionRow>;
  compute_instance_action_events: Serial<InstanceActionEventRow>;
  compute_migrations: Serial<MigrationRow>;
  compute_block_device_mappings: Serial<BlockDeviceMappingRow>;
}

/** A flavor as a server keeps it (Nova's instance.flavor). */
export interface FlavorSnapshot {
  id: string;
  name: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  extra_specs: Record<string, string>;
}
