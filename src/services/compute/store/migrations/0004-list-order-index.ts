// The server lists' default order (created_at desc, id desc) straight from an index, per project and across
// projects, so a page of 1,000 needs no sort of the rows' tail.
import type { Kysely } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';

export const listOrderIndex: Migration = {
  version: 4,
  name: 'list-order-index',
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the raw schema.
  async up(db: Kysely<any>) {
    await db.schema
      .createIndex('compute_servers_project_id_deleted_created_at_id')
      .on('compute_servers')
      .columns(['project_id', 'deleted', 'created_at', 'id'])
      .execute();
    await db.schema
      .createIndex('compute_servers_deleted_created_at_id')
      .on('compute_servers')
      .columns(['deleted', 'created_at', 'id'])
      .execute();
    await db.schema.dropIndex('compute_servers_project_id_deleted_created_at').execute();
    await db.schema.dropIndex('compute_servers_deleted_created_at').execute();
  },
};
