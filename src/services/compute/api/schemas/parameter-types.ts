// Shared JSON Schema building blocks for compute request bodies, after Nova's api/validation/parameter_types.
//
// Nova validates with Draft 4 plus custom formats ('name', 'az_name', 'base64', 'uuid' as oslo's
// is_uuid_like, ...) and a minimum/maximum that also applies to numeric strings. Ajv has none of those,
// so each is written here as a pattern (ajv compiles patterns with the `u` flag, so \p{...} works).

/** A JSON Schema (draft-07, as our SchemaValidator compiles it). */
export type JsonSchema = Record<string, unknown>;

/** A schema table keyed by the microversion it starts at, for byVersion()'s floor lookup. */
export type VersionedSchema = Readonly<Record<string, JsonSchema>>;

// Python's "printable": not a control/format/unassigned/private character (C*), and no separator other
// than the space separators (Zs). Nova only scans the Basic Multilingual Plane, so astral characters
// (emoji and the like) are outside every class it builds.
const ASTRAL = '\\u{10000}-\\u{10FFFF}';
const PRINTABLE = `[^\\p{C}\\p{Zl}\\p{Zp}${ASTRAL}]`;
const PRINTABLE_NO_SPACE = `[^\\p{C}\\p{Z}${ASTRAL}]`;
const PRINTABLE_NO_COLON = `[^\\p{C}\\p{Zl}\\p{Zp}:${ASTRAL}]`;
const PRINTABLE_NO_SPACE_NO_COLON = `[^\\p{C}\\p{Z}:${ASTRAL}]`;

/** Printable, neither starting nor ending with whitespace (Nova's 'name' format). */
export const NAME_PATTERN = `^(?:${PRINTABLE_NO_SPACE}(?:${PRINTABLE}*${PRINTABLE_NO_SPACE})?)?$`;
/** Printable with at least one non-space character (Nova's 'name_with_leading_trailing_spaces'). */
export const NAME_WITH_SPACES_PATTERN = `^${PRINTABLE}*${PRINTABLE_NO_SPACE}${PRINTABLE}*$`;
/** As NAME_PATTERN, without ':' (Nova's 'az_name'). */
export const AZ_NAME_PATTERN = `^(?:${PRINTABLE_NO_SPACE_NO_COLON}(?:${PRINTABLE_NO_COLON}*${PRINTABLE_NO_SPACE_NO_COLON})?)?$`;
/** Printable characters only, possibly none (Nova's description regex). */
export const DESCRIPTION_PATTERN = `^${PRINTABLE}*$`;
/** oslo's is_uuid_like: 32 hex digits, any hyphens, optional braces and urn:/uuid: prefixes, any case. */
export const UUID_PATTERN = '^(?:urn:)?(?:uuid:)?\\{?(?:-*[0-9a-fA-F]){32}-*\\}?$';
/** Standard base64 (Python's b64decode also skips whitespace), with correct padding. */
export const BASE64_PATTERN =
  '^\\s*(?:(?:[A-Za-z0-9+/]\\s*){4})*(?:(?:[A-Za-z0-9+/]\\s*){2}==\\s*|(?:[A-Za-z0-9+/]\\s*){3}=\\s*)?$';
/** Metadata keys (the `9-_` in Nova's class is a literal dash, in Python as in JavaScript). */
export const METADATA_KEY_PATTERN = '^[a-zA-Z0-9\\-_:. ]{1,255}$';
export const MAX_INT = 0x7fffffff;
export const MAX_TAG_LENGTH = 60;
export const MAX_TAG_COUNT = 50;

/** Decimal digits (leading zeros allowed) whose value is at most `max`. */
function digitsAtMost(max: number): string {
  const s = String(max);
  const alts = s.length > 1 ? [`[1-9][0-9]{0,${s.length - 2}}`] : [];
  for (let i = 0; i < s.length; i++) {
    const lo = i === 0 ? 1 : 0;
    const hi = Number(s[i]) - 1;
    if (hi < lo) continue;
    const rest = s.length - i - 1;
    alts.push(`${s.slice(0, i)}[${lo}-${hi}]${rest > 0 ? `[0-9]{${rest}}` : ''}`);
  }
  alts.push(s);
  return `0*(?:${alts.join('|')})`;
}

/**
 * An integer given as a JSON number or a numeric string, between min (-1, 0 or 1) and max: Nova checks
 * both bounds on strings too, which Ajv only does on numbers, so the string bounds live in the pattern.
 */
export function integerOrString(min: -1 | 0 | 1, max?: number): JsonSchema {
  const positive = max === undefined ? '0*[1-9][0-9]*' : digitsAtMost(max);
  const alts = [positive];
  if (min <= 0) alts.push('0+');
  if (min === -1) alts.push('-0*1', '-0+');
  return {
    type: ['integer', 'string'],
    pattern: `^(?:${alts.join('|')})$`,
    minimum: min,
    ...(max === undefined ? {} : { maximum: max }),
  };
}

/** Nova's lenient boolean: JSON booleans or one of oslo's spellings of true and false. */
export const boolean: JsonSchema = {
  type: ['boolean', 'string'],
  enum: [
    true,
    'True',
    'TRUE',
    'true',
    '1',
    'ON',
    'On',
    'on',
    'YES',
    'Yes',
    'yes',
    false,
    'False',
    'FALSE',
    'false',
    '0',
    'OFF',
    'Off',
    'off',
    'NO',
    'No',
    'no',
  ],
};

export const name: JsonSchema = { type: 'string', minLength: 1, maxLength: 255, pattern: NAME_PATTERN };
export const nameWithSpaces: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: NAME_WITH_SPACES_PATTERN,
};
export const azName: JsonSchema = { type: 'string', minLength: 1, maxLength: 255, pattern: AZ_NAME_PATTERN };
export const nameOrNull: JsonSchema = {
  oneOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'null' }],
};
export const description: JsonSchema = {
  type: ['string', 'null'],
  minLength: 0,
  maxLength: 255,
  pattern: DESCRIPTION_PATTERN,
};
export const positiveInteger = integerOrString(1);
export const nonNegativeInteger = integerOrString(0);
/** RFC 952-ish host name of a server (2.90 `hostname`). */
export const hostname: JsonSchema = {
  type: 'string',
  minLength: 2,
  maxLength: 63,
  pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$',
};
/** A compute host name; underscores allowed as real deployments have them. */
export const fqdn: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^[a-zA-Z0-9-._]*$',
};
export const uuid: JsonSchema = { type: 'string', pattern: UUID_PATTERN };
export const imageIdOrEmpty: JsonSchema = {
  oneOf: [uuid, { type: 'string', maxLength: 0 }],
};
export const volumeType: JsonSchema = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
/** Passwords are not stored and may be anything. */
export const adminPassword: JsonSchema = { type: 'string' };
export const flavorRef: JsonSchema = { type: ['string', 'integer'], minLength: 1 };
export const metadata: JsonSchema = {
  type: 'object',
  patternProperties: { [METADATA_KEY_PATTERN]: { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
export const metadataWithNull: JsonSchema = {
  type: 'object',
  patternProperties: { [METADATA_KEY_PATTERN]: { type: ['string', 'null'], maxLength: 255 } },
  additionalProperties: false,
};
export const ipAddress: JsonSchema = { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] };
export const ipv4: JsonSchema = { type: 'string', format: 'ipv4' };
export const ipv6: JsonSchema = { type: 'string', format: 'ipv6' };
export const volumeSize = integerOrString(1, MAX_INT);
export const flavorParamPositive = integerOrString(1, MAX_INT);
export const flavorParamNonNegative = integerOrString(0, MAX_INT);
export const diskConfig: JsonSchema = { type: 'string', enum: ['AUTO', 'MANUAL'] };
export const userData: JsonSchema = { type: 'string', pattern: BASE64_PATTERN, maxLength: 65535 };
export const personality: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: { path: { type: 'string' }, contents: { type: 'string', pattern: BASE64_PATTERN } },
    additionalProperties: false,
  },
};
export const tag: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_TAG_LENGTH,
  pattern: '^[^,/]*$',
};
export const tags: JsonSchema = { type: 'array', items: tag, maxItems: MAX_TAG_COUNT };
export const trustedCerts: JsonSchema = {
  type: ['array', 'null'],
  minItems: 1,
  maxItems: 50,
  uniqueItems: true,
  items: { type: 'string', minLength: 1 },
};

/** An object with exactly these properties allowed (Nova's additionalProperties: False). */
export function strict(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

/** The usual body shape `{"<key>": <inner>}` with nothing else beside it. */
export function wrap(key: string, inner: JsonSchema): JsonSchema {
  return strict({ [key]: inner }, [key]);
}
