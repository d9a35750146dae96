// Routers, router ports, extra routes, floating IPs and port forwardings.
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';
import { standardColumns } from './0001-core.ts';

async function routers(db: Kysely<unknown>): Promise<void> {
  await standardColumns(db.schema.createTable('network_routers'))
    .addColumn('admin_state_up', 'integer', (c: ColumnDefinitionBuilder) => c.notNull().defaultTo(1))
    .addColumn('status', 'varchar(16)', (c: ColumnDefinitionBuilder) => c.notNull())
    .addColumn('gw_port_id', 'varchar(36)')
    .addColumn('enable_snat', 'integer', (c: ColumnDefinitionBuilder) => c.notNull().defaultTo(1))
    .addColumn('availability_zone_hints', 'text', (c: ColumnDefinitionBuilder) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.createIndex('network_routers_project').on('network_routers').column('project_id').execute();
  // A port belongs to at most one router: two attachments of one port cannot both commit.
  await db.schema
    .createTable('network_router_ports')
    .addColumn('port_id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('router_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('port_type', 'varchar(255)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('network_router_ports_router')
    .on('network_router_ports')
    .column('router_id')
    .execute();
  await db.schema
    .createTable('network_router_routes')
    .addColumn('router_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('destination', 'varchar(64)', (c) => c.notNull())
    .addColumn('nexthop', 'varchar(64)', (c) => c.notNull())
    .addPrimaryKeyConstraint('network_router_routes_pk', ['router_id', 'destination', 'nexthop'])
    .execute();
}

async function floatingIps(db: Kysely<unknown>): Promise<void> {
  await standardColumns(db.schema.createTable('network_floatingips'))
    .addColumn('floating_ip_address', 'varchar(64)', (c: ColumnDefinitionBuilder) => c.notNull())
    .addColumn('floating_network_id', 'varchar(36)', (c: ColumnDefinitionBuilder) => c.notNull())
    .addColumn('floating_port_id', 'varchar(36)', (c: ColumnDefinitionBuilder) => c.notNull())
    .addColumn('fixed_port_id', 'varchar(36)')
    .addColumn('fixed_ip_address', 'varchar(64)')
    .addColumn('router_id', 'varchar(36)')
    .addColumn('last_known_router_id', 'varchar(36)')
    .addColumn('status', 'varchar(16)', (c: ColumnDefinitionBuilder) => c.notNull())
    .execute();
  await db.schema
    .createIndex('network_floatingips_project')
    .on('network_floatingips')
    .column('project_id')
    .execute();
  // One floating IP per address on a network, and per fixed address of a port (Neutron's unique constraints);
  // NULLs (unassociated) never collide.
  await db.schema
    .createIndex('network_floatingips_address')
    .on('network_floatingips')
    .columns(['floating_network_id', 'floating_ip_address'])
    .unique()
    .execute();
  await db.schema
    .createIndex('network_floatingips_fixed')
    .on('network_floatingips')
    .columns(['floating_network_id', 'fixed_port_id', 'fixed_ip_address'])
    .unique()
    .execute();
  await db.schema
    .createIndex('network_floatingips_port')
    .on('network_floatingips')
    .column('floating_port_id')
    .unique()
    .execute();
  await db.schema
    .createTable('network_port_forwardings')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('floatingip_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('protocol', 'varchar(40)', (c) => c.notNull())
    .addColumn('external_port', 'integer', (c) => c.notNull())
    .addColumn('internal_port', 'integer', (c) => c.notNull())
    .addColumn('internal_ip_address', 'varchar(64)', (c) => c.notNull())
    .addColumn('internal_port_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .execute();
  // Neutron's two unique constraints: one external socket per floating IP, one internal socket per port.
  await db.schema
    .createIndex('network_port_forwardings_external')
    .on('network_port_forwardings')
    .columns(['floatingip_id', 'external_port', 'protocol'])
    .unique()
    .execute();
  await db.schema
    .createIndex('network_port_forwardings_internal')
    .on('network_port_forwardings')
    .columns(['internal_port_id', 'internal_ip_address', 'internal_port', 'protocol'])
    .unique()
    .execute();
}

export const l3Migration: Migration = {
  version: 3,
  name: 'l3',
  async up(db) {
    await routers(db);
    await floatingIps(db);
  },
};
