// Identity's third schema step: policies, OAuth1 consumers, endpoint groups and project-endpoint associations
// (OS-EP-FILTER), and domain-specific configuration. Row types are in ../extras-tables.ts.
import type { Migration } from '../../../../platform/db/migrate.ts';

const id = 'varchar(64)';

export const extrasMigration: Migration = {
  version: 3,
  name: 'extras',
  async up(db) {
    const s = db.schema;
    await s
      .createTable('identity_policies')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('blob', 'text', (c) => c.notNull())
      .addColumn('type', 'varchar(255)', (c) => c.notNull())
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await s
      .createTable('identity_oauth_consumers')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('description', 'text')
      .addColumn('secret_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await s
      .createTable('identity_endpoint_groups')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('filters', 'text', (c) => c.notNull())
      .execute();
    await s
      .createTable('identity_project_endpoint_groups')
      .addColumn('endpoint_group_id', id, (c) => c.notNull())
      .addColumn('project_id', id, (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_project_endpoint_groups_pk', ['endpoint_group_id', 'project_id'])
      .execute();
    await s
      .createIndex('identity_project_endpoint_groups_project')
      .on('identity_project_endpoint_groups')
      .column('project_id')
      .execute();
    await s
      .createTable('identity_project_endpoints')
      .addColumn('endpoint_id', id, (c) => c.notNull())
      .addColumn('project_id', id, (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_project_endpoints_pk', ['endpoint_id', 'project_id'])
      .execute();
    await s
      .createIndex('identity_project_endpoints_project')
      .on('identity_project_endpoints')
      .column('project_id')
      .execute();
    await s
      .createTable('identity_domain_configs')
      .addColumn('domain_id', id, (c) => c.notNull())
      .addColumn('group_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('option_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('sensitive', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('identity_domain_configs_pk', ['domain_id', 'group_name', 'option_name'])
      .execute();
  },
};
