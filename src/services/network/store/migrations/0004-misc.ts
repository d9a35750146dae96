// Quotas, RBAC policies and network agents.
import type { Migration } from '../../../../platform/db/migrate.ts';

export const miscMigration: Migration = {
  version: 4,
  name: 'misc',
  async up(_db) {
    // The owner of this area creates its tables here.
  },
};
