// Compute's console authorisations: one row per console URL handed out, keyed by the sha256 of its token.
import type { Kysely } from 'kysely';
import type { DialectName } from '../../../../platform/db/database.ts';
import type { Migration } from '../../../../platform/db/migrate.ts';

export const consoleTokens: Migration = {
  version: 2,
  name: 'console-tokens',
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the raw schema.
  async up(db: Kysely<any>, dialect: DialectName) {
    let t = db.schema.createTable('compute_console_auth_tokens');
    t =
      dialect === 'postgres'
        ? t.addColumn('id', 'bigserial', (c) => c.primaryKey())
        : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
    await t
      .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('console_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('host', 'varchar(255)', (c) => c.notNull())
      .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('access_url_base', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('compute_console_auth_tokens_instance_uuid')
      .on('compute_console_auth_tokens')
      .column('instance_uuid')
      .execute();
    await db.schema
      .createIndex('compute_console_auth_tokens_expires_at')
      .on('compute_console_auth_tokens')
      .column('expires_at')
      .execute();
  },
};
