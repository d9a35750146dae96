// Request schemas for /v3/users/{user_id}/application_credentials (Keystone's application_credential/schema.py).

const idString = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-]+$' };
const name = { type: 'string', minLength: 1, maxLength: 255, pattern: '[\\S]+' };

/** Validated against `body.application_credential` (or {} when absent), after the policy check. */
export const appCredentialCreateSchema: Record<string, unknown> = {
  type: 'object',
  required: ['name'],
  additionalProperties: true,
  properties: {
    name,
    description: { type: ['string', 'null'] },
    secret: { type: ['null', 'string'] },
    expires_at: { type: ['null', 'string'] },
    roles: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: idString, name },
        minProperties: 1,
        maxProperties: 1,
        additionalProperties: false,
      },
    },
    unrestricted: { type: 'boolean', enum: [true, false] },
    access_rules: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          path: { type: 'string', minLength: 0, maxLength: 225, pattern: '^\\/.*' },
          method: { type: 'string', pattern: '^(POST|GET|HEAD|PATCH|PUT|DELETE)$' },
          service: idString,
          id: idString,
        },
        additionalProperties: false,
      },
    },
  },
};
