// Bodies of the server metadata API: POST/PUT /servers/{id}/metadata and PUT /servers/{id}/metadata/{key}.

import { type JsonSchema, metadata, strict, type VersionedSchema } from './parameter-types.ts';

const singleItem: JsonSchema = { ...metadata, minProperties: 1, maxProperties: 1 };

/** POST /servers/{server_id}/metadata: merge these items. */
export const serverMetadataCreate: VersionedSchema = Object.freeze({
  '2.1': strict({ metadata }, ['metadata']),
});
/** PUT /servers/{server_id}/metadata: replace every item. */
export const serverMetadataUpdateAll: VersionedSchema = Object.freeze({
  '2.1': strict({ metadata }, ['metadata']),
});
/** PUT /servers/{server_id}/metadata/{key}: exactly one item (the handler checks it names {key}). */
export const serverMetadataUpdate: VersionedSchema = Object.freeze({
  '2.1': strict({ meta: singleItem }, ['meta']),
});
