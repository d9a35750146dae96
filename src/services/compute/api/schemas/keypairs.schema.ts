// Body of POST /os-keypairs: 2.2 adds type, 2.10 user_id, 2.92 requires public_key (no generation).

import { type JsonSchema, name, strict, type VersionedSchema, wrap } from './parameter-types.ts';

/** A keypair name: Nova's name rule plus a safe character set (2.92 adds '@' and '.'). */
function keypairName(safe: string): JsonSchema {
  return { allOf: [name, { type: 'string', minLength: 1, maxLength: 255, pattern: `^[${safe}]*$` }] };
}
const NAME_20 = keypairName('a-zA-Z0-9_\\- ');
const NAME_292 = keypairName('a-zA-Z0-9@._\\- ');
const keyType: JsonSchema = { type: 'string', enum: ['ssh', 'x509'] };
const publicKey: JsonSchema = { type: 'string' };

export const keypairCreate: VersionedSchema = Object.freeze({
  '2.1': wrap('keypair', strict({ name: NAME_20, public_key: publicKey }, ['name'])),
  '2.2': wrap('keypair', strict({ name: NAME_20, type: keyType, public_key: publicKey }, ['name'])),
  '2.10': wrap(
    'keypair',
    strict({ name: NAME_20, type: keyType, public_key: publicKey, user_id: { type: 'string' } }, ['name']),
  ),
  '2.92': wrap(
    'keypair',
    strict({ name: NAME_292, type: keyType, public_key: publicKey, user_id: { type: 'string' } }, [
      'name',
      'public_key',
    ]),
  ),
});
