// Request schema for POST /v3/OS-TRUST/trusts (Keystone's trust/schema.py).

const idString = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-]+$' };
/** User ids may come from LDAP, so anything of 1 to 64 characters. */
const externalIdString = { type: 'string', minLength: 1, maxLength: 64 };
const name = { type: 'string', minLength: 1, maxLength: 255, pattern: '[\\S]+' };

/** Validated against `body.trust` (or {} when absent), after the policy check. */
export const trustCreateSchema: Record<string, unknown> = {
  type: 'object',
  required: ['trustor_user_id', 'trustee_user_id', 'impersonation'],
  additionalProperties: true,
  properties: {
    trustor_user_id: externalIdString,
    trustee_user_id: externalIdString,
    impersonation: { type: 'boolean', enum: [true, false] },
    project_id: { ...idString, type: ['string', 'null'] },
    remaining_uses: { type: ['integer', 'null'], minimum: 1 },
    expires_at: { type: ['null', 'string'] },
    allow_redelegation: { type: ['boolean', 'null'] },
    redelegation_count: { type: ['integer', 'null'], minimum: 0 },
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
  },
};
