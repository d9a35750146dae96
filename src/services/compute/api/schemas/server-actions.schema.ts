// Bodies of POST /servers/{id}/action for the lifecycle actions (Nova's servers, lock_server, shelve,
// rescue, admin_password, create_backup, console_output, reset_server_state, security_groups, multinic
// and floating_ips schemas). Actions Nova does not validate get actionOnly().

import {
  adminPassword,
  boolean,
  description,
  diskConfig,
  flavorRef,
  hostname,
  integerOrString,
  ipAddress,
  ipv4,
  ipv6,
  type JsonSchema,
  metadata,
  name,
  nameOrNull,
  nonNegativeInteger,
  personality,
  strict,
  trustedCerts,
  userData,
  uuid,
  type VersionedSchema,
  wrap,
} from './parameter-types.ts';

/**
 * An action Nova takes without looking at its value ({"pause": null}, {"os-start": {}}, ...): only the
 * action key, alone, as Nova's action dispatcher requires a body of exactly one key.
 */
export function actionOnly(action: string): JsonSchema {
  return { type: 'object', required: [action], maxProperties: 1 };
}

const once = (schema: JsonSchema): VersionedSchema => Object.freeze({ '2.1': schema });

export const reboot = once(
  wrap(
    'reboot',
    strict({ type: { type: 'string', enum: ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'] } }, ['type']),
  ),
);
export const resize = once(
  wrap('resize', strict({ flavorRef, 'OS-DCF:diskConfig': diskConfig }, ['flavorRef'])),
);
export const confirmResize = once(actionOnly('confirmResize'));
export const revertResize = once(actionOnly('revertResize'));

function rebuildSchema(extra: Record<string, JsonSchema>, withPersonality: boolean): JsonSchema {
  const props: Record<string, JsonSchema> = {
    name,
    imageRef: uuid,
    adminPass: adminPassword,
    metadata,
    preserve_ephemeral: boolean,
    'OS-DCF:diskConfig': diskConfig,
    accessIPv4: ipv4,
    accessIPv6: ipv6,
    ...(withPersonality ? { personality } : {}),
    ...extra,
  };
  return wrap('rebuild', strict(props, ['imageRef']));
}

const rebuild219 = { description };
const rebuild254 = { ...rebuild219, key_name: nameOrNull };
const rebuild257 = { ...rebuild254, user_data: { oneOf: [userData, { type: 'null' }] } };
const rebuild263 = { ...rebuild257, trusted_image_certificates: trustedCerts };

export const rebuild: VersionedSchema = Object.freeze({
  '2.1': rebuildSchema({}, true),
  '2.19': rebuildSchema(rebuild219, true),
  '2.54': rebuildSchema(rebuild254, true),
  '2.57': rebuildSchema(rebuild257, false),
  '2.63': rebuildSchema(rebuild263, false),
  '2.90': rebuildSchema({ ...rebuild263, hostname }, false),
});

export const createImage = once(wrap('createImage', strict({ name, metadata }, ['name'])));
export const createBackup = once(
  wrap(
    'createBackup',
    strict({ name, backup_type: { type: 'string' }, rotation: nonNegativeInteger, metadata }, [
      'name',
      'backup_type',
      'rotation',
    ]),
  ),
);
export const start = once(actionOnly('os-start'));
export const stop = once(actionOnly('os-stop'));
export const pause = once(actionOnly('pause'));
export const unpause = once(actionOnly('unpause'));
export const suspend = once(actionOnly('suspend'));
export const resume = once(actionOnly('resume'));

/** lock: anything before 2.73, then null or {locked_reason}. */
export const lock: VersionedSchema = Object.freeze({
  '2.1': actionOnly('lock'),
  '2.73': wrap('lock', {
    type: ['object', 'null'],
    properties: { locked_reason: { type: 'string', minLength: 1, maxLength: 255 } },
    additionalProperties: false,
  }),
});
export const unlock = once(actionOnly('unlock'));
export const shelve = once(actionOnly('shelve'));
export const shelveOffload = once(actionOnly('shelveOffload'));

/** unshelve: anything before 2.77; then null or {availability_zone}; from 2.91 also host, and a null AZ. */
export const unshelve: VersionedSchema = Object.freeze({
  '2.1': actionOnly('unshelve'),
  // {"unshelve": {}} is refused: an object must name the availability zone.
  '2.77': wrap('unshelve', {
    type: ['object', 'null'],
    properties: { availability_zone: name },
    required: ['availability_zone'],
    additionalProperties: false,
  }),
  '2.91': wrap('unshelve', {
    oneOf: [
      strict({
        availability_zone: { oneOf: [{ type: 'null' }, { type: 'string' }] },
        host: { type: 'string' },
      }),
      { type: 'null' },
    ],
  }),
});

/** rescue (2.87 only changes which images may be used, not the body). */
export const rescue = once(
  wrap('rescue', {
    type: ['object', 'null'],
    properties: { adminPass: adminPassword, rescue_image_ref: uuid },
    additionalProperties: false,
  }),
);
export const unrescue = once(actionOnly('unrescue'));
export const changePassword = once(
  wrap('changePassword', strict({ adminPass: adminPassword }, ['adminPass'])),
);
export const resetState = once(
  wrap('os-resetState', strict({ state: { type: 'string', enum: ['active', 'error'] } }, ['state'])),
);
export const resetNetwork = once(actionOnly('resetNetwork'));
export const injectNetworkInfo = once(actionOnly('injectNetworkInfo'));
export const forceDelete = once(actionOnly('forceDelete'));
export const restore = once(actionOnly('restore'));

/** os-getConsoleOutput: length -1 (or null) is unlimited. */
export const getConsoleOutput = once(
  wrap(
    'os-getConsoleOutput',
    strict({ length: { ...integerOrString(-1), type: ['integer', 'string', 'null'] } }),
  ),
);

/** trigger_crash_dump (2.17+): the value must be null. */
export const triggerCrashDump: VersionedSchema = Object.freeze({
  '2.17': wrap('trigger_crash_dump', { type: 'null' }),
});

/**
 * addSecurityGroup / removeSecurityGroup: Nova checks by hand that `name` is present and not blank
 * ("Security group not specified" / "Security group name cannot be empty"), both 400s.
 */
function securityGroupAction(action: string): JsonSchema {
  return wrap(action, {
    type: 'object',
    properties: { name: { type: 'string', pattern: '\\S' } },
    required: ['name'],
  });
}
export const addSecurityGroup = once(securityGroupAction('addSecurityGroup'));
export const removeSecurityGroup = once(securityGroupAction('removeSecurityGroup'));

/** nova-network era actions, gone after 2.43. */
export const addFixedIp = once(
  wrap(
    'addFixedIp',
    strict({ networkId: { type: ['string', 'number'], minLength: 1, maxLength: 36 } }, ['networkId']),
  ),
);
export const removeFixedIp = once(wrap('removeFixedIp', strict({ address: ipAddress }, ['address'])));
export const addFloatingIp = once(
  wrap('addFloatingIp', strict({ address: ipAddress, fixed_address: ipAddress }, ['address'])),
);
export const removeFloatingIp = once(wrap('removeFloatingIp', strict({ address: ipAddress }, ['address'])));
