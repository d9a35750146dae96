// The network service's migrations, in order.
import type { Migration } from '../../../../platform/db/migrate.ts';
import { coreMigration } from './0001-core.ts';
import { securityMigration } from './0002-security.ts';
import { l3Migration } from './0003-l3.ts';
import { miscMigration } from './0004-misc.ts';
import { ipamMarksMigration } from './0005-ipam-marks.ts';
import { portsNetworkIndexMigration } from './0006-ports-network-index.ts';

export const networkMigrations: Migration[] = [
  coreMigration,
  securityMigration,
  l3Migration,
  miscMigration,
  ipamMarksMigration,
  portsNetworkIndexMigration,
];
