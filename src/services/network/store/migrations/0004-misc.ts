// Quotas, RBAC policies and network agents.
import type { Kysely } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';

async function quotas(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('network_quotas')
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('resource', 'varchar(255)', (c) => c.notNull())
    .addColumn('quota_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('network_quotas_pk', ['project_id', 'resource'])
    .execute();
}

async function rbacPolicies(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('network_rbac_policies')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('object_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('object_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('action', 'varchar(255)', (c) => c.notNull())
    .addColumn('target_project', 'varchar(255)', (c) => c.notNull())
    .execute();
  // Neutron's unique (target_project, object_id, action): two racing creates of one policy cannot both win.
  await db.schema
    .createIndex('network_rbac_policies_unique')
    .on('network_rbac_policies')
    .columns(['object_type', 'object_id', 'action', 'target_project'])
    .unique()
    .execute();
  await db.schema
    .createIndex('network_rbac_policies_target')
    .on('network_rbac_policies')
    .columns(['target_project', 'action'])
    .execute();
  await db.schema
    .createIndex('network_rbac_policies_project')
    .on('network_rbac_policies')
    .column('project_id')
    .execute();
}

async function agents(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('network_agents')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('agent_type', 'varchar(255)', (c) => c.notNull())
    .addColumn('binary', 'varchar(255)', (c) => c.notNull())
    .addColumn('topic', 'varchar(255)', (c) => c.notNull())
    .addColumn('host', 'varchar(255)', (c) => c.notNull())
    .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('availability_zone', 'varchar(255)')
    .addColumn('description', 'varchar(255)')
    .addColumn('configurations', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('resources_synced', 'integer')
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('started_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('heartbeat_timestamp', 'varchar(40)', (c) => c.notNull())
    .execute();
  // One agent of a type per host (Neutron's uniq_agents0agent_type0host): concurrent first heartbeats insert once.
  await db.schema
    .createIndex('network_agents_type_host')
    .on('network_agents')
    .columns(['agent_type', 'host'])
    .unique()
    .execute();
}

export const miscMigration: Migration = {
  version: 4,
  name: 'misc',
  async up(db) {
    await quotas(db);
    await rbacPolicies(db);
    await agents(db);
  },
};
