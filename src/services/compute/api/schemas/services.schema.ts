// Body of PUT /os-services/{action} (up to 2.52) and PUT /os-services/{service_id} (2.53+).

import { boolean, fqdn, type JsonSchema, strict, type VersionedSchema } from './parameter-types.ts';

const binary: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };
const disabledReason: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };

/**
 * Until 2.52 the action is in the path (enable, disable, disable-log-reason, force-down) and the body
 * names the service by host and binary; 2.11 adds forced_down. From 2.53 the service is named by its
 * UUID and the body carries the new status.
 */
export const serviceUpdate: VersionedSchema = Object.freeze({
  '2.1': strict({ host: fqdn, binary, disabled_reason: disabledReason }, ['host', 'binary']),
  '2.11': strict({ host: fqdn, binary, disabled_reason: disabledReason, forced_down: boolean }, [
    'host',
    'binary',
  ]),
  '2.53': strict({
    status: { type: 'string', enum: ['enabled', 'disabled'] },
    disabled_reason: disabledReason,
    forced_down: boolean,
  }),
});
