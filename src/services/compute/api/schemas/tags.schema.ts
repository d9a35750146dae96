// Bodies of the server tags API (2.26+): PUT /servers/{id}/tags and PUT /servers/{id}/tags/{tag}.

import { strict, tags, type VersionedSchema } from './parameter-types.ts';

/** PUT /servers/{server_id}/tags: the full list, at most 50 tags. */
export const serverTagsUpdateAll: VersionedSchema = Object.freeze({
  '2.26': strict({ tags }, ['tags']),
});
/** PUT /servers/{server_id}/tags/{tag}: no body (the tag is in the path; the handler checks its form). */
export const serverTagUpdate: VersionedSchema = Object.freeze({
  '2.26': { type: 'null' },
});
