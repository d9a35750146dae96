// Identity's second schema step: OS-TRUST trusts (soft-deleted, as Keystone keeps them), their delegated roles,
// and a trust filter on revocation events.
import type { Migration } from '../../../../platform/db/migrate.ts';

const id = 'varchar(64)';

export const trustsMigration: Migration = {
  version: 2,
  name: 'trusts',
  async up(db) {
    const s = db.schema;
    await s
      .createTable('identity_trusts')
      .addColumn('id', id, (c) => c.primaryKey())
      .addColumn('trustor_user_id', id, (c) => c.notNull())
      .addColumn('trustee_user_id', id, (c) => c.notNull())
      .addColumn('project_id', id)
      .addColumn('impersonation', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(40)')
      .addColumn('remaining_uses', 'integer')
      .addColumn('redelegation_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('redelegated_trust_id', id)
      .addColumn('deleted_at', 'varchar(40)')
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await s.createIndex('identity_trusts_trustor').on('identity_trusts').column('trustor_user_id').execute();
    await s.createIndex('identity_trusts_trustee').on('identity_trusts').column('trustee_user_id').execute();
    await s.createIndex('identity_trusts_project').on('identity_trusts').column('project_id').execute();
    await s
      .createTable('identity_trust_roles')
      .addColumn('trust_id', id, (c) => c.notNull())
      .addColumn('role_id', id, (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_trust_roles_pk', ['trust_id', 'role_id'])
      .execute();
    await s.createIndex('identity_trust_roles_role').on('identity_trust_roles').column('role_id').execute();
    await s.alterTable('identity_revocation_events').addColumn('trust_id', id).execute();
  },
};
