// The compute API's request body schemas, each a table keyed by the microversion it starts at (byVersion()).

export * from './aggregates.schema.ts';
export * from './flavors.schema.ts';
export * from './hosts.schema.ts';
export * from './interface-attachments.schema.ts';
export * from './keypairs.schema.ts';
export * from './metadata.schema.ts';
export * as migrateActions from './migrate-server.schema.ts';
export { forceComplete } from './migrate-server.schema.ts';
export type { JsonSchema, VersionedSchema } from './parameter-types.ts';
export * from './quotas.schema.ts';
export {
  getRDPConsole,
  getSerialConsole,
  getSPICEConsole,
  getVNCConsole,
  remoteConsoleCreate,
} from './remote-consoles.schema.ts';
export { type ServerActionSpec, serverActions } from './server-action-table.ts';
export * as lifecycleActions from './server-actions.schema.ts';
export * from './server-external-events.schema.ts';
export * from './server-groups.schema.ts';
export * from './servers.schema.ts';
export * from './services.schema.ts';
export * from './tags.schema.ts';
export * from './volume-attachments.schema.ts';
