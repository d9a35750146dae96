// Each subnet's IPAM low-water mark (network_ipam_marks), so a port create finds the lowest free address without
// reading every allocation of the network, and an index on ports' device_owner for the data plane's pending scan.
import { type Kysely, sql } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';

export const ipamMarksMigration: Migration = {
  version: 5,
  name: 'ipam-marks',
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the raw schema.
  async up(db: Kysely<any>, dialect) {
    const marks = db.schema
      .createTable('network_ipam_marks')
      .addColumn('subnet_id', 'varchar(36)', (c) => c.primaryKey())
      // The address (32 hex digits, so text order is numeric order) from which the subnet's pools may have free
      // addresses: every pool address below it is allocated. '' = the start of the pools.
      .addColumn('next_free', 'varchar(32)', (c) => c.notNull())
      // Bumped on every change: an advance only applies over the version it read (no lost lowering).
      .addColumn('version', 'integer', (c) => c.notNull());
    // SQLite: the row lives in its primary key's B-tree (one page written per change, not two).
    await (dialect === 'sqlite' ? marks.modifyEnd(sql`without rowid`) : marks).execute();
    // The fake data plane's pending-port scan (device_owner in the range of 'compute:…', or in (network:dhcp, …)):
    // both branches are index lookups.
    await db.schema.createIndex('network_ports_owner').on('network_ports').column('device_owner').execute();
  },
};
