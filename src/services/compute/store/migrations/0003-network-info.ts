// Nova's instance info cache: the server's VIFs (ports, addresses, floating IPs, groups) as Neutron last said.
import type { Kysely } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';

export const networkInfoCache: Migration = {
  version: 3,
  name: 'network-info-cache',
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the raw schema.
  async up(db: Kysely<any>) {
    await db.schema.alterTable('compute_servers').addColumn('network_info', 'text').execute();
  },
};
