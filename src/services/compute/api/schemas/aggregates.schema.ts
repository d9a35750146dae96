// Bodies of the host aggregate API: create, update, the add_host/remove_host/set_metadata actions, images.

import {
  azName,
  fqdn,
  type JsonSchema,
  metadataWithNull,
  name,
  nameWithSpaces,
  strict,
  uuid,
  type VersionedSchema,
  wrap,
} from './parameter-types.ts';

const availabilityZone: JsonSchema = { oneOf: [azName, { type: 'null' }] };

/** POST /os-aggregates. */
export const aggregateCreate: VersionedSchema = Object.freeze({
  '2.1': wrap('aggregate', strict({ name, availability_zone: availabilityZone }, ['name'])),
});

/** PUT /os-aggregates/{id}: name (spaces around it allowed, as Nova's update does) or zone, or both. */
export const aggregateUpdate: VersionedSchema = Object.freeze({
  '2.1': wrap('aggregate', {
    ...strict({ name: nameWithSpaces, availability_zone: availabilityZone }),
    anyOf: [{ required: ['name'] }, { required: ['availability_zone'] }],
  }),
});

/** POST /os-aggregates/{id}/action {"add_host": {"host": ...}}. */
export const aggregateAddHost: VersionedSchema = Object.freeze({
  '2.1': wrap('add_host', strict({ host: fqdn }, ['host'])),
});
/** POST /os-aggregates/{id}/action {"remove_host": {"host": ...}}. */
export const aggregateRemoveHost: VersionedSchema = Object.freeze({
  '2.1': wrap('remove_host', strict({ host: fqdn }, ['host'])),
});
/** POST /os-aggregates/{id}/action {"set_metadata": {"metadata": ...}}: a null value deletes the key. */
export const aggregateSetMetadata: VersionedSchema = Object.freeze({
  '2.1': wrap('set_metadata', strict({ metadata: metadataWithNull }, ['metadata'])),
});

/** POST /os-aggregates/{id}/images (2.81+): images to pre-cache on the aggregate's hosts. */
export const aggregateImages: VersionedSchema = Object.freeze({
  '2.81': strict({ cache: { type: 'array', minItems: 1, items: strict({ id: uuid }, ['id']) } }, ['cache']),
});
