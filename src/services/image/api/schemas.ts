// /v2/schemas/image(s) and /v2/schemas/member(s) as Glance renders them (api/v2/images.py get_base_properties,
// api/v2/image_members.py, glance/schema.py), and the image schema's validation with jsonschema's messages.
import type { Route } from '../../../platform/http/types.ts';
import { ImageErrors } from '../errors.ts';

type Json = Record<string, unknown>;

/** Glance's [image_format] defaults. */
export const DISK_FORMATS: readonly string[] = Object.freeze([
  'ami',
  'ari',
  'aki',
  'vhd',
  'vhdx',
  'vmdk',
  'raw',
  'qcow2',
  'vdi',
  'iso',
  'ploop',
]);
export const CONTAINER_FORMATS: readonly string[] = Object.freeze([
  'ami',
  'ari',
  'aki',
  'bare',
  'ovf',
  'ova',
  'docker',
  'compressed',
]);
export const IMAGE_STATUSES: readonly string[] = Object.freeze([
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'uploading',
  'importing',
  'pending_delete',
  'deactivated',
]);
export const VISIBILITIES: readonly string[] = Object.freeze(['community', 'public', 'private', 'shared']);

const UUID_PATTERN =
  '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

/** get_base_properties(), in Glance's order. */
function baseProperties(): Json {
  return {
    id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
    name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
    status: { type: 'string', readOnly: true, description: 'Status of the image', enum: [...IMAGE_STATUSES] },
    visibility: { type: 'string', description: 'Scope of image accessibility', enum: [...VISIBILITIES] },
    protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
    os_hidden: {
      type: 'boolean',
      description: 'If true, image will not appear in default image list response.',
    },
    checksum: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'md5 hash of image contents.',
      maxLength: 32,
    },
    os_hash_algo: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'Algorithm to calculate the os_hash_value',
      maxLength: 64,
    },
    os_hash_value: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo',
      maxLength: 128,
    },
    owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
    size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
    virtual_size: {
      type: ['null', 'integer'],
      readOnly: true,
      description: 'Virtual size of image in bytes',
    },
    container_format: {
      type: ['null', 'string'],
      description: 'Format of the container',
      enum: [null, ...CONTAINER_FORMATS],
    },
    disk_format: {
      type: ['null', 'string'],
      description: 'Format of the disk',
      enum: [null, ...DISK_FORMATS],
    },
    created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
    updated_at: {
      type: 'string',
      readOnly: true,
      description: 'Date and time of the last image modification',
    },
    tags: {
      type: 'array',
      description: 'List of strings related to the image',
      items: { type: 'string', maxLength: 255 },
    },
    direct_url: {
      type: 'string',
      readOnly: true,
      description: 'URL to access the image file kept in external store',
    },
    min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
    min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
    self: { type: 'string', readOnly: true, description: 'An image self url' },
    file: { type: 'string', readOnly: true, description: 'An image file url' },
    stores: {
      type: 'string',
      readOnly: true,
      description:
        'Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers.',
    },
    schema: { type: 'string', readOnly: true, description: 'An image schema url' },
    locations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          url: { type: 'string', maxLength: 255 },
          metadata: { type: 'object' },
          validation_data: {
            description:
              "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
            type: 'object',
            writeOnly: true,
            additionalProperties: false,
            properties: {
              checksum: { type: 'string', minLength: 32, maxLength: 32 },
              os_hash_algo: { type: 'string', maxLength: 64 },
              os_hash_value: { type: 'string', maxLength: 128 },
            },
            required: ['os_hash_algo', 'os_hash_value'],
          },
        },
        required: ['url', 'metadata'],
      },
      description: 'A set of URLs to access the image file kept in external store',
    },
  };
}

const BASE_PROPERTIES: Readonly<Json> = Object.freeze(baseProperties());

/** The names of the image schema's properties (Glance's "base" properties). */
export const IMAGE_SCHEMA_PROPERTIES: ReadonlySet<string> = new Set(Object.keys(BASE_PROPERTIES));

/** The type of an image schema property ('array' for tags and locations), or undefined for custom ones. */
export function imagePropertyType(name: string): unknown {
  return (BASE_PROPERTIES[name] as Json | undefined)?.['type'];
}

const LINKS = [
  { rel: 'self', href: '{self}' },
  { rel: 'enclosure', href: '{file}' },
  { rel: 'describedby', href: '{schema}' },
];

/** PermissiveSchema('image').raw(): custom properties are strings. */
export function imageSchema(): Json {
  return {
    name: 'image',
    properties: baseProperties(),
    additionalProperties: { type: 'string' },
    links: LINKS,
  };
}

export function imagesSchema(): Json {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

function memberProperties(): Json {
  return {
    member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
    image_id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
    created_at: { type: 'string', description: 'Date and time of image member creation' },
    updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
    status: {
      type: 'string',
      description: 'The status of this image member',
      enum: ['pending', 'accepted', 'rejected'],
    },
    schema: { readOnly: true, type: 'string' },
  };
}

/** Schema('member').minimal(). */
export function memberSchema(): Json {
  return { name: 'member', properties: memberProperties() };
}

/** CollectionSchema('members').minimal(). */
export function membersSchema(): Json {
  return {
    name: 'members',
    properties: { members: { type: 'array', items: memberSchema() }, schema: { type: 'string' } },
    links: [{ rel: 'describedby', href: '{schema}' }],
  };
}

export function schemaRoutes(): Route[] {
  return [
    { method: 'GET', path: '/image/v2/schemas/image', handler: () => ({ body: imageSchema() }) },
    { method: 'GET', path: '/image/v2/schemas/images', handler: () => ({ body: imagesSchema() }) },
    { method: 'GET', path: '/image/v2/schemas/member', handler: () => ({ body: memberSchema() }) },
    { method: 'GET', path: '/image/v2/schemas/members', handler: () => ({ body: membersSchema() }) },
  ];
}

// --- validation -------------------------------------------------------------------------------------------

/** Python's repr() of a JSON value, as jsonschema prints instances in its messages. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    let body = v
      .replaceAll('\\', '\\\\')
      .replaceAll('\n', '\\n')
      .replaceAll('\r', '\\r')
      .replaceAll('\t', '\\t');
    if (q === "'") body = body.replaceAll("'", "\\'");
    return q + body + q;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Json)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

function isType(v: unknown, t: string): boolean {
  switch (t) {
    case 'null':
      return v === null;
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    default:
      return true;
  }
}

/** The first jsonschema error of `v` against a (small subset of JSON Schema) property schema, or undefined. */
function propertyError(v: unknown, schema: Json): string | undefined {
  const type = schema['type'];
  if (type !== undefined) {
    const types = Array.isArray(type) ? (type as string[]) : [type as string];
    if (!types.some((t) => isType(v, t)))
      return `${pyRepr(v)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`;
  }
  const en = schema['enum'];
  if (Array.isArray(en) && !en.some((x) => x === v)) return `${pyRepr(v)} is not one of ${pyRepr(en)}`;
  if (typeof v === 'string') {
    const max = schema['maxLength'];
    // jsonschema counts code points, as Python's len() does.
    if (typeof max === 'number' && [...v].length > max) return `${pyRepr(v)} is too long`;
    const pattern = schema['pattern'];
    if (typeof pattern === 'string' && !new RegExp(pattern).test(v))
      return `${pyRepr(v)} does not match ${pyRepr(pattern)}`;
  }
  if (Array.isArray(v) && schema['items'] && typeof schema['items'] === 'object') {
    const items = schema['items'] as Json;
    for (const el of v) {
      const e =
        items['type'] === 'object'
          ? isType(el, 'object')
            ? undefined
            : `${pyRepr(el)} is not of type 'object'`
          : propertyError(el, items);
      if (e) return e;
    }
  }
  return undefined;
}

/**
 * Validates an image body (or a partial one, as PATCH does) against the image schema: core properties by their
 * schema, custom ones as strings. Throws 400 "Provided object does not match schema 'image': …" (InvalidObject).
 */
export function validateImageBody(obj: unknown): void {
  let reason: string | undefined;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    reason = `${pyRepr(obj)} is not of type 'object'`;
  } else {
    for (const [k, v] of Object.entries(obj as Json)) {
      const schema = (BASE_PROPERTIES[k] as Json | undefined) ?? { type: 'string' };
      reason = propertyError(v, schema);
      if (reason) break;
    }
  }
  if (reason) throw ImageErrors.badRequest(`Provided object does not match schema 'image': ${reason}`);
}
