// Body of POST /servers/{id}/os-interface (attach a port or a network); 2.49 adds tag.

import { ipAddress, type JsonSchema, strict, tag, uuid, type VersionedSchema } from './parameter-types.ts';

function attachSchema(extra: Record<string, JsonSchema>): JsonSchema {
  const fixedIps: JsonSchema = {
    type: 'array',
    minItems: 1,
    maxItems: 1,
    items: strict({ ip_address: ipAddress }, ['ip_address']),
  };
  // Nova does not require the interfaceAttachment key: an empty body asks for any network.
  return strict({
    interfaceAttachment: strict({ net_id: uuid, port_id: uuid, fixed_ips: fixedIps, ...extra }),
  });
}

export const interfaceAttachmentCreate: VersionedSchema = Object.freeze({
  '2.1': attachSchema({}),
  '2.49': attachSchema({ tag }),
});
