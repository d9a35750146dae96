// Versioned, compact msgpack encoding of token claims in the style of keystone's Fernet payloads.
import { decode, encode } from '@msgpack/msgpack';
import { InvalidToken } from './errors.ts';

export type TokenScope =
  | { kind: 'unscoped' }
  | { kind: 'project'; projectId: string }
  | { kind: 'domain'; domainId: string }
  | { kind: 'system' }; // system scope "all"

export interface TokenClaims {
  userId: string;
  /** Authentication methods, e.g. ['password'] or ['password', 'totp']; unpacked in METHOD_BITS order. */
  methods: string[];
  /** Epoch milliseconds. */
  issuedAt: number;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Own audit id, then the parent's when rescoped: 22-char urlsafe base64 of 16 random bytes. */
  auditIds: string[];
  scope: TokenScope;
  appCredId?: string;
  /** The trust a trust-scoped token was issued from (its scope is the trust's project; userId is the trustee). */
  trustId?: string;
}

/** Bit assigned to each authentication method in the packed methods bitmask. */
export const METHOD_BITS: Readonly<Record<string, number>> = Object.freeze({
  password: 1,
  token: 2,
  application_credential: 4,
  totp: 8,
  external: 16,
  mapped: 32,
  oauth1: 64,
});
const METHOD_ENTRIES = Object.freeze(Object.entries(METHOD_BITS));
const KNOWN_METHOD_MASK = 127;

/** Payload shape versions (numbered as keystone's: unscoped 0, domain 1, project 2, trust 3, system 8, app cred 9). */
const UNSCOPED = 0;
const DOMAIN_SCOPED = 1;
const PROJECT_SCOPED = 2;
const TRUST_SCOPED = 3;
const SYSTEM_SCOPED = 8;
const APP_CRED_SCOPED = 9;

const UUID_HEX = /^[0-9a-f]{32}$/;
const AUDIT_ID = /^[A-Za-z0-9_-]{22}$/;

// Ids are [true, 16 raw bytes] for lowercase hex UUIDs, else [false, string], as keystone does.
type PackedId = [true, Uint8Array] | [false, string];

function packId(id: string, field: string): PackedId {
  if (typeof id !== 'string' || id === '') throw new TypeError(`${field} must be a non-empty string`);
  return UUID_HEX.test(id) ? [true, Buffer.from(id, 'hex')] : [false, id];
}

function packMethods(methods: readonly string[]): number {
  let mask = 0;
  for (const method of methods) {
    const bit = Object.hasOwn(METHOD_BITS, method) ? METHOD_BITS[method] : undefined;
    if (bit === undefined) throw new TypeError(`unknown authentication method: ${method}`);
    mask |= bit;
  }
  if (mask === 0) throw new TypeError('a token needs at least one authentication method');
  return mask;
}

function packAuditId(auditId: string): Buffer {
  const bytes =
    typeof auditId === 'string' && AUDIT_ID.test(auditId) ? Buffer.from(auditId, 'base64url') : undefined;
  if (bytes === undefined || bytes.toString('base64url') !== auditId) {
    throw new TypeError('an audit id must be 22 urlsafe base64 chars encoding 16 bytes');
  }
  return bytes;
}

function packTime(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${field} must be an integer of epoch milliseconds`);
  return value;
}

/** Packs claims as [version, userId, methods, ...scope ids, issuedAt, lifetimeMs, auditIds, (appCredId | trustId)]. */
export function packClaims(claims: TokenClaims): Uint8Array {
  const issuedAt = packTime(claims.issuedAt, 'issuedAt');
  const lifetime = packTime(claims.expiresAt, 'expiresAt') - issuedAt;
  const auditIds = claims.auditIds;
  if (!Array.isArray(auditIds) || auditIds.length < 1 || auditIds.length > 2) {
    throw new TypeError('a token needs one or two audit ids');
  }
  const user = packId(claims.userId, 'userId');
  const methods = packMethods(claims.methods);
  const tail = [issuedAt, lifetime, auditIds.map(packAuditId)];
  const scope = claims.scope;
  if (claims.trustId !== undefined) {
    if (claims.appCredId !== undefined)
      throw new TypeError('a token cannot carry both a trust and an application credential');
    if (scope.kind !== 'project') throw new TypeError('trust tokens must be project scoped');
    const project = packId(scope.projectId, 'projectId');
    return encode([TRUST_SCOPED, user, methods, project, ...tail, packId(claims.trustId, 'trustId')]);
  }
  if (claims.appCredId !== undefined) {
    if (scope.kind !== 'project') throw new TypeError('application credential tokens must be project scoped');
    const project = packId(scope.projectId, 'projectId');
    return encode([APP_CRED_SCOPED, user, methods, project, ...tail, packId(claims.appCredId, 'appCredId')]);
  }
  switch (scope.kind) {
    case 'unscoped':
      return encode([UNSCOPED, user, methods, ...tail]);
    case 'domain':
      return encode([DOMAIN_SCOPED, user, methods, packId(scope.domainId, 'domainId'), ...tail]);
    case 'project':
      return encode([PROJECT_SCOPED, user, methods, packId(scope.projectId, 'projectId'), ...tail]);
    case 'system':
      return encode([SYSTEM_SCOPED, user, methods, ...tail]);
    default:
      throw new TypeError(`unknown token scope: ${(scope as { kind: unknown }).kind}`);
  }
}

function malformed(what: string): never {
  throw new InvalidToken(`malformed token payload: ${what}`);
}

function unpackId(value: unknown): string {
  if (Array.isArray(value) && value.length === 2) {
    const [isUuid, id] = value as unknown[];
    if (isUuid === true && id instanceof Uint8Array && id.length === 16) {
      return Buffer.from(id.buffer, id.byteOffset, 16).toString('hex');
    }
    if (isUuid === false && typeof id === 'string' && id !== '') return id;
  }
  return malformed('id');
}

function unpackMethods(value: unknown): string[] {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value <= 0 ||
    (value & ~KNOWN_METHOD_MASK) !== 0
  ) {
    return malformed('methods');
  }
  return METHOD_ENTRIES.filter(([, bit]) => (value & bit) !== 0).map(([name]) => name);
}

function unpackAuditIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2) return malformed('audit ids');
  return value.map((id: unknown) => {
    if (!(id instanceof Uint8Array) || id.length !== 16) return malformed('audit id');
    return Buffer.from(id.buffer, id.byteOffset, 16).toString('base64url');
  });
}

function unpackTimes(issuedAt: unknown, lifetime: unknown): { issuedAt: number; expiresAt: number } {
  if (typeof issuedAt !== 'number' || !Number.isSafeInteger(issuedAt)) return malformed('issuedAt');
  if (typeof lifetime !== 'number' || !Number.isSafeInteger(lifetime)) return malformed('lifetime');
  const expiresAt = issuedAt + lifetime;
  if (!Number.isSafeInteger(expiresAt)) return malformed('expiresAt');
  return { issuedAt, expiresAt };
}

function shape(fields: unknown[], length: number): unknown[] {
  if (fields.length !== length) malformed(`version ${String(fields[0])} needs ${length} fields`);
  return fields;
}

/** Unpacks claims; throws InvalidToken on malformed msgpack, unknown versions or invalid fields. */
export function unpackClaims(bytes: Uint8Array): TokenClaims {
  let fields: unknown;
  try {
    fields = decode(bytes);
  } catch (err) {
    throw new InvalidToken('malformed token payload: not msgpack', { cause: err });
  }
  if (!Array.isArray(fields) || fields.length < 6) return malformed('not a payload array');
  const base = (f: unknown[], scope: TokenScope, at: number): TokenClaims => ({
    userId: unpackId(f[1]),
    methods: unpackMethods(f[2]),
    ...unpackTimes(f[at], f[at + 1]),
    auditIds: unpackAuditIds(f[at + 2]),
    scope,
  });
  switch (fields[0]) {
    case UNSCOPED:
      return base(shape(fields, 6), { kind: 'unscoped' }, 3);
    case SYSTEM_SCOPED:
      return base(shape(fields, 6), { kind: 'system' }, 3);
    case DOMAIN_SCOPED:
      return base(shape(fields, 7), { kind: 'domain', domainId: unpackId(fields[3]) }, 4);
    case PROJECT_SCOPED:
      return base(shape(fields, 7), { kind: 'project', projectId: unpackId(fields[3]) }, 4);
    case TRUST_SCOPED: {
      const f = shape(fields, 8);
      return { ...base(f, { kind: 'project', projectId: unpackId(f[3]) }, 4), trustId: unpackId(f[7]) };
    }
    case APP_CRED_SCOPED: {
      const f = shape(fields, 8);
      return { ...base(f, { kind: 'project', projectId: unpackId(f[3]) }, 4), appCredId: unpackId(f[7]) };
    }
    default:
      return malformed('unknown version');
  }
}
