// The port table's indexes after every network migration: lookups by network still use an index (the unique
// (network_id, mac_address) one) once the single-column network index is gone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase, sql } from '../../../src/platform/db/database.ts';
import { migrate } from '../../../src/platform/db/migrate.ts';
import { networkMigrationSet } from '../../../src/services/network/service.ts';

test('ports by network are an index search, without a separate network_id index', async () => {
  const database = await openDatabase('sqlite::memory:');
  try {
    await migrate(database, [networkMigrationSet]);
    const indexes = await sql<{ name: string }>`select name from pragma_index_list('network_ports')`.execute(
      database.db,
    );
    const names = indexes.rows.map((r) => r.name);
    assert.ok(!names.includes('network_ports_network'), names.join(', '));
    assert.ok(names.includes('network_ports_mac'), names.join(', '));
    const plan = await sql<{
      detail: string;
    }>`explain query plan select id from network_ports where network_id = ${'n'}`.execute(database.db);
    const detail = plan.rows.map((r) => r.detail).join('; ');
    assert.match(detail, /SEARCH network_ports USING (COVERING )?INDEX network_ports_mac \(network_id=\?\)/);
  } finally {
    await database.close();
  }
});
