// The network service's tables (kysely types), one interface per area; columns shared by both dialects:
// booleans as integer 0/1, JSON as text, timestamps as ISO strings.
import type { CoreTables } from './tables-core.ts';
import type { L3Tables } from './tables-l3.ts';
import type { MiscTables } from './tables-misc.ts';
import type { SecurityTables } from './tables-security.ts';

/** Tags of every resource (resource_type: 'networks', 'ports', … as the collection name). */
export interface NetworkTagsTable {
  resource_type: string;
  resource_id: string;
  tag: string;
}

export interface NetworkTables extends CoreTables, SecurityTables, L3Tables, MiscTables {
  network_tags: NetworkTagsTable;
}
