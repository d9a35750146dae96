// Body of POST /os-server-groups: one policy in a list until 2.64, then `policy` and `rules`.

import {
  type JsonSchema,
  name,
  positiveInteger,
  strict,
  type VersionedSchema,
  wrap,
} from './parameter-types.ts';

const HARD = ['anti-affinity', 'affinity'];
const ALL = [...HARD, 'soft-anti-affinity', 'soft-affinity'];

function withPolicies(allowed: string[]): JsonSchema {
  const policies: JsonSchema = {
    type: 'array',
    items: { type: 'string', enum: allowed },
    uniqueItems: true,
    minItems: 1,
    maxItems: 1,
  };
  return wrap('server_group', strict({ name, policies }, ['name', 'policies']));
}

export const serverGroupCreate: VersionedSchema = Object.freeze({
  '2.1': withPolicies(HARD),
  '2.15': withPolicies(ALL),
  '2.64': wrap(
    'server_group',
    strict(
      {
        name,
        policy: { type: 'string', enum: ALL },
        rules: strict({ max_server_per_host: positiveInteger }),
      },
      ['name', 'policy'],
    ),
  ),
});
