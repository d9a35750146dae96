// /v2/schemas/metadefs/*: the metadata definitions schemas as Glance renders them (api/v2/metadef_*.py get_schema,
// get_collection_schema; glance/schema.py raw()), and request validation against them with jsonschema's messages.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Route } from '../../../platform/http/types.ts';
import { ImageErrors } from '../errors.ts';
import { pyRepr } from './schemas.ts';

type Json = Record<string, unknown>;

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string', null];

/** metadef_namespaces.get_schema_definitions(); the properties API's own copy wants a non-empty stringArray. */
function definitions(stringArrayMinItems: boolean): Json {
  const stringArray: Json = { type: 'array', items: { type: 'string' } };
  if (stringArrayMinItems) stringArray['minItems'] = 1;
  stringArray['uniqueItems'] = true;
  const defs: Json = {
    positiveInteger: { type: 'integer', minimum: 0 },
    positiveIntegerDefault0: { allOf: [{ $ref: '#/definitions/positiveInteger' }, { default: 0 }] },
    stringArray,
  };
  if (!stringArrayMinItems) defs['property'] = { type: 'object', additionalProperties: propertyItem() };
  return defs;
}

/** The attributes of one property definition (the "property" definition's additionalProperties). */
function propertyProperties(): Json {
  return {
    name: { type: 'string', maxLength: 80 },
    title: { type: 'string' },
    description: { type: 'string' },
    operators: { type: 'array', items: { type: 'string' } },
    type: { type: 'string', enum: [...TYPES] },
    required: { $ref: '#/definitions/stringArray' },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    maxLength: { $ref: '#/definitions/positiveInteger' },
    minLength: { $ref: '#/definitions/positiveIntegerDefault0' },
    pattern: { type: 'string', format: 'regex' },
    enum: { type: 'array' },
    readonly: { type: 'boolean' },
    default: {},
    items: {
      type: 'object',
      properties: { type: { type: 'string', enum: [...TYPES] }, enum: { type: 'array' } },
    },
    maxItems: { $ref: '#/definitions/positiveInteger' },
    minItems: { $ref: '#/definitions/positiveIntegerDefault0' },
    uniqueItems: { type: 'boolean', default: false },
    additionalItems: { type: 'boolean' },
  };
}

function propertyItem(): Json {
  return { type: 'object', required: ['title', 'type'], properties: propertyProperties() };
}

const stamp = (what: string, last: string): Json => ({
  created_at: {
    type: 'string',
    readOnly: true,
    description: `Date and time of ${what}`,
    format: 'date-time',
  },
  updated_at: {
    type: 'string',
    readOnly: true,
    description: `Date and time of the last ${last}`,
    format: 'date-time',
  },
});
const LINK = { readOnly: true, type: 'string' };

function namespaceProperties(): Json {
  const { created_at, updated_at } = stamp('namespace creation', 'namespace modification');
  return {
    namespace: { type: 'string', description: 'The unique namespace text.', maxLength: 80 },
    display_name: {
      type: 'string',
      description: 'The user friendly name for the namespace. Used by UI if available.',
      maxLength: 80,
    },
    description: {
      type: 'string',
      description: 'Provides a user friendly description of the namespace.',
      maxLength: 500,
    },
    visibility: {
      type: 'string',
      description: 'Scope of namespace accessibility.',
      enum: ['public', 'private'],
    },
    protected: { type: 'boolean', description: 'If true, namespace will not be deletable.' },
    owner: { type: 'string', description: 'Owner of the namespace.', maxLength: 255 },
    created_at,
    updated_at,
    schema: { ...LINK },
    self: { ...LINK },
    resource_type_associations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          prefix: { type: 'string' },
          properties_target: { type: 'string' },
        },
      },
    },
    properties: { $ref: '#/definitions/property' },
    objects: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          required: { $ref: '#/definitions/stringArray' },
          properties: { $ref: '#/definitions/property' },
        },
      },
    },
    tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
  };
}

function objectProperties(): Json {
  return {
    name: { type: 'string', maxLength: 80 },
    description: { type: 'string' },
    required: { $ref: '#/definitions/stringArray' },
    properties: { $ref: '#/definitions/property' },
    schema: { ...LINK },
    self: { ...LINK },
    ...stamp('object creation', 'object modification'),
  };
}

function resourceTypeProperties(): Json {
  return {
    name: {
      type: 'string',
      description:
        'Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html',
      maxLength: 80,
    },
    prefix: {
      type: 'string',
      description:
        'Specifies the prefix to use for the given resource type. Any properties in the namespace should be prefixed with this prefix when being applied to the specified resource type. Must include prefix separator (e.g. a colon :).',
      maxLength: 80,
    },
    properties_target: {
      type: 'string',
      description:
        'Some resource types allow more than one key / value pair per instance.  For example, Cinder allows user and image metadata on volumes. Only the image properties metadata is evaluated by Nova (scheduling or drivers). This property allows a namespace target to remove the ambiguity.',
      maxLength: 80,
    },
    ...stamp('resource type association', 'resource type association modification'),
  };
}

function tagProperties(): Json {
  return { name: { type: 'string', maxLength: 80 }, ...stamp('tag creation', 'tag modification') };
}

/** Schema.raw(): definitions travel with the item unless a collection lifts them to its top. */
function raw(name: string, properties: Json, required: string[], defs?: Json): Json {
  const out: Json = { name, properties, additionalProperties: false };
  if (defs) out['definitions'] = defs;
  out['required'] = required;
  return out;
}

const COLLECTION_LINKS = [
  { rel: 'first', href: '{first}' },
  { rel: 'next', href: '{next}' },
  { rel: 'describedby', href: '{schema}' },
];

/** CollectionSchema.raw() (an array of items) or DictCollectionSchema.raw() (an object of them). */
function collection(name: string, item: Json, defs: Json | undefined, dict = false): Json {
  const out: Json = {
    name,
    properties: {
      [name]: dict ? { type: 'object', additionalProperties: item } : { type: 'array', items: item },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: COLLECTION_LINKS.map((l) => ({ ...l })),
  };
  if (defs) out['definitions'] = defs;
  return out;
}

export const metadefSchemas = {
  namespace: () => raw('namespace', namespaceProperties(), ['namespace'], definitions(false)),
  namespaces: () =>
    collection('namespaces', raw('namespace', namespaceProperties(), ['namespace']), definitions(false)),
  object: () => raw('object', objectProperties(), ['name'], definitions(false)),
  objects: () => collection('objects', raw('object', objectProperties(), ['name']), definitions(false)),
  property: () => raw('property', propertyProperties(), ['type', 'title', 'name'], definitions(true)),
  properties: () =>
    collection(
      'properties',
      raw('property', propertyProperties(), ['type', 'title']),
      definitions(true),
      true,
    ),
  resource_type: () => raw('resource_type_association', resourceTypeProperties(), ['name']),
  resource_types: () =>
    collection(
      'resource_type_associations',
      raw('resource_type_association', resourceTypeProperties(), ['name']),
      undefined,
    ),
  tag: () => raw('tag', tagProperties(), ['name']),
  tags: () => collection('tags', raw('tag', tagProperties(), ['name']), undefined),
} as const;

export function metadefSchemaRoutes(): Route[] {
  return Object.entries(metadefSchemas).map(([name, build]) => ({
    method: 'GET' as const,
    path: `/image/v2/schemas/metadefs/${name}`,
    handler: () => ({ body: build() }),
  }));
}

// --- validation -------------------------------------------------------------------------------------------

/** metadef_tags.get_schema_for_list(): the body of POST …/tags. */
function tagListSchema(): Json {
  return {
    name: 'tags',
    properties: {
      tags: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' } },
          required: ['name'],
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  };
}

/** properties.get_schema(require_name=False): each property of an object being created. */
function objectPropertySchema(): Json {
  return raw('property', propertyProperties(), ['type', 'title'], definitions(true));
}

// jsonschema.validate checks no formats unless asked to; neither do we.
const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false, useDefaults: false });
const SCHEMAS = {
  namespace: metadefSchemas.namespace,
  object: metadefSchemas.object,
  property: metadefSchemas.property,
  objectProperty: objectPropertySchema,
  resource_type_association: metadefSchemas.resource_type,
  tag: metadefSchemas.tag,
  tags: tagListSchema,
} as const;
type SchemaName = keyof typeof SCHEMAS;
const compiled = new Map<SchemaName, ValidateFunction>();

/** jsonschema's message for the first error ajv reports. */
function message(e: ErrorObject | undefined, data: unknown): string {
  if (!e) return 'Invalid input.';
  let value: unknown = data;
  for (const p of e.instancePath.split('/').slice(1)) {
    const key = p.replaceAll('~1', '/').replaceAll('~0', '~');
    value = (value as Record<string, unknown> | undefined)?.[key];
  }
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `'${String(p['missingProperty'])}' is a required property`;
    case 'type': {
      const types = String(p['type']).split(',');
      return `${pyRepr(value)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`;
    }
    case 'additionalProperties':
      return `Additional properties are not allowed ('${String(p['additionalProperty'])}' was unexpected)`;
    case 'maxLength':
    case 'maxItems':
      return `${pyRepr(value)} is too long`;
    case 'minLength':
    case 'minItems':
      return `${pyRepr(value)} is too short`;
    case 'enum':
      return `${pyRepr(value)} is not one of ${pyRepr(p['allowedValues'])}`;
    case 'minimum':
      return `${pyRepr(value)} is less than the minimum of ${String(p['limit'])}`;
    case 'uniqueItems':
      return `${pyRepr(value)} has non-unique elements`;
    default:
      return `${pyRepr(value)} ${e.message ?? 'is not valid'}`;
  }
}

/** Schema.validate: 400 "Provided object does not match schema '<name>': <reason>" (InvalidObject). */
export function validateMetadef(which: SchemaName, obj: unknown): void {
  let v = compiled.get(which);
  if (!v) {
    v = ajv.compile(SCHEMAS[which]());
    compiled.set(which, v);
  }
  if (v(obj)) return;
  const name = which === 'objectProperty' ? 'property' : which;
  throw ImageErrors.badRequest(
    `Provided object does not match schema '${name}': ${message(v.errors?.[0], obj)}`,
  );
}
