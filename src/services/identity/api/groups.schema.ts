// Request-body schemas for /v3/groups, as Keystone's identity/schema.py (validated against the inner `group`).

const identityName = { type: 'string', minLength: 1, maxLength: 255, pattern: '[\\S]+' };
const idString = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-]+$' };

const groupProperties = {
  description: { type: ['string', 'null'] },
  domain_id: idString,
  name: identityName,
};

export const groupCreateSchema: Record<string, unknown> = {
  type: 'object',
  properties: groupProperties,
  required: ['name'],
  additionalProperties: true,
};

export const groupUpdateSchema: Record<string, unknown> = {
  type: 'object',
  properties: groupProperties,
  minProperties: 1,
  additionalProperties: true,
};
