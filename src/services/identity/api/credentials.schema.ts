// Request schemas for /v3/credentials (Keystone's credential/schema.py).
//
// Keystone expresses "ec2 also requires project_id" as a oneOf; the handler checks that one rule itself so the
// error names the missing field instead of a oneOf failure.

const credentialProperties = {
  blob: { type: 'string' },
  project_id: { type: 'string' },
  type: { type: 'string' },
  user_id: { type: 'string' },
};

export const credentialCreateSchema: Record<string, unknown> = {
  type: 'object',
  properties: credentialProperties,
  additionalProperties: true,
  required: ['blob', 'type', 'user_id'],
};

/** Only the blob may change (retyping, rescoping or reassigning in place is refused, as Keystone does). */
export const credentialUpdateSchema: Record<string, unknown> = {
  type: 'object',
  properties: { blob: credentialProperties.blob },
  additionalProperties: false,
  required: ['blob'],
};
