// Security groups, their rules, each project's default group, and port bindings.
import type { Kysely } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';
import { standardColumns } from './0001-core.ts';

async function up(db: Kysely<unknown>): Promise<void> {
  await standardColumns(db.schema.createTable('network_security_groups'))
    // biome-ignore lint/suspicious/noExplicitAny: standardColumns returns the untyped builder.
    .addColumn('stateful', 'integer', (c: any) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .createIndex('network_security_groups_project')
    .on('network_security_groups')
    .column('project_id')
    .execute();
  // One default group per project, even when first uses race.
  await db.schema
    .createTable('network_default_security_groups')
    .addColumn('project_id', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('security_group_id', 'varchar(36)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('network_security_group_rules')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('security_group_id', 'varchar(36)', (c) =>
      c.notNull().references('network_security_groups.id').onDelete('cascade'),
    )
    .addColumn('remote_group_id', 'varchar(36)', (c) =>
      c.references('network_security_groups.id').onDelete('cascade'),
    )
    .addColumn('direction', 'varchar(16)', (c) => c.notNull())
    .addColumn('ethertype', 'varchar(40)', (c) => c.notNull())
    .addColumn('protocol', 'varchar(40)')
    .addColumn('port_range_min', 'integer')
    .addColumn('port_range_max', 'integer')
    .addColumn('remote_ip_prefix', 'varchar(255)')
    .addColumn('rule_key', 'varchar(512)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Neutron's duplicate check as a constraint: two racing identical rules cannot both commit.
  await db.schema
    .createIndex('network_sg_rules_key')
    .on('network_security_group_rules')
    .columns(['security_group_id', 'rule_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('network_sg_rules_remote')
    .on('network_security_group_rules')
    .column('remote_group_id')
    .execute();
  await db.schema
    .createIndex('network_sg_rules_project')
    .on('network_security_group_rules')
    .column('project_id')
    .execute();
  // A group with ports cannot go (the reference refuses), and a binding to a deleted group cannot commit.
  await db.schema
    .createTable('network_port_security_groups')
    .addColumn('port_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('security_group_id', 'varchar(36)', (c) =>
      c.notNull().references('network_security_groups.id'),
    )
    .addPrimaryKeyConstraint('network_port_security_groups_pk', ['port_id', 'security_group_id'])
    .execute();
  await db.schema
    .createIndex('network_port_sgs_group')
    .on('network_port_security_groups')
    .column('security_group_id')
    .execute();
}

export const securityMigration: Migration = {
  version: 2,
  name: 'security',
  up,
};
