// Body of PUT /os-hosts/{host_name} (until 2.42): the new status and/or maintenance mode, as words.

import { type JsonSchema, strict, type VersionedSchema } from './parameter-types.ts';

const onOff: JsonSchema = {
  type: 'string',
  enum: ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'],
};

/**
 * Nova meant "status or maintenance_mode is required", but its anyOf sits among the properties, so an empty
 * body passes and answers only {"host": …}; a null value (what clients send for "not given") is a 400.
 */
export const hostUpdate: VersionedSchema = Object.freeze({
  '2.1': strict({ status: onOff, maintenance_mode: onOff }),
});
