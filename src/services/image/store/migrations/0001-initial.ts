// Image's first schema: images (soft-deleted), tags, members.
import type { Migration } from '../../../../platform/db/migrate.ts';
import { metadefsMigration } from './0002-metadefs.ts';
import { listIndexes } from './0003-list-indexes.ts';

export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up(db) {
    await db.schema
      .createTable('image_images')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)')
      .addColumn('status', 'varchar(30)', (c) => c.notNull())
      .addColumn('visibility', 'varchar(16)', (c) => c.notNull())
      .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('os_hidden', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('owner', 'varchar(64)')
      .addColumn('disk_format', 'varchar(32)')
      .addColumn('container_format', 'varchar(32)')
      .addColumn('min_disk', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('min_ram', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('size', 'bigint')
      .addColumn('virtual_size', 'bigint')
      .addColumn('checksum', 'varchar(32)')
      .addColumn('os_hash_algo', 'varchar(64)')
      .addColumn('os_hash_value', 'varchar(128)')
      .addColumn('properties', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('location', 'text')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted_at', 'varchar(40)')
      .execute();
    for (const col of ['owner', 'status', 'visibility', 'created_at', 'name']) {
      await db.schema.createIndex(`image_images_${col}`).on('image_images').column(col).execute();
    }
    await db.schema
      .createTable('image_tags')
      .addColumn('image_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('value', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_tags_pk', ['image_id', 'value'])
      .execute();
    await db.schema.createIndex('image_tags_value').on('image_tags').column('value').execute();
    await db.schema
      .createTable('image_members')
      .addColumn('image_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('member_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('status', 'varchar(20)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_members_pk', ['image_id', 'member_id'])
      .execute();
    await db.schema.createIndex('image_members_member').on('image_members').column('member_id').execute();
  },
};

export const imageMigrations: Migration[] = [initial, metadefsMigration, listIndexes];
