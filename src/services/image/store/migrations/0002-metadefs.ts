// Image's second schema: the metadata definitions catalog (Glance's metadef_* tables), with the resource types
// Glance's default metadefs associate seeded (protected), so clients find some before any namespace exists.
import type { Migration } from '../../../../platform/db/migrate.ts';

/** Resource types Glance's shipped metadefs (etc/metadefs/*.json) associate namespaces with. */
export const SEEDED_RESOURCE_TYPES: readonly string[] = Object.freeze([
  'OS::Glance::Image',
  'OS::Cinder::Volume',
  'OS::Nova::Flavor',
  'OS::Nova::Aggregate',
  'OS::Nova::Server',
]);

export const metadefsMigration: Migration = {
  version: 2,
  name: 'metadefs',
  async up(db) {
    await db.schema
      .createTable('image_metadef_namespaces')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('namespace', 'varchar(80)', (c) => c.notNull().unique())
      .addColumn('display_name', 'varchar(80)')
      .addColumn('description', 'text')
      .addColumn('visibility', 'varchar(32)', (c) => c.notNull())
      .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('owner', 'varchar(255)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('image_metadef_namespaces_owner')
      .on('image_metadef_namespaces')
      .column('owner')
      .execute();
    await db.schema
      .createTable('image_metadef_resource_types')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(80)', (c) => c.notNull().unique())
      .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('image_metadef_associations')
      .addColumn('namespace_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('resource_type_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('prefix', 'varchar(80)')
      .addColumn('properties_target', 'varchar(80)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_metadef_associations_pk', ['namespace_id', 'resource_type_id'])
      .execute();
    await db.schema
      .createIndex('image_metadef_associations_type')
      .on('image_metadef_associations')
      .column('resource_type_id')
      .execute();
    for (const [table, extra] of [
      ['image_metadef_objects', ['description', 'required', 'properties']],
      ['image_metadef_properties', ['schema']],
      ['image_metadef_tags', []],
    ] as const) {
      let t = db.schema
        .createTable(table)
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('namespace_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('name', 'varchar(80)', (c) => c.notNull());
      for (const col of extra) {
        t = t.addColumn(col, 'text', (c) => (col === 'properties' || col === 'schema' ? c.notNull() : c));
      }
      await t
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
        .addUniqueConstraint(`${table}_namespace_name`, ['namespace_id', 'name'])
        .execute();
    }
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await db
      .insertInto('image_metadef_resource_types')
      .values(
        SEEDED_RESOURCE_TYPES.map((name, i) => ({
          id: `seeded-resource-type-${i + 1}`,
          name,
          protected: 1,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  },
};
