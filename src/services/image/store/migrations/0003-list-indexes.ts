// Indexes for GET /v2/images, which pages in SQL: one per sort key, followed by the tie-breakers created_at and
// id, on the very expressions the list query orders by (NULL as '' or 0; PostgreSQL in "C" collation, the byte
// order JavaScript compares in), so a page reads about `limit` rows whatever the number of images.
import { sql } from 'kysely';
import type { Migration } from '../../../../platform/db/migrate.ts';

/** Sort key → its expression in api/image-list.ts (sortExpr). */
const KEYS: [string, string][] = [
  ['name', `coalesce("name", '')`],
  ['status', '"status"'],
  ['container_format', `coalesce("container_format", '')`],
  ['disk_format', `coalesce("disk_format", '')`],
  ['size', 'coalesce("size", 0)'],
  ['updated_at', '"updated_at"'],
];

export const listIndexes: Migration = {
  version: 3,
  name: 'list-indexes',
  async up(db, dialect) {
    const text = (e: string) => (dialect === 'postgres' ? `(${e}) collate "C"` : e);
    const tail = `${text('"created_at"')}, ${text('"id"')}`;
    // The default order (created_at, id) replaces the single-column created_at index.
    await db.schema.dropIndex('image_images_created_at').execute();
    await sql.raw(`create index "image_images_sort_created_at" on "image_images" (${tail})`).execute(db);
    for (const [key, expr] of KEYS) {
      const first = key === 'size' ? `(${expr})` : text(expr);
      await sql
        .raw(`create index "image_images_sort_${key}" on "image_images" (${first}, ${tail})`)
        .execute(db);
    }
  },
};
