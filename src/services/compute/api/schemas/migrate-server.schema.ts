// Bodies of the admin move actions: migrate, os-migrateLive, evacuate, and a migration's force_complete.

import {
  adminPassword,
  boolean,
  fqdn,
  type JsonSchema,
  strict,
  type VersionedSchema,
  wrap,
} from './parameter-types.ts';
import { actionOnly } from './server-actions.schema.ts';

const nullableHost: JsonSchema = { ...fqdn, type: ['string', 'null'] };

/** migrate: anything before 2.56, then null or {host}. */
export const migrate: VersionedSchema = Object.freeze({
  '2.1': actionOnly('migrate'),
  '2.56': wrap('migrate', {
    type: ['object', 'null'],
    properties: { host: nullableHost },
    additionalProperties: false,
  }),
});

const blockMigrationOrAuto: JsonSchema = {
  ...boolean,
  enum: [...(boolean['enum'] as unknown[]), 'auto'],
};

function liveSchema(props: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return wrap('os-migrateLive', strict({ ...props, host: nullableHost }, required));
}

/** os-migrateLive: 2.25 drops disk_over_commit and allows block_migration 'auto'; force is 2.30-2.67. */
export const migrateLive: VersionedSchema = Object.freeze({
  '2.1': liveSchema({ block_migration: boolean, disk_over_commit: boolean }, [
    'block_migration',
    'disk_over_commit',
    'host',
  ]),
  '2.25': liveSchema({ block_migration: blockMigrationOrAuto }, ['block_migration', 'host']),
  '2.30': liveSchema({ block_migration: blockMigrationOrAuto, force: boolean }, ['block_migration', 'host']),
  '2.68': liveSchema({ block_migration: blockMigrationOrAuto }, ['block_migration', 'host']),
});

/** evacuate: onSharedStorage required until 2.14, then gone; force is 2.29-2.67. */
export const evacuate: VersionedSchema = Object.freeze({
  '2.1': wrap(
    'evacuate',
    strict({ host: fqdn, onSharedStorage: boolean, adminPass: adminPassword }, ['onSharedStorage']),
  ),
  '2.14': wrap('evacuate', strict({ host: fqdn, adminPass: adminPassword })),
  '2.29': wrap('evacuate', strict({ host: fqdn, adminPass: adminPassword, force: boolean })),
  '2.68': wrap('evacuate', strict({ host: fqdn, adminPass: adminPassword })),
});

/** POST /servers/{id}/migrations/{migration_id}/action (2.22+): {"force_complete": null}. */
export const forceComplete: VersionedSchema = Object.freeze({
  '2.22': wrap('force_complete', { type: 'null' }),
});
