// Identity's first schema: domains, projects, users, groups, roles, assignments, catalog, credentials, revocations.
import type { Migration } from '../../../../platform/db/migrate.ts';
import { trustsMigration } from './0002-trusts.ts';
import { extrasMigration } from './0003-extras.ts';

const id = 'varchar(64)';

export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up(db, dialect) {
    const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
    const s = db.schema;
    await s
      .createTable('identity_domains')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await s
      .createTable('identity_projects')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('domain_id', id, (c) => c.notNull())
      .addColumn('parent_id', id)
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addUniqueConstraint('identity_projects_domain_name', ['domain_id', 'name'])
      .execute();
    await s.createIndex('identity_projects_parent').on('identity_projects').column('parent_id').execute();
    await s
      .createTable('identity_project_tags')
      .addColumn('project_id', id, (c) => c.notNull())
      .addColumn('tag', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_project_tags_pk', ['project_id', 'tag'])
      .execute();
    await s
      .createTable('identity_users')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('domain_id', id, (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('default_project_id', id)
      .addColumn('password_hash', 'varchar(255)')
      .addColumn('password_created_at', 'varchar(40)')
      .addColumn('password_expires_at', 'varchar(40)')
      .addColumn('failed_auth_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('failed_auth_at', 'varchar(40)')
      .addColumn('last_active_at', 'varchar(40)')
      .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addUniqueConstraint('identity_users_domain_name', ['domain_id', 'name'])
      .execute();
    await s
      .createTable('identity_password_history')
      .addColumn('id', serial, (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('user_id', id, (c) => c.notNull())
      .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await s
      .createIndex('identity_password_history_user')
      .on('identity_password_history')
      .column('user_id')
      .execute();
    await s
      .createTable('identity_groups')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('domain_id', id, (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addUniqueConstraint('identity_groups_domain_name', ['domain_id', 'name'])
      .execute();
    await s
      .createTable('identity_group_members')
      .addColumn('group_id', id, (c) => c.notNull())
      .addColumn('user_id', id, (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_group_members_pk', ['group_id', 'user_id'])
      .execute();
    await s
      .createIndex('identity_group_members_user')
      .on('identity_group_members')
      .column('user_id')
      .execute();
    await s
      .createTable('identity_roles')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('domain_id', id, (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addUniqueConstraint('identity_roles_domain_name', ['domain_id', 'name'])
      .execute();
    await s
      .createTable('identity_implied_roles')
      .addColumn('prior_role_id', id, (c) => c.notNull())
      .addColumn('implied_role_id', id, (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_implied_roles_pk', ['prior_role_id', 'implied_role_id'])
      .execute();
    await s
      .createTable('identity_assignments')
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('actor_id', id, (c) => c.notNull())
      .addColumn('target_id', id, (c) => c.notNull())
      .addColumn('role_id', id, (c) => c.notNull())
      .addColumn('inherited', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('identity_assignments_pk', [
        'type',
        'actor_id',
        'target_id',
        'role_id',
        'inherited',
      ])
      .execute();
    await s.createIndex('identity_assignments_actor').on('identity_assignments').column('actor_id').execute();
    await s
      .createIndex('identity_assignments_target')
      .on('identity_assignments')
      .column('target_id')
      .execute();
    await s.createIndex('identity_assignments_role').on('identity_assignments').column('role_id').execute();
    await s
      .createTable('identity_regions')
      .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('parent_region_id', 'varchar(255)')
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await s
      .createTable('identity_services')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('type', 'varchar(255)', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await s
      .createTable('identity_endpoints')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('service_id', id, (c) => c.notNull())
      .addColumn('interface', 'varchar(8)', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('region_id', 'varchar(255)')
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await s
      .createTable('identity_app_credentials')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', id, (c) => c.notNull())
      .addColumn('project_id', id, (c) => c.notNull())
      .addColumn('secret_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('expires_at', 'varchar(40)')
      .addColumn('unrestricted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addUniqueConstraint('identity_app_credentials_user_name', ['user_id', 'name'])
      .execute();
    await s
      .createTable('identity_app_credential_roles')
      .addColumn('app_cred_id', id, (c) => c.notNull())
      .addColumn('role_id', id, (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_app_credential_roles_pk', ['app_cred_id', 'role_id'])
      .execute();
    await s
      .createTable('identity_credentials')
      .addColumn('id', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('user_id', id, (c) => c.notNull())
      .addColumn('project_id', id)
      .addColumn('type', 'varchar(255)', (c) => c.notNull())
      .addColumn('blob', 'text', (c) => c.notNull())
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await s
      .createTable('identity_revocation_events')
      .addColumn('id', serial, (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('user_id', id)
      .addColumn('project_id', id)
      .addColumn('domain_id', id)
      .addColumn('role_id', id)
      .addColumn('audit_id', 'varchar(32)')
      .addColumn('audit_chain_id', 'varchar(32)')
      .addColumn('app_cred_id', id)
      .addColumn('issued_before', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'varchar(40)', (c) => c.notNull())
      .execute();
  },
};

export const identityMigrations: Migration[] = [initial, trustsMigration, extrasMigration];
