// Request-body schemas for /v3/roles, as Keystone's assignment/schema.py (validated against the inner `role`).

const name = { type: 'string', minLength: 1, maxLength: 255, pattern: '[\\S]+' };

/** ROLE_OPTIONS_REGISTRY.json_schema: every option is nullable (null removes it); unknown options are refused. */
const roleOptions = {
  type: 'object',
  properties: { immutable: { type: ['boolean', 'null'], enum: [true, false, null] } },
  additionalProperties: false,
};

const roleProperties = {
  name,
  description: { type: 'string' },
  options: roleOptions,
  // Not in Keystone's schema (it trusts the driver); a non-string id could only fail later, less clearly.
  domain_id: { type: ['string', 'null'], maxLength: 64 },
};

export const roleCreateSchema: Record<string, unknown> = {
  type: 'object',
  properties: roleProperties,
  required: ['name'],
  additionalProperties: true,
};

export const roleUpdateSchema: Record<string, unknown> = {
  type: 'object',
  properties: roleProperties,
  minProperties: 1,
  additionalProperties: true,
};
