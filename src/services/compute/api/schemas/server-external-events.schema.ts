// Body of POST /os-server-external-events (sent by Neutron, Cinder, Cyborg), per microversion.

import { type JsonSchema, strict, uuid, type VersionedSchema } from './parameter-types.ts';

const BASE_EVENTS = [
  'network-changed',
  'network-vif-plugged',
  'network-vif-unplugged',
  'network-vif-deleted',
];

function eventsSchema(names: string[]): JsonSchema {
  const event = strict(
    {
      server_uuid: uuid,
      name: { type: 'string', enum: names },
      status: { type: 'string', enum: ['failed', 'completed', 'in-progress'] },
      tag: { type: 'string', maxLength: 255 },
    },
    ['server_uuid', 'name'],
  );
  return strict({ events: { type: 'array', minItems: 1, items: event } }, ['events']);
}

/** Each microversion adds one event name. */
export const serverExternalEventsCreate: VersionedSchema = Object.freeze({
  '2.1': eventsSchema(BASE_EVENTS),
  '2.51': eventsSchema([...BASE_EVENTS, 'volume-extended']),
  '2.76': eventsSchema([...BASE_EVENTS, 'volume-extended', 'power-update']),
  '2.82': eventsSchema([...BASE_EVENTS, 'volume-extended', 'power-update', 'accelerator-request-bound']),
  '2.93': eventsSchema([
    ...BASE_EVENTS,
    'volume-extended',
    'power-update',
    'accelerator-request-bound',
    'volume-reimaged',
  ]),
});
