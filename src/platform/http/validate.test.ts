import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiError } from '../errors.ts';
import { SchemaValidator } from './validate.ts';

const schema = {
  type: 'object',
  required: ['user'],
  properties: {
    user: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: { type: 'string', maxLength: 5 }, enabled: { type: 'boolean' } },
    },
  },
};

const message = (data: unknown) => {
  try {
    new SchemaValidator().validate(schema, data);
    return 'valid';
  } catch (e) {
    assert.equal((e as ApiError).status, 400);
    return (e as ApiError).message;
  }
};

describe('schema validation messages', () => {
  it('names the field as OpenStack does', () => {
    assert.equal(message({ user: { name: 'ok' } }), 'valid');
    assert.equal(message({}), "'user' is a required property");
    assert.equal(message({ user: {} }), "Invalid input for field 'user': 'name' is a required property");
    assert.equal(
      message({ user: { name: 3 } }),
      "Invalid input for field 'user/name': 3 is not of type 'string'",
    );
    assert.equal(
      message({ user: { name: 'x', enabled: 'yes' } }),
      "Invalid input for field 'user/enabled': 'yes' is not of type 'boolean'",
    );
    assert.equal(
      message({ user: { name: 'toolong' } }),
      "Invalid input for field 'user/name': 'toolong' is too long",
    );
    assert.equal(
      message({ user: { name: 'x', extra: 1 } }),
      "Invalid input for field 'user': Additional properties are not allowed ('extra' was unexpected)",
    );
  });
});
