// Core schema: tags of every resource, networks (with their segment), subnets, pools, ports, IP allocations.
import type { Kysely } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';

/** Adds the standard attribute columns (project, name, description, timestamps, revision). */
// biome-ignore lint/suspicious/noExplicitAny: schema builder across tables.
export function standardColumns(t: any): any {
  return t
    .addColumn('id', 'varchar(36)', (c: any) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c: any) => c.notNull())
    .addColumn('name', 'varchar(255)', (c: any) => c.notNull().defaultTo(''))
    .addColumn('description', 'varchar(255)', (c: any) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'varchar(40)', (c: any) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c: any) => c.notNull())
    .addColumn('revision_number', 'integer', (c: any) => c.notNull().defaultTo(0));
}

async function networks(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('network_tags')
    .addColumn('resource_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('resource_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('tag', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('network_tags_pk', ['resource_type', 'resource_id', 'tag'])
    .execute();
  await standardColumns(db.schema.createTable('network_networks'))
    .addColumn('admin_state_up', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('status', 'varchar(16)', (c: any) => c.notNull())
    .addColumn('shared', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('router_external', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('mtu', 'integer', (c: any) => c.notNull())
    .addColumn('port_security_enabled', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('network_type', 'varchar(32)', (c: any) => c.notNull())
    .addColumn('physical_network', 'varchar(64)', (c: any) => c.notNull().defaultTo(''))
    .addColumn('segmentation_id', 'integer')
    .addColumn('availability_zone_hints', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .addColumn('dns_domain', 'varchar(255)', (c: any) => c.notNull().defaultTo(''))
    .addColumn('is_default', 'integer', (c: any) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('network_networks_project')
    .on('network_networks')
    .column('project_id')
    .execute();
  // One network per VXLAN/VLAN id on a physical network: two creates racing for one id cannot both win.
  await db.schema
    .createIndex('network_networks_segment')
    .on('network_networks')
    .columns(['network_type', 'physical_network', 'segmentation_id'])
    .unique()
    .execute();
}

async function addressing(db: Kysely<unknown>): Promise<void> {
  await standardColumns(db.schema.createTable('network_address_scopes'))
    .addColumn('ip_version', 'integer', (c: any) => c.notNull())
    .addColumn('shared', 'integer', (c: any) => c.notNull().defaultTo(0))
    .execute();
  await standardColumns(db.schema.createTable('network_subnetpools'))
    .addColumn('ip_version', 'integer', (c: any) => c.notNull())
    .addColumn('prefixes', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .addColumn('default_prefixlen', 'integer', (c: any) => c.notNull())
    .addColumn('min_prefixlen', 'integer', (c: any) => c.notNull())
    .addColumn('max_prefixlen', 'integer', (c: any) => c.notNull())
    .addColumn('default_quota', 'integer')
    .addColumn('is_default', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('shared', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('address_scope_id', 'varchar(36)')
    .execute();
  await standardColumns(db.schema.createTable('network_subnets'))
    .addColumn('network_id', 'varchar(36)', (c: any) => c.notNull())
    .addColumn('ip_version', 'integer', (c: any) => c.notNull())
    .addColumn('cidr', 'varchar(64)', (c: any) => c.notNull())
    .addColumn('gateway_ip', 'varchar(64)')
    .addColumn('enable_dhcp', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('ipv6_ra_mode', 'varchar(16)')
    .addColumn('ipv6_address_mode', 'varchar(16)')
    .addColumn('subnetpool_id', 'varchar(36)')
    .addColumn('allocation_pools', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .addColumn('dns_nameservers', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .addColumn('host_routes', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .addColumn('service_types', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.createIndex('network_subnets_network').on('network_subnets').column('network_id').execute();
  await db.schema.createIndex('network_subnets_pool').on('network_subnets').column('subnetpool_id').execute();
  await standardColumns(db.schema.createTable('network_ports'))
    .addColumn('network_id', 'varchar(36)', (c: any) => c.notNull())
    .addColumn('mac_address', 'varchar(32)', (c: any) => c.notNull())
    .addColumn('admin_state_up', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('status', 'varchar(16)', (c: any) => c.notNull())
    .addColumn('device_id', 'varchar(255)', (c: any) => c.notNull().defaultTo(''))
    .addColumn('device_owner', 'varchar(255)', (c: any) => c.notNull().defaultTo(''))
    .addColumn('port_security_enabled', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('host_id', 'varchar(255)', (c: any) => c.notNull().defaultTo(''))
    .addColumn('vnic_type', 'varchar(64)', (c: any) => c.notNull().defaultTo('normal'))
    .addColumn('binding_profile', 'text', (c: any) => c.notNull().defaultTo('{}'))
    .addColumn('allowed_address_pairs', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .addColumn('extra_dhcp_opts', 'text', (c: any) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.createIndex('network_ports_network').on('network_ports').column('network_id').execute();
  await db.schema.createIndex('network_ports_device').on('network_ports').column('device_id').execute();
  await db.schema.createIndex('network_ports_project').on('network_ports').column('project_id').execute();
  // One MAC per network: two creates racing for one MAC cannot both win.
  await db.schema
    .createIndex('network_ports_mac')
    .on('network_ports')
    .columns(['network_id', 'mac_address'])
    .unique()
    .execute();
  await db.schema
    .createTable('network_ip_allocations')
    .addColumn('network_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('ip_address', 'varchar(64)', (c) => c.notNull())
    .addColumn('subnet_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('port_id', 'varchar(36)', (c) => c.notNull())
    // One holder per address on a network: concurrent allocations of one address cannot both commit.
    .addPrimaryKeyConstraint('network_ip_allocations_pk', ['network_id', 'ip_address'])
    .execute();
  await db.schema
    .createIndex('network_ip_allocations_port')
    .on('network_ip_allocations')
    .column('port_id')
    .execute();
  await db.schema
    .createIndex('network_ip_allocations_subnet')
    .on('network_ip_allocations')
    .column('subnet_id')
    .execute();
}

export const coreMigration: Migration = {
  version: 1,
  name: 'core',
  async up(db) {
    await networks(db);
    await addressing(db);
  },
};
