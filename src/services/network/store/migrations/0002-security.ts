// Security groups, their rules and port bindings.
import type { Migration } from '../../../../platform/db/migrate.ts';

export const securityMigration: Migration = {
  version: 2,
  name: 'security',
  async up(_db) {
    // The owner of this area creates its tables here.
  },
};
