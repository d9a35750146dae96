// Routers, router ports, floating IPs and port forwardings.
import type { Migration } from '../../../../platform/db/migrate.ts';

export const l3Migration: Migration = {
  version: 3,
  name: 'l3',
  async up(_db) {
    // The owner of this area creates its tables here.
  },
};
