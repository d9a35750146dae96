// Request shapes of /v3/regions, /v3/services and /v3/endpoints (keystone/catalog/schema.py), and Keystone's
// check of endpoint URL substitutions (keystone/common/utils.py check_endpoint_url).
import { IdentityErrors } from '../errors.ts';
import { booleanSchema, descriptionSchema } from './projects.schema.ts';

type Schema = Record<string, unknown>;

const regionProperties: Schema = {
  description: descriptionSchema,
  id: { type: 'string' },
  parent_region_id: { type: ['string', 'null'] },
};

export const regionCreateSchema: Schema = {
  type: 'object',
  properties: regionProperties,
  additionalProperties: true,
};
export const regionUpdateSchema: Schema = {
  type: 'object',
  properties: regionProperties,
  minProperties: 1,
  additionalProperties: true,
};

const serviceProperties: Schema = {
  enabled: booleanSchema,
  name: { type: 'string', minLength: 1, maxLength: 255, pattern: '[\\S]+' },
  type: { type: 'string', minLength: 1, maxLength: 255 },
};

export const serviceCreateSchema: Schema = {
  type: 'object',
  properties: serviceProperties,
  required: ['type'],
  additionalProperties: true,
};
export const serviceUpdateSchema: Schema = {
  type: 'object',
  properties: serviceProperties,
  minProperties: 1,
  additionalProperties: true,
};

const endpointProperties: Schema = {
  enabled: booleanSchema,
  interface: { type: 'string', enum: ['admin', 'internal', 'public'] },
  region_id: { type: 'string' },
  region: { type: 'string' },
  service_id: { type: 'string' },
  url: { type: 'string', minLength: 0, maxLength: 225, pattern: '^[a-zA-Z0-9+.-]+:.+' },
};

export const endpointCreateSchema: Schema = {
  type: 'object',
  properties: endpointProperties,
  required: ['interface', 'service_id', 'url'],
  additionalProperties: true,
};
export const endpointUpdateSchema: Schema = {
  type: 'object',
  properties: endpointProperties,
  minProperties: 1,
  additionalProperties: true,
};

/** The substitutions an endpoint URL may use, as $(name)s. */
const URL_SUBSTITUTIONS = new Set([
  'tenant_id',
  'project_id',
  'user_id',
  'public_bind_host',
  'admin_bind_host',
  'compute_host',
  'admin_port',
  'public_port',
  'public_endpoint',
]);

/**
 * Whether `url.replace('$(', '%(') % {allowed: ''}` would succeed in Python: every %-spec must be `%%`, a
 * string conversion of an allowed key, or a single leading unkeyed string conversion (the dict itself).
 */
export function isValidEndpointUrl(url: string): boolean {
  const s = url.replaceAll('$(', '%(');
  let positionalUsed = false;
  let keyedSeen = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '%') continue;
    let j = i + 1;
    let key: string | undefined;
    if (s[j] === '(') {
      const close = s.indexOf(')', j);
      if (close < 0) return false;
      key = s.slice(j + 1, close);
      j = close + 1;
    }
    while (j < s.length && '#0- +'.includes(s[j] as string)) j++;
    if (s[j] === '*') return false;
    while (j < s.length && /[0-9]/.test(s[j] as string)) j++;
    if (s[j] === '.') {
      j++;
      if (s[j] === '*') return false;
      while (j < s.length && /[0-9]/.test(s[j] as string)) j++;
    }
    while (j < s.length && 'hlL'.includes(s[j] as string)) j++;
    const conv = s[j];
    if (conv === undefined) return false;
    if (conv === '%') {
      i = j;
      continue;
    }
    if (!'diouxXeEfFgGcrsa'.includes(conv)) return false;
    if (key !== undefined) {
      if (!URL_SUBSTITUTIONS.has(key) || !'rsa'.includes(conv)) return false;
      keyedSeen = true;
    } else {
      if (positionalUsed || keyedSeen || !'rsa'.includes(conv)) return false;
      positionalUsed = true;
    }
    i = j;
  }
  return true;
}

export function checkEndpointUrl(url: string): void {
  if (!isValidEndpointUrl(url)) {
    throw IdentityErrors.validation(`Cannot create an endpoint with an invalid URL: ${url}.`);
  }
}
