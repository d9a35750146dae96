// Placement's request body schemas (placement/schemas/*.py) per microversion, as JSON Schema data.

const UUID = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$',
};
export const UUID_PATTERN = '^[0-9a-fA-F-]{36}$';
export const RC_PATTERN = '^[A-Z0-9_]+$';
export const CUSTOM_PATTERN = '^CUSTOM_[A-Z0-9_]+$';
const MAX_INT = 0x7fffffff;
const FLOAT_MAX = 3.40282e38;

const rpProps = { name: { type: 'string', maxLength: 200 }, uuid: UUID };
export const POST_RP = {
  type: 'object',
  properties: rpProps,
  required: ['name'],
  additionalProperties: false,
};
export const PUT_RP = {
  type: 'object',
  properties: { name: rpProps.name },
  required: ['name'],
  additionalProperties: false,
};
const PARENT = { anyOf: [UUID, { type: 'null' }] };
export const POST_RP_1_14 = {
  ...POST_RP,
  properties: { ...rpProps, parent_provider_uuid: PARENT },
};
export const PUT_RP_1_14 = { ...PUT_RP, properties: { name: rpProps.name, parent_provider_uuid: PARENT } };

const int = (minimum: number) => ({ type: 'integer', maximum: MAX_INT, minimum });
const invProps = {
  resource_provider_generation: { type: 'integer' },
  total: int(1),
  reserved: int(0),
  min_unit: int(1),
  max_unit: int(1),
  step_size: int(1),
  allocation_ratio: { type: 'number', maximum: FLOAT_MAX },
};
export const BASE_INVENTORY = {
  type: 'object',
  properties: invProps,
  required: ['total', 'resource_provider_generation'],
  additionalProperties: false,
};
export const POST_INVENTORY = {
  type: 'object',
  properties: { ...invProps, resource_class: { type: 'string', pattern: RC_PATTERN } },
  required: ['total', 'resource_class'],
  additionalProperties: false,
};
const INVENTORY_RECORD = { ...BASE_INVENTORY, required: ['total'] };
export const PUT_INVENTORIES = {
  type: 'object',
  properties: {
    resource_provider_generation: { type: 'integer' },
    inventories: { type: 'object', patternProperties: { [RC_PATTERN]: INVENTORY_RECORD } },
  },
  required: ['resource_provider_generation', 'inventories'],
  additionalProperties: false,
};

export const RC_BODY = {
  type: 'object',
  properties: { name: { type: 'string', pattern: CUSTOM_PATTERN, maxLength: 255 } },
  required: ['name'],
  additionalProperties: false,
};

export const CUSTOM_TRAIT = { type: 'string', minLength: 1, maxLength: 255, pattern: CUSTOM_PATTERN };
export const SET_RP_TRAITS = {
  type: 'object',
  properties: {
    traits: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 } },
    resource_provider_generation: { type: 'integer' },
  },
  required: ['traits', 'resource_provider_generation'],
  additionalProperties: false,
};

const AGG_LIST = { type: 'array', items: UUID, uniqueItems: true };
export const PUT_AGGREGATES_1_1 = AGG_LIST;
export const PUT_AGGREGATES_1_19 = {
  type: 'object',
  properties: { aggregates: AGG_LIST, resource_provider_generation: { type: 'integer' } },
  required: ['aggregates', 'resource_provider_generation'],
  additionalProperties: false,
};

// Allocations.
const RESOURCES = {
  type: 'object',
  minProperties: 1,
  patternProperties: { [RC_PATTERN]: { type: 'integer', minimum: 1 } },
  additionalProperties: false,
};
export const ALLOCATION_1_0 = {
  type: 'object',
  properties: {
    allocations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: {
          resource_provider: {
            type: 'object',
            properties: { uuid: UUID },
            additionalProperties: false,
            required: ['uuid'],
          },
          resources: RESOURCES,
        },
        required: ['resource_provider', 'resources'],
        additionalProperties: false,
      },
    },
  },
  required: ['allocations'],
  additionalProperties: false,
};
const ID = { type: 'string', minLength: 1, maxLength: 255 };
export const ALLOCATION_1_8 = {
  ...ALLOCATION_1_0,
  properties: { ...ALLOCATION_1_0.properties, project_id: ID, user_id: ID },
  required: ['allocations', 'project_id', 'user_id'],
};
const allocDict = (minProperties: number) => ({
  type: 'object',
  minProperties,
  patternProperties: {
    [UUID_PATTERN]: {
      type: 'object',
      properties: { generation: { type: 'integer' }, resources: RESOURCES },
      required: ['resources'],
      additionalProperties: false,
    },
  },
  additionalProperties: false,
});
export const ALLOCATION_1_12 = {
  type: 'object',
  properties: { allocations: allocDict(1), project_id: ID, user_id: ID },
  additionalProperties: false,
  required: ['allocations', 'project_id', 'user_id'],
};
const DELETABLE = {
  ...ALLOCATION_1_12,
  properties: { ...ALLOCATION_1_12.properties, allocations: allocDict(0) },
};
const CONSUMER_GEN = { type: ['integer', 'null'] };
export const ALLOCATION_1_28 = {
  ...DELETABLE,
  properties: { ...DELETABLE.properties, consumer_generation: CONSUMER_GEN },
  required: [...DELETABLE.required, 'consumer_generation'],
};
const MAPPINGS = {
  type: 'object',
  minProperties: 1,
  patternProperties: {
    '^[a-zA-Z0-9_-]{1,64}$': { type: 'array', minItems: 1, items: UUID },
  },
};
export const ALLOCATION_1_34 = {
  ...ALLOCATION_1_28,
  properties: { ...ALLOCATION_1_28.properties, mappings: MAPPINGS },
};
export const CONSUMER_TYPE = { type: 'string', pattern: RC_PATTERN, minLength: 1, maxLength: 255 };
export const ALLOCATION_1_38 = {
  ...ALLOCATION_1_34,
  properties: { ...ALLOCATION_1_34.properties, consumer_type: CONSUMER_TYPE },
  required: [...ALLOCATION_1_34.required, 'consumer_type'],
};
const postOf = (item: Record<string, unknown>) => ({
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  patternProperties: { [UUID_PATTERN]: item },
});
export const POST_ALLOCATIONS_1_13 = postOf(DELETABLE);
export const POST_ALLOCATIONS_1_28 = postOf(ALLOCATION_1_28);
export const POST_ALLOCATIONS_1_34 = postOf(ALLOCATION_1_34);
export const POST_ALLOCATIONS_1_38 = postOf(ALLOCATION_1_38);

// Reshaper (1.30): inventories of several providers and allocations of several consumers at once.
const reshaperOf = (allocations: Record<string, unknown>) => ({
  type: 'object',
  properties: {
    inventories: {
      type: 'object',
      patternProperties: { [UUID_PATTERN]: PUT_INVENTORIES },
      minProperties: 1,
      additionalProperties: false,
    },
    allocations: { ...allocations, minProperties: 0 },
  },
  required: ['inventories', 'allocations'],
  additionalProperties: false,
});
export const POST_RESHAPER = reshaperOf(POST_ALLOCATIONS_1_28);
export const POST_RESHAPER_1_34 = reshaperOf(POST_ALLOCATIONS_1_34);
export const POST_RESHAPER_1_38 = reshaperOf(POST_ALLOCATIONS_1_38);
