// Drops network_ports_network: the unique (network_id, mac_address) index already serves every lookup by
// network_id (its leading column), and each index costs a port create one more page written at commit.
import type { Kysely } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';

export const portsNetworkIndexMigration: Migration = {
  version: 6,
  name: 'ports-network-index',
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the raw schema.
  async up(db: Kysely<any>) {
    await db.schema.dropIndex('network_ports_network').ifExists().execute();
  },
};
