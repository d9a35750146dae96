// Bodies of POST and PUT /servers/{id}/os-volume_attachments[/{volume_id}], per microversion.

import {
  boolean,
  type JsonSchema,
  strict,
  tag,
  uuid,
  type VersionedSchema,
  wrap,
} from './parameter-types.ts';

/** A device path such as /dev/vdb, /dev/sdc or /dev/xvdd; null lets Nova pick. */
const device: JsonSchema = {
  type: ['string', 'null'],
  pattern: '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$',
};

/** POST: 2.49 adds tag, 2.79 delete_on_termination. */
export const volumeAttachmentCreate: VersionedSchema = Object.freeze({
  '2.1': wrap('volumeAttachment', strict({ volumeId: uuid, device }, ['volumeId'])),
  '2.49': wrap('volumeAttachment', strict({ volumeId: uuid, device, tag }, ['volumeId'])),
  '2.79': wrap(
    'volumeAttachment',
    strict({ volumeId: uuid, device, tag, delete_on_termination: boolean }, ['volumeId']),
  ),
});

/**
 * PUT: a swap to another volume (volumeId only) until 2.84; from 2.85 the other fields may be sent, and
 * only delete_on_termination may differ from the attachment's current values (the handler checks).
 */
export const volumeAttachmentUpdate: VersionedSchema = Object.freeze({
  '2.1': wrap('volumeAttachment', strict({ volumeId: uuid }, ['volumeId'])),
  '2.85': wrap(
    'volumeAttachment',
    strict({ volumeId: uuid, device, tag, delete_on_termination: boolean, serverId: uuid, id: uuid }, [
      'volumeId',
    ]),
  ),
});
