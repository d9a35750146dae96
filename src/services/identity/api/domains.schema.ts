// Request shapes of /v3/domains (keystone/resource/schema.py: domain_create, domain_update).
import {
  booleanSchema,
  descriptionSchema,
  nameSchema,
  optionsSchema,
  tagsSchema,
} from './projects.schema.ts';

const domainProperties: Record<string, unknown> = {
  description: descriptionSchema,
  enabled: booleanSchema,
  name: nameSchema,
  tags: tagsSchema,
  options: optionsSchema,
};

export const domainCreateSchema: Record<string, unknown> = {
  type: 'object',
  properties: domainProperties,
  required: ['name'],
  additionalProperties: true,
};

export const domainUpdateSchema: Record<string, unknown> = {
  type: 'object',
  properties: domainProperties,
  minProperties: 1,
  additionalProperties: true,
};
