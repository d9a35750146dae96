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

/**
 * Any of blob, type, project_id and user_id may change. Zed's Keystone took only the blob; later releases (and
 * Tempest 33's test_credentials_create_get_update_delete) update project_id and type too.
 */
export const credentialUpdateSchema: Record<string, unknown> = {
  type: 'object',
  properties: credentialProperties,
  additionalProperties: true,
  minProperties: 1,
};
