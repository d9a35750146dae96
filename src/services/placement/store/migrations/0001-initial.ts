// Placement's first schema: providers (a forest by parent/root uuid), inventories, consumers, allocations,
// custom resource classes and traits, and the provider trait/aggregate associations.
import type { Migration } from '../../../../platform/db/migrate.ts';

export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up(db) {
    await db.schema
      .createTable('placement_resource_providers')
      .addColumn('uuid', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('parent_uuid', 'varchar(36)')
      .addColumn('root_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('placement_rp_parent')
      .on('placement_resource_providers')
      .column('parent_uuid')
      .execute();
    await db.schema
      .createIndex('placement_rp_root')
      .on('placement_resource_providers')
      .column('root_uuid')
      .execute();
    await db.schema
      .createTable('placement_inventories')
      .addColumn('rp_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('resource_class', 'varchar(255)', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('reserved', 'integer', (c) => c.notNull())
      .addColumn('min_unit', 'integer', (c) => c.notNull())
      .addColumn('max_unit', 'integer', (c) => c.notNull())
      .addColumn('step_size', 'integer', (c) => c.notNull())
      .addColumn('allocation_ratio', 'double precision', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addPrimaryKeyConstraint('placement_inventories_pk', ['rp_uuid', 'resource_class'])
      .execute();
    await db.schema
      .createIndex('placement_inventories_rc')
      .on('placement_inventories')
      .column('resource_class')
      .execute();
    await db.schema
      .createTable('placement_consumers')
      .addColumn('uuid', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('consumer_type', 'varchar(255)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('placement_consumers_project')
      .on('placement_consumers')
      .columns(['project_id', 'user_id'])
      .execute();
    await db.schema
      .createTable('placement_allocations')
      .addColumn('consumer_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('rp_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('resource_class', 'varchar(255)', (c) => c.notNull())
      .addColumn('used', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addPrimaryKeyConstraint('placement_allocations_pk', ['consumer_id', 'rp_uuid', 'resource_class'])
      .execute();
    await db.schema
      .createIndex('placement_allocations_rp')
      .on('placement_allocations')
      .columns(['rp_uuid', 'resource_class'])
      .execute();
    await db.schema
      .createTable('placement_resource_classes')
      .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('placement_traits')
      .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('placement_provider_traits')
      .addColumn('rp_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('trait', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('placement_provider_traits_pk', ['rp_uuid', 'trait'])
      .execute();
    await db.schema
      .createIndex('placement_provider_traits_trait')
      .on('placement_provider_traits')
      .column('trait')
      .execute();
    await db.schema
      .createTable('placement_provider_aggregates')
      .addColumn('rp_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('aggregate_uuid', 'varchar(36)', (c) => c.notNull())
      .addPrimaryKeyConstraint('placement_provider_aggregates_pk', ['rp_uuid', 'aggregate_uuid'])
      .execute();
    await db.schema
      .createIndex('placement_provider_aggregates_agg')
      .on('placement_provider_aggregates')
      .column('aggregate_uuid')
      .execute();
  },
};

export const placementMigrations: Migration[] = [initial];
